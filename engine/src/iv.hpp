#pragma once
// Per-packet IV / nonce builders. Private; all inline and branch-light.

#include <srtpo/engine/kdf.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace srtpo::engine::detail {

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
    iv.fill(0);
    for (std::size_t k = 0; k < salt_len; ++k) iv[k] = static_cast<uint8_t>(salt[k]);
    uint8_t s[4];
    put32(s, ssrc);
    for (int k = 0; k < 4; ++k) iv[4 + k] ^= s[k];
    for (int k = 0; k < 6; ++k) iv[13 - k] ^= static_cast<uint8_t>(index >> (8 * k));
}

/// AEAD nonce for SRTP, RFC 7714 §8.1: (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt, 12 octets.
inline void gcm_srtp_iv(std::array<uint8_t, 16>& iv, const std::byte* salt, uint32_t ssrc, uint32_t roc,
                        uint16_t seq) noexcept {
    iv.fill(0);
    put32(&iv[2], ssrc);
    put32(&iv[6], roc);
    iv[10] = static_cast<uint8_t>(seq >> 8);
    iv[11] = static_cast<uint8_t>(seq);
    for (int k = 0; k < 12; ++k) iv[k] ^= static_cast<uint8_t>(salt[k]);
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
