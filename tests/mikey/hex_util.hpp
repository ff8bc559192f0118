#pragma once
// Test helper: hex <-> octets.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace mikey_test {

inline std::vector<uint8_t> unhex(const std::string& h) {
    std::vector<uint8_t> b;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return b;
}
inline std::string hex(std::span<const uint8_t> b) {
    std::string s;
    char t[3];
    for (auto c : b) {
        std::snprintf(t, sizeof t, "%02x", c);
        s += t;
    }
    return s;
}
inline std::string hex(std::span<const std::byte> b) {
    return hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
}

} // namespace mikey_test
