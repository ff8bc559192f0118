// Message boundaries on TCP/TLS (RFC 3261 §18.3) and the RFC 5626 §3.5.1 CRLF keep-alive.

#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/stream_framer.hpp>

namespace srtpo::cp::sip {

using engine::make_error;

engine::result<frame> stream_framer::fail(std::string msg) {
    _failed = true;
    return make_error(engine::errc::invalid_argument, std::move(msg));
}

engine::result<void> stream_framer::feed(std::string_view data) {
    if (_failed) return make_error(engine::errc::invalid_argument, "framer already failed; close the connection");
    if (buffered() + data.size() > _limits.max_buffered) {
        _failed = true;
        return make_error(engine::errc::invalid_argument, "more bytes pending than the buffer limit");
    }
    if (_pos > 0 && _pos * 2 >= _buf.size()) { // compact: keep the unconsumed tail only
        _buf.erase(0, _pos);
        _pos = 0;
    }
    _buf.append(data);
    return {};
}

engine::result<void> stream_framer::feed(std::span<const std::byte> data) {
    return feed(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

engine::result<frame> stream_framer::next() {
    if (_failed) return make_error(engine::errc::invalid_argument, "framer already failed; close the connection");
    std::string_view b(_buf);
    b.remove_prefix(_pos);
    // Keep-alives and stray CRLFs between messages (RFC 5626 §3.5.1, RFC 3261 §7.5).
    while (b.size() >= 2 && b[0] == '\r' && b[1] == '\n') {
        if (b.size() >= 4 && b[2] == '\r' && b[3] == '\n') {
            _pos += 4;
            return frame{frame::kind::ping, {}};
        }
        if (b.size() < 4 && (b.size() == 2 || b[2] == '\r')) return frame{}; // might become a ping
        _pos += 2;
        b.remove_prefix(2);
    }
    auto end = b.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (b.size() > _limits.max_header) return fail("SIP header section longer than the limit");
        return frame{};
    }
    if (end + 4 > _limits.max_header) return fail("SIP header section longer than the limit");
    // Find Content-Length (or its compact form "l") among the header lines.
    std::optional<std::size_t> cl;
    std::size_t p = b.find("\r\n");
    while (p < end) {
        p += 2;
        auto eol = b.find("\r\n", p);
        auto line = b.substr(p, eol - p);
        p = eol;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || line.empty() || line[0] == ' ' || line[0] == '\t') continue;
        if (!same_header_name(trim(line.substr(0, colon)), "Content-Length")) continue;
        if (cl) return fail("Content-Length appears more than once");
        auto v = trim(line.substr(colon + 1));
        if (v.empty()) return fail("Content-Length is empty");
        std::size_t n = 0;
        for (char c : v) {
            if (c < '0' || c > '9') return fail("Content-Length is not a non-negative decimal number");
            n = n * 10 + static_cast<std::size_t>(c - '0');
            if (n > _limits.max_body) return fail("Content-Length larger than the body limit");
        }
        cl = n;
    }
    if (!cl) return fail("Content-Length missing (mandatory on stream transports, RFC 3261 §18.3)");
    const std::size_t total = end + 4 + *cl;
    if (b.size() < total) return frame{};
    frame f{frame::kind::message, std::string(b.substr(0, total))};
    _pos += total;
    return f;
}

} // namespace srtpo::cp::sip
