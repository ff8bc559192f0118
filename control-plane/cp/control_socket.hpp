#pragma once
// The control API's transport: a Unix stream socket (mode and group from the config) carrying
// newline-delimited JSON — one request per line, one response line per request, in order.
// Connections are non-blocking and served from srtpo-cp's one epoll loop; a slow or dead client
// never blocks the daemon (its output is buffered, and it is dropped when the buffer exceeds the
// limit). A request line longer than max_request_bytes is answered with a too_large error and the
// connection is closed (the rest of the line cannot be framed).
//
// Thread-safety: one thread (the event loop). Ownership: owns its socket and connection fds.

#include "api_service.hpp"
#include "config.hpp"
#include "event_loop.hpp"

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace srtpo::cp {

class control_socket {
public:
    /// Binds `cfg.socket_path` (a stale socket file left by a dead srtpo-cp is replaced; a live one
    /// — one that accepts a connection — is refused), sets mode and group, listens, and registers
    /// with `loop`. Errors: io_error naming the step.
    static engine::result<std::unique_ptr<control_socket>> open(const config& cfg, event_loop& loop, api_service& svc);
    ~control_socket();
    control_socket(const control_socket&) = delete;
    control_socket& operator=(const control_socket&) = delete;

    /// Applies a new mode/group/limit after SIGHUP (the path cannot change while running).
    void reconfigure(const config& cfg);
    std::size_t connections() const noexcept { return _conns.size(); }

private:
    struct connection {
        std::string in;
        std::size_t scanned = 0; ///< in[0, scanned) holds no newline: a long line is searched once, not on every read
        std::string out;
        peer_identity who;
    };
    control_socket(const config& cfg, event_loop& loop, api_service& svc) : _cfg(cfg), _loop(loop), _svc(svc) {}
    void on_event(int fd, uint32_t events);
    void accept_all();
    void read_from(int fd, connection& c);
    void flush(int fd, connection& c);
    void close_conn(int fd);
    void serve_lines(int fd, connection& c);

    config _cfg;
    event_loop& _loop;
    api_service& _svc;
    int _listen = -1;
    std::unordered_map<int, connection> _conns;
};

} // namespace srtpo::cp
