#pragma once
// RFC 4567 §3.1: the SDP attribute that carries a MIKEY message,
//   key-mgmt-attribute = "key-mgmt:" prtcl-id SP keymgmt-data
//   prtcl-id = "mikey", keymgmt-data = base64 of the MIKEY message (RFC 4567 §4).
// Session or media level is the SDP writer's business; this file does the attribute value.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/engine/result.hpp>

#include <span>
#include <string>
#include <string_view>

namespace srtpo::cp::mikey {

/// "mikey <base64>" (the attribute value, after "key-mgmt:"). Thread-safe, pure.
std::string key_mgmt_value(std::span<const uint8_t> msg);
/// "a=key-mgmt:mikey <base64>" (no line end). Thread-safe, pure.
std::string key_mgmt_line(std::span<const uint8_t> msg);

/// The MIKEY message inside any of: "a=key-mgmt:mikey B64", "key-mgmt:mikey B64", "mikey B64",
/// or bare base64; surrounding white space and a CRLF are ignored, prtcl-id is matched
/// case-insensitively. Thread-safe, pure.
/// Errors (invalid_argument): another prtcl-id, no data, characters outside the RFC 4648 §4
/// alphabet, bad padding or length, non-zero pad bits.
engine::result<bytes> parse_key_mgmt(std::string_view text);

/// RFC 4648 §4 base64 with padding. Thread-safe, pure.
std::string base64_encode(std::span<const uint8_t> in);
/// Strict RFC 4648 §4 decoding (padding required). Errors as parse_key_mgmt.
engine::result<bytes> base64_decode(std::string_view in);

} // namespace srtpo::cp::mikey
