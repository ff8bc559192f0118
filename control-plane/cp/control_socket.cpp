#include "control_socket.hpp"

#include "log.hpp"

#include <srtpo/engine/kdf.hpp>

#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace srtpo::cp {

using nlohmann::json;

namespace {

constexpr std::size_t max_connections = 256;

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

/// Overwrites every string in a request before it is freed: "key" values are base64 key material.
void wipe_strings(json& j) noexcept {
    if (j.is_string()) {
        auto& s = j.get_ref<std::string&>();
        engine::secure_zero(s.data(), s.size());
    } else if (j.is_structured()) {
        for (auto& v : j) wipe_strings(v);
    }
}

sockaddr_un address_of(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

/// True when something accepts connections on `path` (another srtpo-cp).
bool socket_is_live(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto a = address_of(path);
    const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return live;
}

engine::result<void> apply_mode_group(const config& cfg) {
    if (::chmod(cfg.socket_path.c_str(), cfg.socket_mode) != 0)
        return engine::make_error(engine::errc::io_error, sys_error("chmod " + cfg.socket_path));
    if (cfg.socket_group) {
        const group* g = ::getgrnam(cfg.socket_group->c_str());
        if (!g) return engine::make_error(engine::errc::io_error, "control.group: no group '" + *cfg.socket_group + "'");
        if (::chown(cfg.socket_path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
            return engine::make_error(engine::errc::io_error, sys_error("chown " + cfg.socket_path));
    }
    return {};
}

} // namespace

engine::result<std::unique_ptr<control_socket>> control_socket::open(const config& cfg, event_loop& loop, api_service& svc) {
    std::unique_ptr<control_socket> s(new control_socket(cfg, loop, svc));
    if (socket_is_live(cfg.socket_path))
        return engine::make_error(engine::errc::io_error, cfg.socket_path + ": another srtpo-cp is serving this socket");
    ::unlink(cfg.socket_path.c_str()); // a stale file from a dead daemon
    s->_listen = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->_listen < 0) return engine::make_error(engine::errc::io_error, sys_error("socket"));
    const auto a = address_of(cfg.socket_path);
    // Bind under a tight umask so the socket is never, even briefly, wider than configured.
    const mode_t old = ::umask(0177);
    const int rc = ::bind(s->_listen, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    ::umask(old);
    if (rc != 0) return engine::make_error(engine::errc::io_error, sys_error("bind " + cfg.socket_path));
    if (auto r = apply_mode_group(cfg); !r) return r.err();
    if (::listen(s->_listen, 64) != 0) return engine::make_error(engine::errc::io_error, sys_error("listen"));
    auto* self = s.get();
    if (auto r = loop.add(s->_listen, EPOLLIN, [self](uint32_t) { self->accept_all(); }); !r) return r.err();
    return s;
}

control_socket::~control_socket() {
    while (!_conns.empty()) close_conn(_conns.begin()->first);
    if (_listen >= 0) {
        _loop.remove(_listen);
        ::close(_listen);
        ::unlink(_cfg.socket_path.c_str());
    }
}

void control_socket::reconfigure(const config& cfg) {
    const std::string path = _cfg.socket_path;
    _cfg.socket_mode = cfg.socket_mode;
    _cfg.socket_group = cfg.socket_group;
    _cfg.max_request_bytes = cfg.max_request_bytes;
    if (cfg.socket_path != path) log_warn("control.socket changed in the config: a restart is needed to move the socket");
    if (auto r = apply_mode_group(_cfg); !r) log_err(r.err().message);
}

void control_socket::on_event(int fd, uint32_t events) {
    auto it = _conns.find(fd);
    if (it == _conns.end()) return;
    if (events & (EPOLLERR | EPOLLHUP)) {
        // Serve what arrived before the hang-up (a client may write and close at once).
        read_from(fd, it->second);
        close_conn(fd);
        return;
    }
    if (events & EPOLLIN) read_from(fd, it->second);
    if ((it = _conns.find(fd)) != _conns.end() && (events & EPOLLOUT)) flush(fd, it->second);
}

void control_socket::accept_all() {
    for (;;) {
        const int fd = ::accept4(_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) log_warn(sys_error("accept"));
            return;
        }
        if (_conns.size() >= max_connections) {
            log_warn("control socket: " + std::to_string(max_connections) + " connections open, refusing another");
            ::close(fd);
            continue;
        }
        connection c;
        ucred cr{};
        socklen_t len = sizeof cr;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) c.who = {cr.pid, cr.uid, cr.gid};
        if (!_loop.add(fd, EPOLLIN | EPOLLRDHUP, [this, fd](uint32_t ev) { on_event(fd, ev); })) {
            ::close(fd);
            continue;
        }
        _conns.emplace(fd, std::move(c));
    }
}

void control_socket::read_from(int fd, connection& c) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            c.in.append(buf, static_cast<std::size_t>(n));
            serve_lines(fd, c);
            if (!_conns.count(fd)) return;
            continue;
        }
        if (n == 0) { // client finished sending; answer what is queued, then close
            flush(fd, c);
            if (_conns.count(fd) && c.out.empty()) close_conn(fd);
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) close_conn(fd);
        return;
    }
}

void control_socket::serve_lines(int fd, connection& c) {
    std::size_t start = 0;
    for (;;) {
        const auto nl = c.in.find('\n', std::max(start, c.scanned));
        if (nl == std::string::npos) break;
        std::string_view line(c.in.data() + start, nl - start);
        json resp;
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
            // A bulk flow.add is read without a DOM (api::flow_batch_reader); every other line,
            // and every answer the batch reader leaves to it, takes the DOM path.
            if (auto fast = _svc.handle_batch_line(line, c.who)) {
                resp = std::move(*fast);
            } else {
                json req = json::parse(line, nullptr, false);
                if (req.is_discarded())
                    resp = json{{"ok", false},
                                {"error", {{"code", "bad_request"}, {"message", "the request line is not valid JSON"}}}};
                else
                    resp = _svc.handle(req, c.who);
                wipe_strings(req);
            }
            c.out += resp.dump();
            c.out += '\n';
        }
        start = nl + 1;
    }
    engine::secure_zero(c.in.data(), start);
    c.in.erase(0, start);
    c.scanned = c.in.size();
    if (c.in.size() > _cfg.max_request_bytes) {
        engine::secure_zero(c.in.data(), c.in.size());
        c.in.clear();
        c.scanned = 0;
        c.out += json{{"ok", false},
                      {"error",
                       {{"code", "too_large"},
                        {"message", "request line over " + std::to_string(_cfg.max_request_bytes) +
                                        " bytes (control.max_request_bytes); split the batch"}}}}
                     .dump();
        c.out += '\n';
        flush(fd, c);
        close_conn(fd);
        return;
    }
    flush(fd, c);
}

void control_socket::flush(int fd, connection& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_conn(fd);
        return;
    }
    (void)_loop.modify(fd, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT)));
    // A client that stops reading must not make the daemon buffer without bound.
    if (c.out.size() > 4 * _cfg.max_request_bytes) close_conn(fd);
}

void control_socket::close_conn(int fd) {
    auto it = _conns.find(fd);
    if (it == _conns.end()) return;
    engine::secure_zero(it->second.in.data(), it->second.in.size());
    engine::secure_zero(it->second.out.data(), it->second.out.size()); // may hold revealed keys
    _loop.remove(fd);
    ::close(fd);
    _conns.erase(it);
}

} // namespace srtpo::cp
