#pragma once
// Big-endian (network order) loads and stores on std::byte spans. Private to srtpo_net.
// Callers check bounds first; these only assert them in debug builds.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::net::detail {

inline uint8_t load_u8(std::span<const std::byte> b, std::size_t at) noexcept {
    assert(at < b.size());
    return static_cast<uint8_t>(b[at]);
}

inline uint16_t load_be16(std::span<const std::byte> b, std::size_t at) noexcept {
    assert(at + 2 <= b.size());
    return static_cast<uint16_t>((static_cast<unsigned>(b[at]) << 8) | static_cast<unsigned>(b[at + 1]));
}

inline uint32_t load_be32(std::span<const std::byte> b, std::size_t at) noexcept {
    assert(at + 4 <= b.size());
    return (uint32_t{load_be16(b, at)} << 16) | load_be16(b, at + 2);
}

inline void store_u8(std::span<std::byte> b, std::size_t at, uint8_t v) noexcept {
    assert(at < b.size());
    b[at] = std::byte{v};
}

inline void store_be16(std::span<std::byte> b, std::size_t at, uint16_t v) noexcept {
    assert(at + 2 <= b.size());
    b[at] = static_cast<std::byte>(v >> 8);
    b[at + 1] = static_cast<std::byte>(v & 0xff);
}

inline void store_be32(std::span<std::byte> b, std::size_t at, uint32_t v) noexcept {
    store_be16(b, at, static_cast<uint16_t>(v >> 16));
    store_be16(b, at + 2, static_cast<uint16_t>(v & 0xffff));
}

inline void store_be64(std::span<std::byte> b, std::size_t at, uint64_t v) noexcept {
    store_be32(b, at, static_cast<uint32_t>(v >> 32));
    store_be32(b, at + 4, static_cast<uint32_t>(v & 0xffffffff));
}

} // namespace srtpo::net::detail
