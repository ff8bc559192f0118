// Responses built from requests (RFC 3261 §8.2.6) and the error responses srtpo-cp sends.

#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>

#include <array>
#include <utility>

namespace srtpo::cp::sip {
namespace {

constexpr std::array<std::pair<int, std::string_view>, 40> reasons{{
    {100, "Trying"}, {180, "Ringing"}, {181, "Call Is Being Forwarded"}, {182, "Queued"},
    {183, "Session Progress"}, {200, "OK"}, {300, "Multiple Choices"}, {301, "Moved Permanently"},
    {302, "Moved Temporarily"}, {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
    {404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {410, "Gone"},
    {413, "Request Entity Too Large"}, {414, "Request-URI Too Long"}, {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"}, {420, "Bad Extension"}, {421, "Extension Required"},
    {423, "Interval Too Brief"}, {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"}, {482, "Loop Detected"}, {483, "Too Many Hops"},
    {484, "Address Incomplete"}, {486, "Busy Here"}, {487, "Request Terminated"},
    {488, "Not Acceptable Here"}, {491, "Request Pending"}, {500, "Server Internal Error"},
    {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
    {504, "Server Time-out"}, {505, "Version Not Supported"},
}};

// Adds the tag to a To value that has none; leaves it alone when parsing fails (the parser
// already validated To for any message that reached here).
std::string tagged_to(const std::string& to, std::string_view tag) {
    auto na = parse_name_addr(to);
    if (!na || !na->tag().empty() || tag.empty()) return to;
    set_param(na->params, "tag", std::string(tag));
    return to_string(*na);
}

} // namespace

std::string_view reason_phrase(int code) noexcept {
    for (const auto& [c, r] : reasons)
        if (c == code) return r;
    return "Unknown";
}

message make_response(const message& request, int code, std::string_view to_tag, std::string_view reason) {
    message r;
    r.status_code = code;
    r.reason = std::string(reason.empty() ? reason_phrase(code) : reason);
    // §8.2.6.2: Via (all, in order), From, Call-ID, CSeq copied; To copied, tag added if absent
    // (not on 100 Trying, §8.2.6.1 leaves it out there).
    for (const auto& h : request.headers)
        if (h.name == "Via") r.headers.push_back(h);
    for (const char* n : {"From", "To", "Call-ID", "CSeq"}) {
        const auto* v = request.header(n);
        if (!v) continue;
        r.add_header(n, (std::string_view(n) == "To" && code > 100) ? tagged_to(*v, to_tag) : *v);
    }
    if (code == 100)
        if (const auto* ts = request.header("Timestamp")) r.add_header("Timestamp", *ts); // §8.2.6.1
    return r;
}

std::string warning_value(warn_code code, std::string_view agent, std::string_view text) {
    std::string out = std::to_string(static_cast<unsigned>(code)) + " " + std::string(agent) + " \"";
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

message make_488(const message& request, std::string_view to_tag, warn_code code, std::string_view agent,
                 std::string_view text) {
    message r = make_response(request, 488, to_tag);
    r.add_header("Warning", warning_value(code, agent, text));
    return r;
}

message make_503(const message& request, std::string_view to_tag, uint32_t retry_after_s) {
    message r = make_response(request, 503, to_tag);
    r.add_header("Retry-After", std::to_string(retry_after_s));
    return r;
}

std::optional<message> make_error_response_for_unparseable(std::string_view raw, const error& e,
                                                           std::string_view to_tag) {
    // Recover the headers a response needs, line by line, without trusting anything else.
    auto first = raw.find("\r\n");
    if (first == std::string_view::npos) return std::nullopt;
    auto start = raw.substr(0, first);
    if (start.size() >= 4 && iequals(start.substr(0, 4), "SIP/")) return std::nullopt; // a response: drop
    auto sp = start.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    message req;
    req.method = std::string(start.substr(0, sp));
    auto end = raw.find("\r\n\r\n");
    auto head = raw.substr(0, end == std::string_view::npos ? raw.size() : end);
    std::size_t pos = first + 2;
    while (pos < head.size()) {
        auto eol = head.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = head.size();
        auto line = head.substr(pos, eol - pos);
        pos = eol + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || line.empty() || line[0] == ' ' || line[0] == '\t') continue;
        auto name = canonical_header_name(trim(line.substr(0, colon)));
        if (name == "Via" || name == "From" || name == "To" || name == "Call-ID" || name == "CSeq") {
            for (char c : line)
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return std::nullopt;
            req.add_header(name, std::string(trim(line.substr(colon + 1))));
        }
    }
    for (const char* h : {"Via", "From", "To", "Call-ID", "CSeq"})
        if (!req.header(h)) return std::nullopt;
    if (req.method == "ACK") return std::nullopt; // never answer an ACK (§17.2.3)
    const int code = response_code_for(e);
    return make_response(req, code, to_tag, code == 400 ? std::string_view(e.message) : std::string_view{});
}

} // namespace srtpo::cp::sip
