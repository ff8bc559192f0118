// Typed header values (RFC 3261 §25.1 grammar): Via, name-addr/addr-spec, CSeq, SIP URIs.
// Every parser works on a string_view with explicit bounds and reports which rule failed.

#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>

#include "grammar.hpp"

#include <cctype>
#include <charconv>

namespace srtpo::cp::sip {
namespace {

using grammar::is_alnum;
using grammar::is_digit;
using grammar::is_token;
using grammar::is_token_char;
using grammar::is_ws;

error bad(std::string msg) { return engine::make_error(errc::invalid_argument, std::move(msg)); }

// Length of a quoted-string starting at s[0] == '"', including both quotes; 0 if unterminated.
std::size_t quoted_len(std::string_view s) noexcept {
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
            continue;
        }
        if (s[i] == '"') return i + 1;
    }
    return 0;
}

std::optional<uint16_t> parse_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
    return static_cast<uint16_t>(v);
}

// host = hostname / IPv4address / IPv6reference (§25.1). Checked loosely but strictly enough that
// nothing with spaces, quotes or separators passes.
bool valid_host(std::string_view h) noexcept {
    if (h.empty()) return false;
    if (h.front() == '[') {
        if (h.size() < 3 || h.back() != ']') return false;
        for (char c : h.substr(1, h.size() - 2))
            if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
        return true;
    }
    for (char c : h)
        if (!(is_alnum(c) || c == '-' || c == '.')) return false;
    return true;
}

// Parses *( SEMI generic-param ) from `s` (which starts at the first ';' or is empty).
result<std::vector<generic_param>> parse_params(std::string_view s, std::string_view what) {
    std::vector<generic_param> out;
    s = trim(s);
    while (!s.empty()) {
        if (s.front() != ';') return bad(std::string(what) + ": expected ';' before a parameter");
        s = trim(s.substr(1));
        std::size_t n = 0;
        while (n < s.size() && is_token_char(s[n])) ++n;
        if (n == 0) return bad(std::string(what) + ": empty or malformed parameter name");
        generic_param p{std::string(s.substr(0, n)), std::nullopt};
        s = trim(s.substr(n));
        if (!s.empty() && s.front() == '=') {
            s = trim(s.substr(1));
            std::size_t v = 0;
            if (!s.empty() && s.front() == '"') {
                v = quoted_len(s);
                if (v == 0) return bad(std::string(what) + ": unterminated quoted parameter value");
            } else {
                while (v < s.size() && (is_token_char(s[v]) || s[v] == ':' || s[v] == '[' || s[v] == ']'))
                    ++v;
                if (v == 0) return bad(std::string(what) + ": parameter '" + p.name + "' has an empty value");
            }
            p.value = std::string(s.substr(0, v));
            s = trim(s.substr(v));
        }
        out.push_back(std::move(p));
    }
    return out;
}

bool valid_scheme_uri(std::string_view u) noexcept {
    auto colon = u.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z'))) return false;
    for (char c : u.substr(0, colon))
        if (!(is_alnum(c) || c == '+' || c == '-' || c == '.')) return false;
    for (char c : u)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == 0x7f) return false;
    return colon + 1 < u.size();
}

} // namespace

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split_list(std::string_view value) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    int angle = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '"') {
            auto q = quoted_len(value.substr(i));
            if (q == 0) break; // unterminated: the rest is one element, parsers reject it
            i += q - 1;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (c == ',' && angle == 0) {
            auto e = trim(value.substr(start, i - start));
            if (!e.empty()) out.push_back(e);
            start = i + 1;
        }
    }
    auto e = trim(value.substr(start));
    if (!e.empty()) out.push_back(e);
    return out;
}

const generic_param* find_param(const std::vector<generic_param>& ps, std::string_view name) noexcept {
    for (const auto& p : ps)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

void set_param(std::vector<generic_param>& ps, std::string_view name, std::optional<std::string> value) {
    for (auto& p : ps)
        if (iequals(p.name, name)) {
            p.value = std::move(value);
            return;
        }
    ps.push_back({std::string(name), std::move(value)});
}

static void append_params(std::string& out, const std::vector<generic_param>& ps) {
    for (const auto& p : ps) {
        out.append(";").append(p.name);
        if (p.value) out.append("=").append(*p.value);
    }
}

std::string_view via::branch() const noexcept {
    const auto* p = find_param(params, "branch");
    return (p && p->value) ? std::string_view(*p->value) : std::string_view{};
}

// via-parm = sent-protocol LWS sent-by *( SEMI via-params ); sent-protocol = name SLASH version
// SLASH transport, with SWS allowed around each '/' (§25.1, exercised by RFC 4475 §3.1.1.1).
result<via> parse_via(std::string_view value) {
    std::string_view s = trim(value);
    std::string_view part[3];
    for (int i = 0; i < 3; ++i) {
        std::size_t n = 0;
        while (n < s.size() && is_token_char(s[n])) ++n;
        part[i] = s.substr(0, n);
        s = trim(s.substr(n));
        if (i < 2) {
            if (s.empty() || s.front() != '/') return bad("Via: sent-protocol is not name/version/transport");
            s = trim(s.substr(1));
        }
    }
    if (!iequals(part[0], "SIP") || part[1] != "2.0") return bad("Via: protocol is not SIP/2.0");
    if (part[2].empty()) return bad("Via: empty transport");
    via v;
    for (char c : part[2]) v.transport.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    // sent-by = host [ COLON port ]
    std::size_t n = 0;
    if (!s.empty() && s.front() == '[') {
        n = s.find(']');
        if (n == std::string_view::npos) return bad("Via: unterminated IPv6 reference");
        ++n;
    } else {
        while (n < s.size() && s[n] != ':' && s[n] != ';' && !is_ws(s[n])) ++n;
    }
    v.host = std::string(s.substr(0, n));
    if (!valid_host(v.host)) return bad("Via: missing or malformed sent-by host");
    s = trim(s.substr(n));
    if (!s.empty() && s.front() == ':') {
        s = trim(s.substr(1));
        std::size_t d = 0;
        while (d < s.size() && is_digit(s[d])) ++d;
        v.port = parse_port(s.substr(0, d));
        if (!v.port) return bad("Via: sent-by port is not 1..65535");
        s = s.substr(d);
    }
    auto ps = parse_params(s, "Via");
    if (!ps) return ps.err();
    v.params = std::move(*ps);
    return v;
}

std::string to_string(const via& v) {
    std::string out = "SIP/2.0/" + v.transport + " " + v.host;
    if (v.port) out.append(":").append(std::to_string(*v.port));
    append_params(out, v.params);
    return out;
}

void stamp_via_source(via& v, std::string_view source_ip, uint16_t source_port) {
    const auto* rport = find_param(v.params, "rport");
    const bool want_rport = rport != nullptr && !rport->value;
    if (want_rport) set_param(v.params, "rport", std::to_string(source_port));
    if (want_rport || v.host != source_ip) set_param(v.params, "received", std::string(source_ip));
}

std::string_view name_addr::tag() const noexcept {
    const auto* p = find_param(params, "tag");
    return (p && p->value) ? std::string_view(*p->value) : std::string_view{};
}

result<name_addr> parse_name_addr(std::string_view value) {
    std::string_view s = trim(value);
    name_addr na;
    if (s == "*") {
        na.uri = "*";
        return na;
    }
    // Find a top-level '<' (outside a quoted display-name).
    std::size_t lt = std::string_view::npos;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') {
            auto q = quoted_len(s.substr(i));
            if (q == 0) return bad("name-addr: unterminated quoted display-name");
            i += q - 1;
        } else if (s[i] == '<') {
            lt = i;
            break;
        }
    }
    std::string_view rest;
    if (lt != std::string_view::npos) {
        auto display = trim(s.substr(0, lt));
        if (!display.empty()) {
            if (display.front() == '"') {
                if (quoted_len(display) != display.size()) return bad("name-addr: text after the quoted display-name");
            } else {
                // display-name = *(token LWS): tokens separated by whitespace only.
                std::size_t i = 0;
                while (i < display.size()) {
                    if (is_ws(display[i])) { ++i; continue; }
                    if (!is_token_char(display[i])) return bad("name-addr: display-name is not tokens or a quoted string");
                    ++i;
                }
            }
        }
        na.display = std::string(display);
        auto gt = s.find('>', lt);
        if (gt == std::string_view::npos) return bad("name-addr: '<' without '>'");
        // No LWS inside the brackets (RFC 4475 §3.1.2.14): the URI is taken as is and
        // valid_scheme_uri rejects spaces.
        na.uri = std::string(s.substr(lt + 1, gt - lt - 1));
        rest = s.substr(gt + 1);
    } else {
        // addr-spec: parameters after ';' are header parameters (§20.10), and it may not carry
        // '?' headers or ',' (those require the angle-bracket form).
        auto semi = s.find(';');
        na.uri = std::string(trim(s.substr(0, semi)));
        if (na.uri.find_first_of("?,\" ") != std::string::npos)
            return bad("name-addr: an addr-spec with '?', ',' or spaces needs angle brackets");
        rest = semi == std::string_view::npos ? std::string_view{} : s.substr(semi);
    }
    if (na.uri.empty()) return bad("name-addr: empty URI");
    if (!valid_scheme_uri(na.uri)) return bad("name-addr: URI has no scheme or contains spaces");
    auto ps = parse_params(rest, "name-addr");
    if (!ps) return ps.err();
    na.params = std::move(*ps);
    return na;
}

std::string to_string(const name_addr& n) {
    std::string out;
    if (n.uri == "*") return "*";
    if (!n.display.empty()) out.append(n.display).append(" ");
    out.append("<").append(n.uri).append(">");
    append_params(out, n.params);
    return out;
}

result<cseq> parse_cseq(std::string_view value) {
    std::string_view s = trim(value);
    std::size_t d = 0;
    while (d < s.size() && is_digit(s[d])) ++d;
    if (d == 0) return bad("CSeq: sequence number missing");
    uint64_t n = 0;
    for (std::size_t i = 0; i < d; ++i) {
        n = n * 10 + static_cast<uint64_t>(s[i] - '0');
        if (n > 0x7fffffffu) return bad("CSeq: sequence number is not below 2^31");
    }
    auto m = trim(s.substr(d));
    if (d == s.size() || !is_ws(s[d])) return bad("CSeq: no whitespace between number and method");
    if (!is_token(m)) return bad("CSeq: method is not a token");
    return cseq{static_cast<uint32_t>(n), std::string(m)};
}

std::string to_string(const cseq& c) { return std::to_string(c.number) + " " + c.method; }

result<uri_host> parse_sip_uri(std::string_view uri) {
    uri_host u;
    auto colon = uri.find(':');
    if (colon == std::string_view::npos) return bad("URI: no scheme");
    auto scheme = uri.substr(0, colon);
    if (iequals(scheme, "sip")) u.scheme = "sip";
    else if (iequals(scheme, "sips")) u.scheme = "sips";
    else return bad("URI: scheme is not sip or sips");
    auto s = uri.substr(colon + 1);
    s = s.substr(0, s.find('?'));         // drop headers
    auto at = s.rfind('@', s.find(';') == std::string_view::npos ? s.size() : s.find(';'));
    // user-params may contain ';' before '@': take the last '@' overall if the simple search failed
    if (at == std::string_view::npos) at = s.rfind('@');
    if (at != std::string_view::npos) {
        u.user = std::string(s.substr(0, at));
        s = s.substr(at + 1);
    }
    auto semi = s.find(';');
    auto hostport = s.substr(0, semi);
    std::size_t hend;
    if (!hostport.empty() && hostport.front() == '[') {
        hend = hostport.find(']');
        if (hend == std::string_view::npos) return bad("URI: unterminated IPv6 reference");
        ++hend;
    } else {
        hend = hostport.find(':');
        if (hend == std::string_view::npos) hend = hostport.size();
    }
    u.host = std::string(hostport.substr(0, hend));
    if (!valid_host(u.host)) return bad("URI: missing or malformed host");
    if (hend < hostport.size()) {
        if (hostport[hend] != ':') return bad("URI: junk after host");
        u.port = parse_port(hostport.substr(hend + 1));
        if (!u.port) return bad("URI: port is not 1..65535");
    }
    if (semi != std::string_view::npos) {
        auto ps = parse_params(s.substr(semi), "URI");
        if (!ps) return ps.err();
        u.params = std::move(*ps);
    }
    return u;
}

} // namespace srtpo::cp::sip
