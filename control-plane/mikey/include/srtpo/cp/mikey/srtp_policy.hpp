#pragma once
// SP (RFC 3830 §6.10.1) <-> engine suites. MIKEY describes SRTP as a list of parameters;
// the engine implements a fixed set of suites (srtpo/engine/suite.hpp). This file maps one to
// the other and refuses, naming the parameter, whatever the engine cannot do.

#include <srtpo/cp/mikey/policy.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

namespace srtpo::cp::mikey {

/// What an SRTP crypto session runs: a suite and the on/off switches of §6.10.1.
struct srtp_policy {
    engine::suite suite = engine::suite::aes_cm_128_hmac_sha1_80;
    bool unencrypted_srtp = false;
    bool unencrypted_srtcp = false;
    bool unauthenticated_srtp = false;
    bool operator==(const srtp_policy&) const = default;
};

/// The SP payload that states `p` in full (every parameter written, none left to defaults).
/// Errors: unknown_suite. Thread-safe, pure.
engine::result<sp_payload> sp_from_policy(uint8_t policy_no, const srtp_policy& p);

/// The policy an SP payload asks for; absent parameters take the §6.10.1 defaults (AES-CM-128,
/// HMAC-SHA-1 with a 20-octet key and an 80-bit tag, 112-bit salt, KDR 0, all protection on).
/// Errors: errc::unsupported with a message naming the parameter and value the engine does not
/// support (KDR != 0, FEC order != 0, prefix length != 0, NULL authentication, F8 other than
/// 128/80, an unknown algorithm, key/salt/tag lengths that match no suite, SRTP authentication
/// off with AEAD); errc::invalid_argument for a parameter longer than its type allows.
/// Thread-safe, pure.
engine::result<srtp_policy> policy_from_sp(const sp_payload& sp);

/// The §6.10.1 defaults as an srtp_policy (used when a crypto session names no SP payload).
srtp_policy default_policy() noexcept;

} // namespace srtpo::cp::mikey
