#pragma once
// A bounds-checked reader of the first DTLS record of a datagram when it carries a whole
// ClientHello (RFC 6347 §4.1 record, §4.2.2 handshake header, §4.2.1 ClientHello with cookie;
// RFC 5246 §7.4.1.2 fields and extensions). srtpo-cp reads the peer's use_srtp offer (RFC 5764
// §4.1.1) before any TLS stack sees the datagram, to pick the stack that can negotiate the
// profile we want (ADR 0014). It never answers: whatever it cannot read goes to OpenSSL.

#include <srtpo/cp/dtls/srtp_profile.hpp>
#include <srtpo/engine/result.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <span>

namespace srtpo::cp::dtls {

/// What the stack choice needs from a ClientHello.
struct client_hello {
    std::array<std::byte, 32> random{};  ///< ClientHello.random: tells a retransmission from a new association
    std::optional<use_srtp_ext> use_srtp; ///< absent if the extension is not there
};

/// Parses the first record of `datagram` as an unfragmented ClientHello. Errors
/// (invalid_argument, with the field that failed): not a handshake record, epoch != 0, record or
/// handshake length past the end, not a ClientHello, a fragment (fragment_offset != 0 or
/// fragment_length != length), any vector running past its parent, a malformed or repeated
/// use_srtp extension. Reads only inside `datagram`. Thread-safe, pure.
engine::result<client_hello> parse_client_hello(std::span<const std::byte> datagram);

} // namespace srtpo::cp::dtls
