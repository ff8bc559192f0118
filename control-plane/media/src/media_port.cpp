#include <srtpo/cp/media/media_port.hpp>

#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/rfc7983.hpp>

#include "event_loop.hpp"

#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace srtpo::cp::media {

namespace {
engine::error sys_error(const std::string& what, const table::endpoint& e) {
    return engine::make_error(engine::errc::io_error, what + " " + to_string(e) + ": " + std::strerror(errno));
}
} // namespace

engine::result<std::unique_ptr<media_port>> media_port::open(event_loop& loop, const table::endpoint& local,
                                                             port_handlers h) {
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(local, sa);
    const int fd = ::socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys_error("socket for", local);
    if (sa.ss_family == AF_INET6) {
        // An IPv6 media port carries IPv6 only: IPv4 peers reach the v4 media address.
        const int on = 1;
        (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
        auto e = sys_error("bind", local);
        ::close(fd);
        return e;
    }
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) != 0) {
        auto e = sys_error("getsockname", local);
        ::close(fd);
        return e;
    }
    std::unique_ptr<media_port> p(new media_port(loop, fd, from_sockaddr(bound), std::move(h)));
    if (auto r = loop.add(fd, EPOLLIN, [raw = p.get()](uint32_t) { raw->on_readable(); }); !r) return r.err();
    return p;
}

media_port::media_port(event_loop& loop, int fd, table::endpoint local, port_handlers h)
    : _loop(loop), _fd(fd), _local(local), _h(std::move(h)), _buf(batch * max_datagram),
      _alive(std::make_shared<bool>(true)) {}

media_port::~media_port() {
    *_alive = false;
    _loop.remove(_fd);
    ::close(_fd);
}

void media_port::on_readable() {
    std::array<mmsghdr, batch> msgs{};
    std::array<iovec, batch> iov{};
    std::array<sockaddr_storage, batch> from{};
    for (;;) {
        for (std::size_t i = 0; i < batch; ++i) {
            iov[i] = {_buf.data() + i * max_datagram, max_datagram};
            msgs[i].msg_hdr = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        }
        const int n = ::recvmmsg(_fd, msgs.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ++_c.receive_errors;
            return;
        }
        const auto alive = _alive; // a handler may destroy this port
        for (int i = 0; i < n; ++i) {
            ++_c.received;
            if (msgs[static_cast<std::size_t>(i)].msg_hdr.msg_flags & MSG_TRUNC) {
                ++_c.truncated_dropped;
                continue;
            }
            const std::span<const std::byte> d(_buf.data() + static_cast<std::size_t>(i) * max_datagram,
                                               msgs[static_cast<std::size_t>(i)].msg_len);
            dispatch(d, from_sockaddr(from[static_cast<std::size_t>(i)]));
            if (!*alive) return;
        }
        if (static_cast<std::size_t>(n) < batch) return;
    }
}

void media_port::dispatch(std::span<const std::byte> d, const table::endpoint& src) {
    const datagram_handler* h = nullptr;
    switch (classify_rfc7983(d)) {
    case rfc7983_class::stun: ++_c.stun; h = &_h.stun; break;
    case rfc7983_class::zrtp: ++_c.zrtp; h = &_h.zrtp; break;
    case rfc7983_class::dtls: ++_c.dtls; h = &_h.dtls; break;
    case rfc7983_class::rtp_rtcp: ++_c.rtp_rtcp_dropped; return;
    case rfc7983_class::turn_channel:
    case rfc7983_class::unknown: ++_c.other_dropped; return;
    }
    if (!*h) {
        ++_c.no_handler_dropped;
        return;
    }
    (*h)(d, src);
}

engine::result<void> media_port::send_to(std::span<const std::byte> datagram, const table::endpoint& to) {
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(to, sa);
    if (::sendto(_fd, datagram.data(), datagram.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), len) < 0) {
        ++_c.send_errors;
        return sys_error("sendto", to);
    }
    ++_c.sent;
    return {};
}

nlohmann::json media_port::counters_json() const {
    return {{"local", to_string(_local)},
            {"received", _c.received},
            {"stun", _c.stun},
            {"zrtp", _c.zrtp},
            {"dtls", _c.dtls},
            {"rtp_rtcp_dropped", _c.rtp_rtcp_dropped},
            {"other_dropped", _c.other_dropped},
            {"no_handler_dropped", _c.no_handler_dropped},
            {"truncated_dropped", _c.truncated_dropped},
            {"receive_errors", _c.receive_errors},
            {"sent", _c.sent},
            {"send_errors", _c.send_errors}};
}

} // namespace srtpo::cp::media
