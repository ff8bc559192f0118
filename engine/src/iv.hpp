#pragma once
// Per-packet IV / nonce builders. Private; all inline and branch-light.

#include <srtpo/engine/kdf.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace srtpo::engine::detail {

inline constexpr bool little_endian = std::endian::native == std::endian::little;
inline uint64_t load_be64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return little_endian ? __builtin_bswap64(v) : v;
}
inline uint32_t load_be32(const uint8_t* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return little_endian ? __builtin_bswap32(v) : v;
}
inline void store_be64(uint8_t* p, uint64_t v) noexcept {
    if (little_endian) v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
}

inline void put32(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
inline void put32(std::byte* p, uint32_t v) noexcept { put32(reinterpret_cast<uint8_t*>(p), v); }
inline uint32_t get32(const std::byte* p) noexcept {
    return uint32_t{static_cast<uint8_t>(p[0])} << 24 | uint32_t{static_cast<uint8_t>(p[1])} << 16 |
           uint32_t{static_cast<uint8_t>(p[2])} << 8 | uint32_t{static_cast<uint8_t>(p[3])};
}

/// AES-CM counter block, RFC 3711 §4.1.1: IV = (k_s · 2^16) ⊕ (SSRC · 2^64) ⊕ (i · 2^16).
/// `salt` holds 14 octets (a 12-octet AEAD header salt is zero-padded, RFC 6904 with RFC 7714).
inline void aes_cm_iv(std::array<uint8_t, 16>& iv, const std::byte* salt, std::size_t salt_len, uint32_t ssrc,
                      uint64_t index) noexcept {
    // Built as two big-endian 64-bit halves: bytes 4..7 carry the SSRC, bytes 8..13 the index,
    // bytes 14..15 (the block counter) stay 0. Word-wide XORs instead of a byte loop: this runs
    // once per packet.
    const auto* p = reinterpret_cast<const uint8_t*>(salt);
    uint64_t hi, lo;
    if (salt_len >= 14) {
        // The salt read where it lies, in loads no wider than its octets: a zero-padded local
        // copy read back with 8-octet loads spanned two of the copy's stores, and such a load
        // waits for them to reach the cache (a quarter of the AES-CM job loop's samples).
        hi = load_be64(p);
        lo = uint64_t{load_be32(p + 8)} << 32 | uint64_t{p[12]} << 24 | uint64_t{p[13]} << 16;
    } else {
        uint8_t s[16] = {};
        std::memcpy(s, salt, salt_len);
        hi = load_be64(s);
        lo = load_be64(s + 8);
    }
    hi ^= uint64_t{ssrc};
    lo ^= index << 16;
    store_be64(iv.data(), hi);
    store_be64(iv.data() + 8, lo & ~uint64_t{0xffff});
}

/// AEAD nonce for SRTP, RFC 7714 §8.1: (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt, 12 octets.
inline void gcm_srtp_iv(std::array<uint8_t, 16>& iv, const std::byte* salt, uint32_t ssrc, uint32_t roc,
                        uint16_t seq) noexcept {
    uint8_t s[16] = {};
    std::memcpy(s, salt, 12);
    // Octets 0-1 zero, 2-5 SSRC, 6-9 ROC, 10-11 SEQ; as 64+32 bits: (SSRC << 16 | ROC >> 16), (ROC << 16 | SEQ).
    store_be64(iv.data(), load_be64(s) ^ (uint64_t{ssrc} << 16 | roc >> 16));
    const uint32_t tail = load_be32(s + 8) ^ (roc << 16 | seq);
    put32(&iv[8], tail);
    std::memset(&iv[12], 0, 4);
}

/// AEAD nonce for SRTCP, RFC 7714 §9.1: (0x0000 ‖ SSRC ‖ 0x0000 ‖ 0 ‖ SRTCP index) ⊕ salt.
inline void gcm_srtcp_iv(std::array<uint8_t, 16>& iv, const std::byte* salt, uint32_t ssrc, uint32_t index) noexcept {
    iv.fill(0);
    put32(&iv[2], ssrc);
    put32(&iv[8], index & 0x7fffffffu);
    for (int k = 0; k < 12; ++k) iv[k] ^= static_cast<uint8_t>(salt[k]);
}

/// AES-f8 IV for SRTP, RFC 3711 §4.1.2.2: 0x00 ‖ M ‖ PT ‖ SEQ ‖ TS ‖ SSRC ‖ ROC.
inline void f8_srtp_iv(std::array<uint8_t, 16>& iv, const std::byte* rtp, uint32_t roc) noexcept {
    iv[0] = 0;
    for (int k = 1; k < 12; ++k) iv[k] = static_cast<uint8_t>(rtp[k]);
    put32(&iv[12], roc);
}

/// AES-f8 IV for SRTCP, RFC 3711 §4.1.2.3: 0…0 (32) ‖ E ‖ SRTCP index ‖ V‖P‖RC‖PT‖length ‖ SSRC.
inline void f8_srtcp_iv(std::array<uint8_t, 16>& iv, const std::byte* rtcp, uint32_t e_index) noexcept {
    iv.fill(0);
    put32(&iv[4], e_index);
    for (int k = 0; k < 8; ++k) iv[8 + k] = static_cast<uint8_t>(rtcp[k]);
}

} // namespace srtpo::engine::detail
