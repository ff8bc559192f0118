#include <srtpo/cp/api/endpoint_text.hpp>

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace srtpo::cp::api {

api_result<table::endpoint> parse_endpoint(std::string_view text, const std::string& field) {
    const auto bad = [&](const std::string& why) {
        return make_api_error(api_errc::invalid_argument, field, "'" + std::string(text) + "' " + why);
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("is not address:port");
    std::string host(text.substr(0, colon));
    const std::string_view port = text.substr(colon + 1);
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || v == 0 || v > 65535)
        return bad("has no port 1..65535");
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    table::endpoint e;
    e.port = static_cast<uint16_t>(v);
    std::array<uint8_t, 4> v4{};
    if (!bracketed && inet_pton(AF_INET, host.c_str(), v4.data()) == 1) {
        e.addr = table::ip_address::v4(v4[0], v4[1], v4[2], v4[3]);
    } else if (inet_pton(AF_INET6, host.c_str(), e.addr.octets.data()) == 1) {
        if (!bracketed) return bad("is IPv6: write it as [addr]:port");
        if (e.addr.is_v4()) return bad("is an IPv4-mapped IPv6 address: write it as IPv4");
    } else {
        return bad("has a bad address");
    }
    if (e.addr.is_unspecified() || e.addr == table::ip_address::v4(0, 0, 0, 0))
        return bad("has an unspecified address: a flow needs a concrete one");
    return e;
}

std::string to_string(const table::endpoint& e) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (e.addr.is_v4()) {
        inet_ntop(AF_INET, e.addr.octets.data() + 12, buf.data(), buf.size());
        return std::string(buf.data()) + ":" + std::to_string(e.port);
    }
    inet_ntop(AF_INET6, e.addr.octets.data(), buf.data(), buf.size());
    return "[" + std::string(buf.data()) + "]:" + std::to_string(e.port);
}

} // namespace srtpo::cp::api
