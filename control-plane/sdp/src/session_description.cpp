// SDP parser and serializer (RFC 8866 §5): ordered lines, m= sections split out and typed.

#include <srtpo/cp/sdp/session_description.hpp>

#include <charconv>

namespace srtpo::cp::sdp {
namespace {

error bad(std::size_t lineno, std::string msg) {
    return engine::make_error(errc::invalid_argument, "SDP line " + std::to_string(lineno) + ": " + msg);
}

std::vector<std::string_view> split_sp(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i <= s.size()) {
        auto j = s.find(' ', i);
        if (j == std::string_view::npos) j = s.size();
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        // RFC 8866 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
        if (u < 0x21 || u > 0x7e || c == '"' || c == '(' || c == ')' || c == ',' || c == '/' ||
            (u >= 0x3a && u <= 0x40) || c == '[' || c == '\\' || c == ']')
            return false;
    }
    return true;
}

std::optional<uint32_t> parse_uint(std::string_view s, uint32_t max) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return static_cast<uint32_t>(v);
}

// media-field = %s"m" "=" media SP port ["/" integer] SP proto 1*(SP fmt) (RFC 8866 §9)
result<media_description> parse_media_line(std::string_view v, std::size_t lineno) {
    auto f = split_sp(v);
    if (f.size() < 4) return bad(lineno, "m= needs media, port, proto and at least one format");
    media_description m;
    if (!is_token(f[0])) return bad(lineno, "m= media is not a token");
    m.media = std::string(f[0]);
    auto slash = f[1].find('/');
    auto port = parse_uint(f[1].substr(0, slash), 65535);
    if (!port) return bad(lineno, "m= port is not 0..65535");
    m.port = static_cast<uint16_t>(*port);
    if (slash != std::string_view::npos) {
        auto n = parse_uint(f[1].substr(slash + 1), 65535);
        if (!n || *n == 0) return bad(lineno, "m= number of ports is not 1..65535");
        m.port_count = static_cast<uint16_t>(*n);
    }
    // proto = token *("/" token)
    if (f[2].empty() || f[2].front() == '/' || f[2].back() == '/') return bad(lineno, "m= proto is malformed");
    for (std::size_t i = 0, start = 0; i <= f[2].size(); ++i)
        if (i == f[2].size() || f[2][i] == '/') {
            if (!is_token(f[2].substr(start, i - start))) return bad(lineno, "m= proto is malformed");
            start = i + 1;
        }
    m.proto = std::string(f[2]);
    for (std::size_t i = 3; i < f.size(); ++i) {
        if (!is_token(f[i])) return bad(lineno, "m= format is not a token");
        m.formats.emplace_back(f[i]);
    }
    return m;
}

std::pair<std::string_view, std::optional<std::string_view>> split_attr(std::string_view v) {
    auto c = v.find(':');
    if (c == std::string_view::npos) return {v, std::nullopt};
    return {v.substr(0, c), v.substr(c + 1)};
}

} // namespace

std::optional<std::string_view> media_description::attribute(std::string_view name) const {
    for (const auto& l : lines) {
        if (l.type != 'a') continue;
        auto [n, val] = split_attr(l.value);
        if (n == name) return val.value_or(std::string_view{});
    }
    return std::nullopt;
}

std::vector<std::string_view> media_description::attributes(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& l : lines) {
        if (l.type != 'a') continue;
        auto [n, val] = split_attr(l.value);
        if (n == name) out.push_back(val.value_or(std::string_view{}));
    }
    return out;
}

std::size_t media_description::remove_attributes(std::string_view name) {
    const auto before = lines.size();
    std::erase_if(lines, [&](const line& l) { return l.type == 'a' && split_attr(l.value).first == name; });
    return before - lines.size();
}

void media_description::add_attribute(std::string_view name, std::optional<std::string_view> value) {
    std::string v(name);
    if (value) v.append(":").append(*value);
    lines.push_back({'a', std::move(v)});
}

bool media_description::is_rtp() const noexcept { return proto.find("RTP/") != std::string::npos; }

result<connection> parse_connection(std::string_view value) {
    auto f = split_sp(value);
    if (f.size() != 3 || f[0].empty() || f[1].empty() || f[2].empty())
        return engine::make_error(errc::invalid_argument, "c= is not '<nettype> <addrtype> <address>'");
    return connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

std::string to_string(const connection& c) { return c.nettype + " " + c.addrtype + " " + c.address; }

std::optional<connection> effective_connection(const session_description& sd, std::size_t media_index) {
    if (media_index < sd.media.size())
        for (const auto& l : sd.media[media_index].lines)
            if (l.type == 'c') {
                auto c = parse_connection(l.value);
                return c ? std::optional<connection>(*c) : std::nullopt;
            }
    for (const auto& l : sd.session)
        if (l.type == 'c') {
            auto c = parse_connection(l.value);
            return c ? std::optional<connection>(*c) : std::nullopt;
        }
    return std::nullopt;
}

result<session_description> parse(std::string_view text, const parse_limits& limits) {
    if (text.size() > limits.max_size) return engine::make_error(errc::invalid_argument, "SDP larger than the size limit");
    session_description sd;
    std::size_t lineno = 0, pos = 0;
    bool have_o = false, have_s = false;
    while (pos < text.size()) {
        auto eol = text.find('\n', pos);
        std::string_view l = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        pos = eol == std::string_view::npos ? text.size() : eol + 1;
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        ++lineno;
        if (lineno > limits.max_lines) return bad(lineno, "more lines than the limit");
        if (l.empty()) {
            // A trailing empty line (some stacks end with CRLFCRLF) is tolerated; one in the middle is not.
            if (text.substr(pos).find_first_not_of("\r\n") == std::string_view::npos) break;
            return bad(lineno, "empty line");
        }
        if (l.size() < 2 || l[1] != '=') return bad(lineno, "not '<type>=<value>'");
        if (l[0] < 'a' || l[0] > 'z') return bad(lineno, "type is not a lower-case letter");
        for (char c : l)
            if (c == '\0' || c == '\r') return bad(lineno, "NUL or CR inside a line");
        const char type = l[0];
        std::string_view value = l.substr(2);
        if (lineno == 1) {
            if (l != "v=0") return bad(lineno, "first line is not 'v=0'");
            sd.session.push_back({type, std::string(value)});
            continue;
        }
        if (type == 'v') return bad(lineno, "v= repeated");
        if (type == 'm') {
            if (sd.media.size() >= limits.max_media) return bad(lineno, "more media sections than the limit");
            auto m = parse_media_line(value, lineno);
            if (!m) return m.err();
            sd.media.push_back(std::move(*m));
            continue;
        }
        if (type == 'c') {
            auto c = parse_connection(value);
            if (!c) return bad(lineno, c.err().message);
        }
        if (sd.media.empty()) {
            if (type == 'o') {
                if (split_sp(value).size() != 6) return bad(lineno, "o= needs six fields");
                have_o = true;
            }
            if (type == 's') have_s = true;
            sd.session.push_back({type, std::string(value)});
        } else {
            sd.media.back().lines.push_back({type, std::string(value)});
        }
    }
    if (lineno == 0) return engine::make_error(errc::invalid_argument, "SDP is empty");
    if (!have_o) return engine::make_error(errc::invalid_argument, "SDP has no o= line (RFC 8866 §5.2)");
    if (!have_s) return engine::make_error(errc::invalid_argument, "SDP has no s= line (RFC 8866 §5.3)");
    return sd;
}

std::string serialize(const session_description& sd) {
    std::string out;
    auto put = [&](char t, std::string_view v) { out.push_back(t); out.push_back('='); out.append(v).append("\r\n"); };
    for (const auto& l : sd.session) put(l.type, l.value);
    for (const auto& m : sd.media) {
        std::string ml = m.media + " " + std::to_string(m.port);
        if (m.port_count) ml.append("/").append(std::to_string(*m.port_count));
        ml.append(" ").append(m.proto);
        for (const auto& f : m.formats) ml.append(" ").append(f);
        put('m', ml);
        for (const auto& l : m.lines) put(l.type, l.value);
    }
    return out;
}

} // namespace srtpo::cp::sdp
