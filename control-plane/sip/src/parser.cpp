// SIP message parser (RFC 3261 §7.1-7.5, §25.1). One complete message in, a message or a precise
// error out. The checks are the ones a B2BUA relies on before it copies anything into the
// other leg; RFC 4475's torture messages are the test corpus (tests/sip/data/rfc4475).

#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>

#include "grammar.hpp"

#include <cctype>
#include <optional>
#include <string>

namespace srtpo::cp::sip {
namespace {

error bad(std::string msg) { return engine::make_error(errc::invalid_argument, std::move(msg)); }

using grammar::is_digit;
using grammar::is_token;

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1; "SIP" is case-insensitive as ABNF literals
// are). Returns nullopt when malformed, false for a well-formed version other than 2.0.
std::optional<bool> check_version(std::string_view v) {
    if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return std::nullopt;
    auto rest = v.substr(4);
    auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return std::nullopt;
    for (std::size_t i = 0; i < rest.size(); ++i)
        if (i != dot && !is_digit(rest[i])) return std::nullopt;
    return rest == "2.0";
}

result<void> parse_request_line(std::string_view line, message& m) {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF: exactly two single spaces
    // (RFC 4475 §3.1.2.5/3.1.2.6/3.1.2.7: LWS in the URI, extra or trailing spaces are errors).
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return bad("request line is not 'Method SP Request-URI SP SIP-Version'");
    if (line.find(' ', sp2 + 1) != std::string_view::npos)
        return bad("request line has more than two spaces (whitespace in Request-URI or after version)");
    auto method = line.substr(0, sp1);
    auto uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto version = line.substr(sp2 + 1);
    if (!is_token(method)) return bad("request method is not a token");
    auto vok = check_version(version);
    if (!vok) return bad("malformed SIP-Version in request line");
    if (!*vok) return engine::make_error(errc::unsupported, "SIP version not supported (only SIP/2.0)");
    // Request-URI = SIP-URI / SIPS-URI / absoluteURI: a scheme, no '<', '>', '"' or controls.
    auto colon = uri.find(':');
    if (uri.empty() || colon == std::string_view::npos || colon == 0)
        return bad("Request-URI has no scheme");
    for (std::size_t i = 0; i < colon; ++i)
        if (!(std::isalnum(static_cast<unsigned char>(uri[i])) || uri[i] == '+' || uri[i] == '-' || uri[i] == '.'))
            return bad("Request-URI scheme is malformed (angle brackets are not allowed there)");
    if (!std::isalpha(static_cast<unsigned char>(uri[0]))) return bad("Request-URI scheme is malformed");
    for (char c : uri)
        if (static_cast<unsigned char>(c) < 0x21 || c == '<' || c == '>' || c == '"' || c == 0x7f)
            return bad("Request-URI contains a character that must be escaped");
    // RFC 3261 §19.1.1 table 1: a SIP/SIPS Request-URI carries no headers component
    // (RFC 4475 §3.1.2.11 escruri).
    if ((iequals(uri.substr(0, colon), "sip") || iequals(uri.substr(0, colon), "sips")) &&
        uri.find('?', uri.rfind('@') == std::string_view::npos ? colon : uri.rfind('@')) != std::string_view::npos)
        return bad("SIP Request-URI carries a headers component ('?')");
    m.method = std::string(method);
    m.request_uri = std::string(uri);
    return {};
}

result<void> parse_status_line(std::string_view line, message& m) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF; Status-Code = 3DIGIT.
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return bad("status line has no status code");
    auto vok = check_version(line.substr(0, sp1));
    if (!vok) return bad("malformed SIP-Version in status line");
    if (!*vok) return engine::make_error(errc::unsupported, "SIP version not supported (only SIP/2.0)");
    auto rest = line.substr(sp1 + 1);
    if (rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) ||
        (rest.size() > 3 && rest[3] != ' '))
        return bad("status code is not three digits");
    const int code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (code < 100 || code > 699) return bad("status code outside 100..699");
    m.status_code = code;
    m.reason = rest.size() > 4 ? std::string(rest.substr(4)) : std::string{};
    for (char c : m.reason)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
            return bad("reason phrase contains a control character");
    return {};
}

// Content-Length = 1*DIGIT (§20.14). No sign, no spaces inside; bounded by the message size.
result<std::size_t> parse_content_length(std::string_view v, std::size_t max) {
    v = trim(v);
    if (v.empty()) return bad("Content-Length is empty");
    std::size_t n = 0;
    for (char c : v) {
        if (!is_digit(c)) return bad("Content-Length is not a non-negative decimal number");
        n = n * 10 + static_cast<std::size_t>(c - '0');
        if (n > max) return bad("Content-Length is larger than the message size limit");
    }
    return n;
}

result<void> check_headers(const message& m) {
    for (const char* h : {"To", "From", "Call-ID", "CSeq", "Via"})
        if (!m.header(h)) return bad(std::string("missing mandatory header ") + h + " (RFC 3261 §8.1.1)");
    for (const auto& h : m.headers)
        if (is_single_header(h.name) && m.header_count(h.name) > 1)
            return bad("header " + h.name + " appears more than once");
    for (auto v : m.header_values("Via")) {
        auto r = parse_via(v);
        if (!r) return r.err();
    }
    for (const char* h : {"From", "To"}) {
        auto r = parse_name_addr(*m.header(h));
        if (!r) return bad(std::string(h) + ": " + r.err().message);
        if (r->uri == "*") return bad(std::string(h) + ": '*' is only allowed in Contact");
    }
    for (auto v : m.header_values("Contact")) {
        auto r = parse_name_addr(v);
        if (!r) return bad("Contact: " + r.err().message);
    }
    for (const char* h : {"Route", "Record-Route"})
        for (auto v : m.header_values(h)) {
            auto r = parse_name_addr(v);
            if (!r || r->uri == "*") return bad(std::string(h) + ": not a name-addr");
        }
    auto cs = parse_cseq(*m.header("CSeq"));
    if (!cs) return cs.err();
    // §8.2 / RFC 4475 §3.1.2.16: the CSeq method must match the request method.
    if (m.is_request() && cs->method != m.method) return bad("CSeq method does not match the request method");
    if (trim(*m.header("Call-ID")).empty()) return bad("Call-ID is empty");
    if (const auto* mf = m.header("Max-Forwards")) {
        auto v = trim(*mf);
        // 1*DIGIT (§20.22), leading zeros allowed (RFC 4475 §3.1.1.1 sends "0068").
        if (v.empty()) return bad("Max-Forwards is not 0..255");
        unsigned n = 0;
        for (char c : v) {
            if (!is_digit(c)) return bad("Max-Forwards is not a decimal number");
            n = n * 10 + static_cast<unsigned>(c - '0');
            if (n > 255) return bad("Max-Forwards is not 0..255");
        }
        if (n > 255) return bad("Max-Forwards is not 0..255");
    }
    if (const auto* e = m.header("Expires")) {
        for (char c : trim(*e))
            if (!is_digit(c)) return bad("Expires is not delta-seconds");
    }
    return {};
}

} // namespace

int response_code_for(const error& e) noexcept { return e.code == errc::unsupported ? 505 : 400; }

result<message> parse_message(std::string_view bytes, transport_kind kind, const parse_limits& limits) {
    if (bytes.size() > limits.max_message) return bad("message larger than the size limit");
    // RFC 3261 §7.5: implementations SHOULD ignore CRLFs before the start line.
    while (bytes.size() >= 2 && bytes[0] == '\r' && bytes[1] == '\n') bytes.remove_prefix(2);
    auto hdr_end = bytes.find("\r\n\r\n");
    if (hdr_end == std::string_view::npos) return bad("no empty line after the header section");
    const std::string_view head = bytes.substr(0, hdr_end + 2); // keeps the last header's CRLF
    std::string_view body = bytes.substr(hdr_end + 4);

    message m;
    std::size_t pos = head.find("\r\n");
    const std::string_view start = head.substr(0, pos);
    if (start.empty()) return bad("empty start line");
    for (char c : start)
        if (c == '\r' || c == '\n' || c == '\0') return bad("bare CR, LF or NUL in the start line");
    auto sl = (start.size() >= 4 && iequals(start.substr(0, 4), "SIP/")) ? parse_status_line(start, m)
                                                                          : parse_request_line(start, m);
    if (!sl) return sl.err();

    pos += 2;
    while (pos < head.size()) {
        auto eol = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.size() > limits.max_header_line) return bad("header line longer than the limit");
        // Control characters other than CR/LF may appear as quoted-pairs (RFC 3261 §25.1,
        // RFC 4475 §3.1.1.2), so only a bare CR or LF ends a line badly.
        for (char c : line)
            if (c == '\r' || c == '\n') return bad("bare CR or LF in a header line");
        if (line.front() == ' ' || line.front() == '\t') {
            // Folding (§7.3.1): a continuation line joins the previous value with one SP.
            if (m.headers.empty()) return bad("continuation line before the first header");
            auto& v = m.headers.back().value;
            auto t = trim(line);
            if (!t.empty()) {
                if (!v.empty()) v.push_back(' ');
                v.append(t);
            }
            if (v.size() > limits.max_header_line) return bad("header line longer than the limit");
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return bad("header line without ':'");
        auto name = trim(line.substr(0, colon));
        if (!is_token(name)) return bad("header name is not a token");
        if (m.headers.size() >= limits.max_headers) return bad("more header lines than the limit");
        m.headers.push_back({canonical_header_name(name), std::string(trim(line.substr(colon + 1)))});
    }

    auto hc = check_headers(m);
    if (!hc) return hc.err();

    // Body framing (§18.3, §20.14).
    if (const auto* cl = m.header("Content-Length")) {
        auto n = parse_content_length(*cl, limits.max_message);
        if (!n) return n.err();
        if (*n > body.size()) return bad("body shorter than Content-Length");
        if (kind == transport_kind::stream && *n < body.size())
            return bad("bytes after the Content-Length body in a stream frame");
        body = body.substr(0, *n);
    } else if (kind == transport_kind::stream) {
        return bad("Content-Length missing (mandatory on stream transports, RFC 3261 §18.3)");
    }
    // §20.15: Content-Type MUST be present when the body is not empty.
    if (!body.empty() && !m.header("Content-Type")) return bad("non-empty body without Content-Type");
    m.body = std::string(body);
    return m;
}

} // namespace srtpo::cp::sip
