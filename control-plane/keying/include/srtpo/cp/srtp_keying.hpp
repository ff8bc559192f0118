#pragma once
// What every keying protocol (SDES, DTLS-SRTP, ZRTP, MIKEY) hands to srtpo-cp: the suite and the
// two master keys of one media leg. srtpo-cp turns it into two flows in the session table
// (in = the peer's write key, out = ours), so the protocols never see the table and the table
// never sees a protocol. Master keys stay in srtpo-cp (ARCHITECTURE.md): only derived session
// keys reach shared memory.

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp {

/// One master key and what may come with it.
struct srtp_master {
    engine::key_salt_buffer key_salt;  ///< master key || master salt, wiped on destruction
    std::vector<std::byte> mki;        ///< empty, or 1..128 octets (RFC 3711 §3.1)
    uint64_t lifetime = 0;             ///< packets; 0 = the RFC 3711 maximum
};

/// Session parameters that change the transform (RFC 4568 §6.3; MIKEY SP, RFC 3830 §6.10.1).
struct srtp_params {
    bool unencrypted_srtp = false;
    bool unencrypted_srtcp = false;
    bool unauthenticated_srtp = false;
    uint32_t initial_roc = 0;          ///< MIKEY carries the ROC in its CS map (RFC 3830 §6.1.1)
};

/// The outcome of a completed key agreement for one leg.
/// Thread-safety: a value type. Ownership: holds key material; it wipes itself.
struct srtp_keying {
    engine::suite suite = engine::suite::aes_cm_128_hmac_sha1_80;
    srtp_master local;    ///< our write key: protects what we send (the "out" side of a flow)
    srtp_master remote;   ///< the peer's write key: unprotects what arrives (the "in" side)
    srtp_params params;
    std::string protocol; ///< "sdes", "dtls-srtp", "zrtp" or "mikey", for logs and the API
};

} // namespace srtpo::cp
