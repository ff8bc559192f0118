#pragma once
// Cuts SIP messages out of a TCP/TLS byte stream (RFC 3261 §18.3): the header ends at the first
// empty line, the body is exactly Content-Length octets. Also recognises the RFC 5626 §3.5.1
// keep-alive: a CRLFCRLF "ping" between messages, which the daemon answers with a CRLF "pong".
// Sans-I/O: the daemon feeds whatever recv() returned and takes out complete frames.

#include <srtpo/engine/result.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace srtpo::cp::sip {

struct framer_limits {
    std::size_t max_header = 16384;  ///< start line + headers + blank line
    std::size_t max_body = 65536;    ///< Content-Length above this is refused
    std::size_t max_buffered = 131072; ///< bytes held waiting for a frame to complete
};

/// What next() found.
struct frame {
    enum class kind : uint8_t {
        none,      ///< not enough bytes yet
        message,   ///< `bytes` holds one whole message (parse it with parse_message, stream)
        ping,      ///< a CRLFCRLF keep-alive: answer "\r\n" (RFC 5626 §4.4.1)
    };
    kind what = kind::none;
    std::string bytes;
};

/// Thread-safety: one framer per connection, used by one thread. Ownership: copies fed bytes.
/// After an error the connection's framing is lost (no resynchronisation is possible on a
/// stream, RFC 3261 §18.3): the daemon closes the connection.
class stream_framer {
public:
    explicit stream_framer(framer_limits limits = {}) : _limits(limits) {}

    /// Appends received bytes. Errors (invalid_argument): more than max_buffered bytes pending,
    /// or called after an error.
    engine::result<void> feed(std::span<const std::byte> data);
    engine::result<void> feed(std::string_view data);

    /// Takes the next complete frame, if any. Errors (invalid_argument), all fatal for the
    /// connection: header section over max_header, no Content-Length (mandatory on streams),
    /// a malformed, repeated or negative Content-Length, or one over max_body.
    engine::result<frame> next();

    std::size_t buffered() const noexcept { return _buf.size() - _pos; }
    bool failed() const noexcept { return _failed; }

private:
    engine::result<frame> fail(std::string msg);
    framer_limits _limits;
    std::string _buf;
    std::size_t _pos = 0;
    bool _failed = false;
};

} // namespace srtpo::cp::sip
