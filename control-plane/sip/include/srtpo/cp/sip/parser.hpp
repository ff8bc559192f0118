#pragma once
// SIP message parser (RFC 3261 §7, §25.1 grammar) for one complete message: a UDP datagram, or
// one frame cut from a TCP/TLS stream by stream_framer. Strict where a B2BUA would otherwise
// forward garbage (start line, required headers, duplicated single headers, Content-Length),
// lenient where RFC 3261 asks for it (folding, whitespace around ':', compact names, unknown
// headers and methods). RFC 4475 is the test corpus.

#include <srtpo/cp/sip/message.hpp>

#include <cstddef>
#include <string_view>

namespace srtpo::cp::sip {

/// How the message arrived: framing rules differ (RFC 3261 §18.3).
enum class transport_kind : uint8_t {
    datagram, ///< UDP: Content-Length optional; bytes past it are discarded
    stream,   ///< TCP/TLS: Content-Length mandatory and must match the frame exactly
};

struct parse_limits {
    std::size_t max_message = 65535;   ///< whole message (RFC 3261 §18.1.1 bounds UDP at 65535)
    std::size_t max_headers = 256;     ///< header lines after unfolding
    std::size_t max_header_line = 8192;
};

/// Parses one SIP message.
/// Errors, each with a message naming the rule broken (never echoing the body):
///  - errc::invalid_argument: malformed start line (extra/missing SP, bad method token, a
///    Request-URI with spaces, '<' or a SIP URI headers part, status code not 3 digits or
///    outside 100..699), header line without ':' or with a bad name, missing
///    To/From/Call-ID/CSeq/Via (Max-Forwards is checked when present, not required), a single
///    header repeated, malformed Via/From/To/Contact/Route/Record-Route, unparseable or
///    mismatched CSeq (number over 2^31-1, method differing from the request's), Max-Forwards
///    over 255, bad or negative Content-Length, a body shorter than Content-Length (or longer,
///    on a stream), a body without Content-Type, too many/too long headers. The daemon answers
///    these with 400 when it can (make_error_response_for_unparseable);
///  - errc::unsupported: SIP-Version other than 2.0 (answer 505 Version Not Supported, RFC 3261 §21.5.6).
/// Thread-safety: pure. Ownership: `bytes` is read during the call only.
result<message> parse_message(std::string_view bytes, transport_kind kind = transport_kind::stream,
                              const parse_limits& limits = {});

/// RFC 3261 §21 response code the daemon should send for a parse error: 505 for an unsupported
/// version, 400 otherwise. Thread-safety: pure.
int response_code_for(const error& e) noexcept;

} // namespace srtpo::cp::sip
