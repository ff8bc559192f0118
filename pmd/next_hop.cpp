#include "next_hop.hpp"

#include <cstdio>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

namespace {
int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
} // namespace

engine::result<mac_address> parse_mac(std::string_view text) {
    const auto bad = [&](const char* why) {
        return make_error(errc::invalid_argument, "'" + std::string(text.substr(0, 40)) + "': " + why);
    };
    if (text.size() != 17) return bad("expected a MAC address like 02:00:5e:10:00:01");
    mac_address m;
    for (std::size_t i = 0; i < 6; ++i) {
        const int hi = hex_digit(text[3 * i]), lo = hex_digit(text[3 * i + 1]);
        if (hi < 0 || lo < 0) return bad("expected a MAC address like 02:00:5e:10:00:01");
        if (i < 5 && text[3 * i + 2] != ':' && text[3 * i + 2] != '-') return bad("expected a MAC address like 02:00:5e:10:00:01");
        m.b[i] = static_cast<std::byte>(hi * 16 + lo);
    }
    if ((std::to_integer<unsigned>(m.b[0]) & 1u) != 0) return bad("a group (multicast or broadcast) address cannot be a next hop");
    if (m == mac_address{}) return bad("the all-zero address cannot be a next hop");
    return m;
}

std::string to_string(const mac_address& m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", std::to_integer<unsigned>(m.b[0]),
                  std::to_integer<unsigned>(m.b[1]), std::to_integer<unsigned>(m.b[2]), std::to_integer<unsigned>(m.b[3]),
                  std::to_integer<unsigned>(m.b[4]), std::to_integer<unsigned>(m.b[5]));
    return buf;
}

} // namespace srtpo::pmd
