// SIP over UDP, TCP and TLS on the event loop (RFC 3261 §18, §26; RFC 5626 §3.5.1 keep-alive).

#include <srtpo/cp/b2bua/socket_transport.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>
#include <srtpo/cp/sip/stream_framer.hpp>

#include "log.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace srtpo::cp::b2bua {

using engine::errc;
using engine::make_error;

struct socket_transport::connection {
    enum class state : uint8_t { connecting, handshaking, open };
    uint64_t id = 0;
    int fd = -1;
    transport_kind kind = transport_kind::tcp;
    SSL* ssl = nullptr;
    bool outgoing = false;
    state st = state::connecting;
    bool tls_wants_write = false; ///< SSL_read/handshake asked for EPOLLOUT
    std::string peer_ip;
    uint16_t peer_port = 0;
    std::string target_key;       ///< key in _by_target
    std::string verify_host;      ///< next hop's name for the certificate check
    sip::stream_framer framer;
    std::string out;              ///< bytes waiting for the socket (whole messages, in order)
    event_loop::clock::time_point last_activity;
    event_loop::timer_id idle_timer = 0;
    explicit connection(sip::framer_limits l) : framer(l) {}
};

namespace {

engine::error sys_error(const std::string& what) { return make_error(errc::io_error, what + ": " + std::strerror(errno)); }

std::string target_key(transport_kind t, std::string_view host, uint16_t port) {
    return std::string(to_string(t)) + "|" + std::string(host) + "|" + std::to_string(port);
}

bool to_sockaddr(std::string_view host, uint16_t port, sockaddr_storage& ss, socklen_t& len) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string h(host);
    const std::string p = std::to_string(port);
    // A name is resolved with the system resolver (blocking; docs/sip-b2bua.md asks for IP
    // literals or /etc/hosts names in next_hop).
    if (::getaddrinfo(h.c_str(), p.c_str(), &hints, &res) != 0 || !res) return false;
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    ::freeaddrinfo(res);
    return true;
}

void from_sockaddr(const sockaddr_storage& ss, std::string& ip, uint16_t& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        port = ntohs(a->sin6_port);
    } else {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        port = ntohs(a->sin_port);
    }
    ip = buf;
}

bool is_ip_literal(const std::string& h) {
    in6_addr a6{};
    in_addr a4{};
    return ::inet_pton(AF_INET, h.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, h.c_str(), &a6) == 1;
}

// RFC 3261 §18.2.1 / RFC 3581 §4: the top Via of a received request records where it came from.
void stamp_top_via(sip::message& m, const std::string& ip, uint16_t port) {
    auto views = m.header_values("Via");
    if (views.empty()) return;
    std::vector<std::string> vals(views.begin(), views.end());
    auto v = sip::parse_via(vals.front());
    if (!v) return;
    sip::stamp_via_source(*v, ip, port);
    vals.front() = sip::to_string(*v);
    m.remove_header("Via");
    for (auto it = vals.rbegin(); it != vals.rend(); ++it) m.push_front_header("Via", *it);
}

} // namespace

socket_transport::socket_transport(const sip_config& cfg, event_loop& loop) : _cfg(cfg), _loop(loop) {}

engine::result<std::unique_ptr<socket_transport>> socket_transport::open(const sip_config& cfg, event_loop& loop) {
    std::unique_ptr<socket_transport> t(new socket_transport(cfg, loop));
    bool tls = false;
    for (const auto& l : cfg.listen) tls = tls || l.transport == transport_kind::tls;
    if (tls) {
        auto s = make_server_tls_context(cfg.tls);
        if (!s) return s.err();
        t->_server_ctx = std::move(*s);
    }
    auto c = make_client_tls_context(cfg.tls);
    if (!c) return c.err();
    t->_client_ctx = std::move(*c);

    for (const auto& spec : cfg.listen) {
        auto l = std::make_unique<listener>();
        l->spec = spec;
        sockaddr_storage ss{};
        socklen_t len = 0;
        const std::string where = std::string(to_string(spec.transport)) + " " + spec.address + ":" + std::to_string(spec.port);
        if (!to_sockaddr(spec.address, spec.port, ss, len)) return make_error(errc::io_error, "sip listen " + where + ": bad address");
        const int type = spec.transport == transport_kind::udp ? SOCK_DGRAM : SOCK_STREAM;
        l->fd = ::socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (l->fd < 0) return sys_error("sip listen " + where + ": socket");
        const int one = 1;
        ::setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(l->fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
            auto e = sys_error("sip listen " + where + ": bind");
            ::close(l->fd);
            return e;
        }
        if (type == SOCK_STREAM && ::listen(l->fd, 128) != 0) {
            auto e = sys_error("sip listen " + where + ": listen");
            ::close(l->fd);
            return e;
        }
        sockaddr_storage b{};
        socklen_t bl = sizeof b;
        ::getsockname(l->fd, reinterpret_cast<sockaddr*>(&b), &bl);
        std::string ip;
        from_sockaddr(b, ip, l->bound_port);
        listener* lp = l.get();
        socket_transport* self = t.get();
        auto r = loop.add(l->fd, EPOLLIN, [self, lp](uint32_t) {
            if (lp->spec.transport == transport_kind::udp) self->on_udp(*lp);
            else self->on_listener(*lp);
        });
        t->_listeners.push_back(std::move(l));
        if (!r) return r.err();
    }
    return t;
}

socket_transport::~socket_transport() {
    if (_notify_timer) _loop.cancel(_notify_timer);
    for (auto& [id, c] : _conns) {
        _loop.remove(c->fd);
        if (c->idle_timer) _loop.cancel(c->idle_timer);
        if (c->ssl) SSL_free(c->ssl);
        ::close(c->fd);
    }
    for (auto& l : _listeners) {
        if (l->fd >= 0) {
            _loop.remove(l->fd);
            ::close(l->fd);
        }
    }
}

socket_transport::connection* socket_transport::find(uint64_t id) noexcept {
    auto it = _conns.find(id);
    return it == _conns.end() ? nullptr : it->second.get();
}

std::optional<uint16_t> socket_transport::local_port(transport_kind t) const {
    for (const auto& l : _listeners)
        if (l->spec.transport == t) return l->bound_port;
    return std::nullopt;
}

std::string socket_transport::sent_by(transport_kind t) const {
    const listener* best = nullptr;
    for (const auto& l : _listeners)
        if (l->spec.transport == t) {
            best = l.get();
            break;
        }
    if (!best && !_listeners.empty()) best = _listeners.front().get();
    std::string host = best ? (best->spec.advertise.empty() ? best->spec.address : best->spec.advertise) : "127.0.0.1";
    if (host == "0.0.0.0" || host == "::") host = "127.0.0.1"; // docs: set advertise when listening on a wildcard
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const uint16_t port = best && best->spec.transport == t ? best->bound_port : (t == transport_kind::tls ? 5061 : 5060);
    return host + ":" + std::to_string(port);
}

void socket_transport::on_listener(listener& l) {
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; // EAGAIN, or a transient error: the next readiness retries
        std::string ip;
        uint16_t port = 0;
        from_sockaddr(ss, ip, port);
        if (_conns.size() >= _cfg.limits.max_connections || _per_source[ip] >= _cfg.limits.max_connections_per_source) {
            ++_stats.refused_limit;
            log_warn("sip: connection from " + ip + " refused: " +
                     (_conns.size() >= _cfg.limits.max_connections ? "max_connections" : "max_connections_per_source") + " reached");
            ::close(fd);
            continue;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<connection>(sip::framer_limits{.max_header = _cfg.limits.max_message,
                                                                 .max_body = _cfg.limits.max_message,
                                                                 .max_buffered = 2 * _cfg.limits.max_message});
        c->id = _next_id++;
        c->fd = fd;
        c->kind = l.spec.transport;
        c->peer_ip = ip;
        c->peer_port = port;
        c->last_activity = event_loop::clock::now();
        c->target_key = target_key(c->kind, ip, port);
        if (c->kind == transport_kind::tls) {
            c->ssl = SSL_new(_server_ctx.get());
            if (!c->ssl) {
                ::close(fd);
                continue;
            }
            SSL_set_fd(c->ssl, fd);
            SSL_set_accept_state(c->ssl);
            c->st = connection::state::handshaking;
        } else {
            c->st = connection::state::open;
        }
        const uint64_t id = c->id;
        ++_per_source[ip];
        ++_stats.accepted;
        _by_target[c->target_key] = id;
        _conns.emplace(id, std::move(c));
        if (!_loop.add(fd, EPOLLIN, [this, id](uint32_t ev) { on_conn_event(id, ev); })) {
            close_conn(id, "epoll");
            continue;
        }
        arm_idle(id);
    }
}

void socket_transport::arm_idle(uint64_t id) {
    auto* c = find(id);
    if (!c) return;
    c->idle_timer = _loop.at(c->last_activity + _cfg.limits.idle_timeout, [this, id] {
        auto* x = find(id);
        if (!x) return;
        x->idle_timer = 0;
        if (event_loop::clock::now() - x->last_activity >= _cfg.limits.idle_timeout && !(_user && _user->in_use(id))) {
            ++_stats.idle_closed;
            close_conn(id, "idle timeout");
        } else {
            if (event_loop::clock::now() - x->last_activity >= _cfg.limits.idle_timeout) x->last_activity = event_loop::clock::now();
            arm_idle(id);
        }
    });
}

void socket_transport::on_udp(listener& l) {
    std::array<char, 65536> buf;
    for (int i = 0; i < 64; ++i) { // bounded: other descriptors get their turn
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const ssize_t n = ::recvfrom(l.fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
        if (n < 0) return;
        peer from;
        from.transport = transport_kind::udp;
        from_sockaddr(ss, from.host, from.port);
        const std::string_view raw(buf.data(), static_cast<std::size_t>(n));
        // RFC 5626 §4.4.1: keep-alives on UDP are STUN; a stray CRLF datagram is ignored.
        if (raw.find_first_not_of("\r\n") == std::string_view::npos) continue;
        deliver(raw, sip::transport_kind::datagram, from, 0);
        OPENSSL_cleanse(buf.data(), static_cast<std::size_t>(n)); // SDP with SDES keys (RFC 4568)
    }
}

void socket_transport::deliver(std::string_view raw, sip::transport_kind kind, const peer& from, uint64_t reply_conn) {
    sip::parse_limits pl;
    pl.max_message = _cfg.limits.max_message;
    auto m = sip::parse_message(raw, kind, pl);
    if (!m) {
        ++_stats.parse_errors;
        // RFC 3261 §16.3 / §21.4.1: a request we cannot use gets 400 (505 for a version) when
        // its transaction headers can be recovered; anything else is dropped and counted.
        if (auto resp = sip::make_error_response_for_unparseable(raw, m.err(), {})) {
            peer back = from;
            back.connection = reply_conn;
            (void)send(back, sip::serialize(*resp));
        }
        log_info("sip: bad message from " + from.host + ":" + std::to_string(from.port) + ": " + m.err().message);
        return;
    }
    if (m->is_request()) stamp_top_via(*m, from.host, from.port);
    if (_user) _user->on_message(std::move(*m), from);
}

engine::result<uint64_t> socket_transport::send(const peer& to, std::string_view bytes) {
    if (to.transport == transport_kind::udp) {
        const listener* l = nullptr;
        for (const auto& x : _listeners)
            if (x->spec.transport == transport_kind::udp) {
                l = x.get();
                break;
            }
        if (!l) return make_error(errc::io_error, "sip: no UDP listener to send from");
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (!to_sockaddr(to.host, to.port, ss, len)) return make_error(errc::io_error, "sip: cannot resolve " + to.host);
        if (::sendto(l->fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
            return sys_error("sip: sendto " + to.host + ":" + std::to_string(to.port));
        return uint64_t{0};
    }
    connection* c = to.connection ? find(to.connection) : nullptr;
    if (!c) {
        auto it = _by_target.find(target_key(to.transport, to.host, to.port));
        if (it != _by_target.end()) c = find(it->second);
    }
    if (!c) {
        if (to.port == 0) return make_error(errc::io_error, "sip: connection closed");
        auto id = connect_to(to);
        if (!id) return id;
        c = find(*id);
        if (!c) return make_error(errc::io_error, "sip: connection to " + to.host + " failed");
    }
    c->out.append(bytes);
    const uint64_t id = c->id;
    if (c->st == connection::state::open) {
        if (!flush(*c)) return make_error(errc::io_error, "sip: connection to " + to.host + " lost while sending");
        if (auto* again = find(id)) update_interest(*again);
    }
    return id;
}

engine::result<uint64_t> socket_transport::connect_to(const peer& to) {
    if (_conns.size() >= _cfg.limits.max_connections) {
        ++_stats.refused_limit;
        return make_error(errc::invalid_argument, "sip: max_connections reached");
    }
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!to_sockaddr(to.host, to.port, ss, len)) return make_error(errc::io_error, "sip: cannot resolve next hop " + to.host);
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys_error("sip: socket");
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        auto e = sys_error("sip: connect " + to.host + ":" + std::to_string(to.port));
        ::close(fd);
        return e;
    }
    auto c = std::make_unique<connection>(sip::framer_limits{.max_header = _cfg.limits.max_message,
                                                             .max_body = _cfg.limits.max_message,
                                                             .max_buffered = 2 * _cfg.limits.max_message});
    c->id = _next_id++;
    c->fd = fd;
    c->kind = to.transport;
    c->outgoing = true;
    c->st = connection::state::connecting;
    c->peer_port = to.port;
    std::string ip;
    uint16_t p = 0;
    from_sockaddr(ss, ip, p);
    c->peer_ip = ip;
    c->verify_host = to.host;
    c->target_key = target_key(to.transport, to.host, to.port);
    c->last_activity = event_loop::clock::now();
    const uint64_t id = c->id;
    _by_target[c->target_key] = id;
    _conns.emplace(id, std::move(c));
    if (!_loop.add(fd, EPOLLIN | EPOLLOUT, [this, id](uint32_t ev) { on_conn_event(id, ev); })) {
        close_conn(id, "epoll");
        return make_error(errc::io_error, "sip: epoll add");
    }
    arm_idle(id);
    return id;
}

bool socket_transport::drive_handshake(connection& c) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
        c.st = connection::state::open;
        c.tls_wants_write = false;
        log_debug(std::string("sip: TLS ") + SSL_get_version(c.ssl) + " " + SSL_get_cipher_name(c.ssl) + " with " + c.peer_ip);
        return true;
    }
    const int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        c.tls_wants_write = false;
        return true;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c.tls_wants_write = true;
        return true;
    }
    ++_stats.tls_failures;
    char buf[256] = "connection closed";
    if (const unsigned long code = ERR_get_error()) ERR_error_string_n(code, buf, sizeof buf);
    std::string why = buf;
    if (c.outgoing && SSL_get_verify_result(c.ssl) != X509_V_OK)
        why += std::string(" (") + X509_verify_cert_error_string(SSL_get_verify_result(c.ssl)) + ")";
    log_warn("sip: TLS handshake with " + c.peer_ip + ":" + std::to_string(c.peer_port) + " failed: " + why);
    ERR_clear_error();
    return false;
}

bool socket_transport::read_stream(connection& c) {
    std::array<char, 16384> buf;
    const uint64_t id = c.id;
    for (;;) {
        connection* x = find(id);
        if (!x) return false;
        ssize_t n = 0;
        if (x->ssl) {
            ERR_clear_error();
            const int r = SSL_read(x->ssl, buf.data(), static_cast<int>(buf.size()));
            if (r <= 0) {
                const int e = SSL_get_error(x->ssl, r);
                if (e == SSL_ERROR_WANT_READ) return true;
                if (e == SSL_ERROR_WANT_WRITE) {
                    x->tls_wants_write = true;
                    return true;
                }
                close_conn(id, e == SSL_ERROR_ZERO_RETURN ? "closed by peer" : "TLS read error");
                return false;
            }
            n = r;
        } else {
            n = ::recv(x->fd, buf.data(), buf.size(), 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
            if (n <= 0) {
                close_conn(id, n == 0 ? "closed by peer" : std::strerror(errno));
                return false;
            }
        }
        x->last_activity = event_loop::clock::now();
        auto fed = x->framer.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        OPENSSL_cleanse(buf.data(), static_cast<std::size_t>(n)); // SDP with SDES keys (RFC 4568)
        if (auto r = std::move(fed); !r) {
            ++_stats.framing_errors;
            close_conn(id, r.err().message);
            return false;
        }
        for (;;) {
            connection* y = find(id);
            if (!y) return false;
            auto f = y->framer.next();
            if (!f) {
                ++_stats.framing_errors;
                log_info("sip: closing connection from " + y->peer_ip + ": " + f.err().message);
                close_conn(id, f.err().message);
                return false;
            }
            if (f->what == sip::frame::kind::none) break;
            if (f->what == sip::frame::kind::ping) {
                ++_stats.pings;
                y->out += "\r\n"; // RFC 5626 §4.4.1 pong
                continue;
            }
            peer from{.transport = y->kind, .host = y->peer_ip, .port = y->peer_port, .connection = id};
            deliver(f->bytes, sip::transport_kind::stream, from, id);
            OPENSSL_cleanse(f->bytes.data(), f->bytes.size());
        }
    }
}

bool socket_transport::flush(connection& c) {
    const uint64_t id = c.id;
    while (!c.out.empty()) {
        ssize_t n = 0;
        if (c.ssl) {
            ERR_clear_error();
            const int r = SSL_write(c.ssl, c.out.data(), static_cast<int>(std::min<std::size_t>(c.out.size(), 1 << 20)));
            if (r <= 0) {
                const int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return true;
                close_conn(id, "TLS write error");
                return false;
            }
            n = r;
        } else {
            n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
            if (n < 0) {
                close_conn(id, std::strerror(errno));
                return false;
            }
        }
        OPENSSL_cleanse(c.out.data(), static_cast<std::size_t>(n)); // sent: no key stays in the queue's memory
        c.out.erase(0, static_cast<std::size_t>(n));
        c.last_activity = event_loop::clock::now();
    }
    return true;
}

void socket_transport::update_interest(connection& c) {
    uint32_t ev = EPOLLIN;
    if (c.st == connection::state::connecting || c.tls_wants_write || (!c.out.empty() && c.st == connection::state::open))
        ev |= EPOLLOUT;
    (void)_loop.modify(c.fd, ev);
}

void socket_transport::on_conn_event(uint64_t id, uint32_t events) {
    connection* c = find(id);
    if (!c) return;
    if (c->st == connection::state::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            close_conn(id, std::string("connect: ") + std::strerror(err ? err : ECONNREFUSED));
            return;
        }
        if (!(events & EPOLLOUT)) return;
        ++_stats.connected;
        if (c->kind == transport_kind::tls) {
            c->ssl = SSL_new(_client_ctx.get());
            if (!c->ssl) {
                close_conn(id, "SSL_new");
                return;
            }
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_connect_state(c->ssl);
            if (!is_ip_literal(c->verify_host)) SSL_set_tlsext_host_name(c->ssl, c->verify_host.c_str()); // SNI, RFC 6066 §3
            if (_cfg.tls.verify_server && _cfg.tls.verify_hostname) {
                // RFC 5922 §7.1 / RFC 6125: the next hop's name (or IP) must be in its certificate.
                if (is_ip_literal(c->verify_host)) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->verify_host.c_str());
                else SSL_set1_host(c->ssl, c->verify_host.c_str());
            }
            c->st = connection::state::handshaking;
        } else {
            c->st = connection::state::open;
        }
    }
    if (c->st == connection::state::handshaking) {
        if (!drive_handshake(*c)) {
            close_conn(id, "TLS handshake failed");
            return;
        }
        if (c->st != connection::state::open) {
            update_interest(*c);
            return;
        }
    }
    c->tls_wants_write = false;
    if (!read_stream(*c)) return;
    c = find(id);
    if (!c) return;
    if (!flush(*c)) return;
    c = find(id);
    if (c) update_interest(*c);
}

void socket_transport::close_connection(uint64_t id) { close_conn(id, "closed locally"); }

void socket_transport::close_conn(uint64_t id, std::string_view why) {
    auto it = _conns.find(id);
    if (it == _conns.end()) return;
    std::unique_ptr<connection> c = std::move(it->second);
    _conns.erase(it);
    _loop.remove(c->fd);
    if (c->idle_timer) _loop.cancel(c->idle_timer);
    if (c->ssl) {
        SSL_shutdown(c->ssl); // best effort close_notify; we do not wait for the peer's
        SSL_free(c->ssl);
    }
    ::close(c->fd);
    if (auto t = _by_target.find(c->target_key); t != _by_target.end() && t->second == id) _by_target.erase(t);
    if (!c->outgoing) {
        if (auto s = _per_source.find(c->peer_ip); s != _per_source.end() && --s->second == 0) _per_source.erase(s);
    }
    ++_stats.closed;
    log_debug("sip: connection " + std::to_string(id) + " with " + c->peer_ip + ":" + std::to_string(c->peer_port) + " closed: " +
              std::string(why));
    _closed_pending.push_back(id);
    if (!_notify_timer)
        _notify_timer = _loop.after(std::chrono::milliseconds(0), [this] {
            _notify_timer = 0;
            auto ids = std::move(_closed_pending);
            _closed_pending.clear();
            for (uint64_t x : ids)
                if (_user) _user->on_connection_closed(x);
        });
}

} // namespace srtpo::cp::b2bua
