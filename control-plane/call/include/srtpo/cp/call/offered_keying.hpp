#pragma once
// Which keying a peer's SDP asks for on one media section, read from what it carries:
//   a=crypto (RFC 4568)                         -> sdes
//   a=key-mgmt:mikey (RFC 4567, media or session) -> mikey
//   a=fingerprint with a UDP/TLS/RTP/SAVP(F) proto (RFC 5763/5764, media or session) -> dtls_srtp
//   a=zrtp-hash (RFC 6189 §8)                   -> zrtp
//   none of these on RTP/AVP(F)                  -> plain
// RTP/SAVP(F) with no keying attribute is refused (nothing to key it with).
//
// Thread-safety: pure.

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/cp/call/media_handler.hpp>
#include <srtpo/cp/sdp/session_description.hpp>

#include <string_view>

namespace srtpo::cp::call {

/// The keying method the SDP offers or answers on media section `m`. SDES wins over MIKEY when
/// both appear (RFC 4567 §4.1 lets an offerer give alternatives; we answer the first we
/// implement). Errors: unsupported "RTP/SAVP without a=crypto, a=key-mgmt or a=fingerprint".
api::api_result<keying_method> offered_keying(const sdp::session_description& sd, std::size_t m);

/// The name used in the API and in logs: "plain", "sdes", "dtls-srtp", "zrtp", "mikey", "same".
std::string_view to_string(keying_method k) noexcept;
/// The inverse of to_string; false for an unknown name.
bool parse_keying_method(std::string_view name, keying_method& out) noexcept;

} // namespace srtpo::cp::call
