#pragma once
// Building responses from a request (RFC 3261 §8.2.6): copy Via (all values, in order), From,
// To (adding our tag unless it has one or the code is 100), Call-ID, CSeq; and the error
// responses srtpo-cp sends: 400 for a bad request, 404/503 for routing failures, 488 with a
// Warning (§20.43) when no media could be accepted, 503 with Retry-After (§20.33) on overload.
// Thread-safety: every function here is pure. Ownership: results are new messages that copy
// what they need from the request.

#include <srtpo/cp/sip/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srtpo::cp::sip {

/// Standard reason phrase of a code (RFC 3261 §21), "Unknown" for an unlisted one.
std::string_view reason_phrase(int code) noexcept;

/// Response to `request` (RFC 3261 §8.2.6.2). `to_tag` is added to To when the request's To
/// has no tag and code > 100. Thread-safety: pure. Ownership: copies what it needs.
message make_response(const message& request, int code, std::string_view to_tag = {},
                      std::string_view reason = {});

/// RFC 3261 §20.43 warn-code values srtpo-cp uses.
enum class warn_code : uint16_t {
    incompatible_transport = 302,
    incompatible_media_format = 305, ///< e.g. no common SRTP crypto-suite
    attribute_not_understood = 306,  ///< e.g. an SDES session parameter we cannot honour
    session_description_parameter_not_understood = 307,
    miscellaneous = 399,
};

/// Formats a warning-value: warn-code SP warn-agent SP quoted warn-text; quotes and
/// backslashes in the text are escaped and control characters dropped (§25.1 quoted-string).
std::string warning_value(warn_code code, std::string_view agent, std::string_view text);

/// 488 Not Acceptable Here with a Warning header (RFC 3261 §21.4.26: "SHOULD include a Warning").
message make_488(const message& request, std::string_view to_tag, warn_code code,
                 std::string_view agent, std::string_view text);

/// 503 Service Unavailable with Retry-After in seconds (RFC 3261 §21.5.4).
message make_503(const message& request, std::string_view to_tag, uint32_t retry_after_s);

/// For a message that did not parse: a 400 (or 505) built from whatever Via, From, To, Call-ID
/// and CSeq lines can be recovered from the raw bytes, with the parse error as reason text.
/// nullopt when the bytes are not a request or those headers cannot be recovered: such input
/// is dropped (issue 6: "400, or dropped when unparseable"). Thread-safety: pure.
std::optional<message> make_error_response_for_unparseable(std::string_view raw, const error& e,
                                                           std::string_view to_tag);

} // namespace srtpo::cp::sip
