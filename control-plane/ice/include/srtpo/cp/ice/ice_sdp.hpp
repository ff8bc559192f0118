#pragma once
// The SDP side of ICE-lite (RFC 8839): our a=ice-lite, a=ice-ufrag, a=ice-pwd and host
// candidate lines, and the checks on the peer's credentials.

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::ice {

/// Short-term credentials of one side (RFC 8445 §5.3).
struct ice_credentials {
    std::string ufrag;
    std::string pwd; ///< a secret: never log it
};

/// Fresh random credentials: an 8-character ufrag (48 bits; RFC 8445 §5.3 asks for >= 24) and
/// a 24-character password (144 bits; >= 128 required), ice-chars from RAND_bytes.
/// Errors: backend_failure if the RNG fails. Thread-safe.
engine::result<ice_credentials> generate_credentials();

/// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4); ufrag 4..256, pwd 22..256 characters.
/// Thread-safe, pure.
bool valid_ufrag(std::string_view s) noexcept;
bool valid_pwd(std::string_view s) noexcept;

/// A host candidate for the engine's media address (RFC 8445 §5.1.1.1).
struct host_candidate {
    std::string address;        ///< IPv4 or IPv6 literal
    uint16_t port = 0;
    uint8_t component = 1;      ///< 1 = RTP (or RTP+RTCP with rtcp-mux), 2 = RTCP
    std::string foundation = "1";
    uint16_t local_preference = 65535;
};

/// RFC 8445 §5.1.2.1: 2^24 * type preference (126 for host) + 2^8 * local preference +
/// (256 - component id). Thread-safe.
constexpr uint32_t candidate_priority(uint8_t component, uint16_t local_preference = 65535,
                                      uint8_t type_preference = 126) noexcept {
    return (uint32_t{type_preference} << 24) + (uint32_t{local_preference} << 8) + (256u - component);
}

/// The session-level line: "a=ice-lite" (RFC 8839 §5.3). Thread-safe.
std::string ice_lite_session_line();

/// Media-level lines, without CRLF: a=ice-ufrag, a=ice-pwd, then one a=candidate per host
/// candidate ("a=candidate:1 1 UDP 2130706431 192.0.2.10 40000 typ host", RFC 8839 §5.1).
/// Errors: invalid_argument for bad credentials, a non-literal address, port 0, component 0,
/// or a foundation that is not 1..32 ice-chars. Thread-safe, pure. Ownership: the result
/// holds the password; the caller puts it in its SDP and must not log it.
engine::result<std::vector<std::string>> ice_media_lines(const ice_credentials& ours,
                                                          std::span<const host_candidate> candidates);

} // namespace srtpo::cp::ice
