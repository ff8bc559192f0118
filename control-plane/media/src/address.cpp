#include <srtpo/cp/media/address.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace srtpo::cp::media {

engine::result<table::endpoint> parse_endpoint(std::string_view ip, uint16_t port) {
    const std::string s(ip);
    table::endpoint e;
    e.port = port;
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        const auto* b = reinterpret_cast<const uint8_t*>(&v4);
        e.addr = table::ip_address::v4(b[0], b[1], b[2], b[3]);
        return e;
    }
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::array<uint8_t, 16> o{};
        std::memcpy(o.data(), &v6, 16);
        e.addr = table::ip_address::v6(o);
        return e;
    }
    return engine::make_error(engine::errc::invalid_argument, "'" + s + "' is not an IPv4 or IPv6 address literal");
}

socklen_t to_sockaddr(const table::endpoint& e, sockaddr_storage& out) noexcept {
    std::memset(&out, 0, sizeof out);
    if (e.addr.is_v4()) {
        auto& a = reinterpret_cast<sockaddr_in&>(out);
        a.sin_family = AF_INET;
        a.sin_port = htons(e.port);
        std::memcpy(&a.sin_addr, e.addr.octets.data() + 12, 4);
        return sizeof(sockaddr_in);
    }
    auto& a = reinterpret_cast<sockaddr_in6&>(out);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(e.port);
    std::memcpy(&a.sin6_addr, e.addr.octets.data(), 16);
    return sizeof(sockaddr_in6);
}

table::endpoint from_sockaddr(const sockaddr_storage& sa) noexcept {
    table::endpoint e;
    if (sa.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
        const auto* b = reinterpret_cast<const uint8_t*>(&a.sin_addr);
        e.addr = table::ip_address::v4(b[0], b[1], b[2], b[3]);
        e.port = ntohs(a.sin_port);
    } else if (sa.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
        std::memcpy(e.addr.octets.data(), &a.sin6_addr, 16);
        e.port = ntohs(a.sin6_port);
    }
    return e;
}

ice::transport_address to_transport_address(const table::endpoint& e) noexcept {
    ice::transport_address t;
    t.port = e.port;
    t.ipv6 = !e.addr.is_v4();
    if (t.ipv6)
        std::memcpy(t.ip.data(), e.addr.octets.data(), 16);
    else
        std::memcpy(t.ip.data(), e.addr.octets.data() + 12, 4);
    return t;
}

std::string ip_string(const table::endpoint& e) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (e.addr.is_v4())
        ::inet_ntop(AF_INET, e.addr.octets.data() + 12, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET6, e.addr.octets.data(), buf, sizeof buf);
    return buf;
}

std::string to_string(const table::endpoint& e) {
    const auto ip = ip_string(e);
    return (e.addr.is_v4() ? ip : "[" + ip + "]") + ":" + std::to_string(e.port);
}

} // namespace srtpo::cp::media
