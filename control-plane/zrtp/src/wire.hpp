#pragma once
// Big-endian field access for the ZRTP parsers and builders. Readers are only called after the
// caller has checked the length, so they do no checks of their own.

#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::zrtp::wire {

inline uint16_t get16(std::span<const uint8_t> b, std::size_t o) noexcept {
    return static_cast<uint16_t>(b[o] << 8 | b[o + 1]);
}
inline uint32_t get32(std::span<const uint8_t> b, std::size_t o) noexcept {
    return static_cast<uint32_t>(b[o]) << 24 | static_cast<uint32_t>(b[o + 1]) << 16 |
           static_cast<uint32_t>(b[o + 2]) << 8 | b[o + 3];
}
inline void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}
inline void put32(std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}
inline void put(std::vector<uint8_t>& v, std::span<const uint8_t> s) { v.insert(v.end(), s.begin(), s.end()); }
inline void put(std::vector<uint8_t>& v, const char* s, std::size_t n) { v.insert(v.end(), s, s + n); }

} // namespace srtpo::cp::zrtp::wire
