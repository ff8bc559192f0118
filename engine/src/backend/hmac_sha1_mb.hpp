#pragma once
// HMAC-SHA1 of many messages at once on AVX-512: one message per 32-bit lane, sixteen lanes per
// register set, two sets per pass while more than sixteen messages are left (RFC 2104; SHA-1
// per FIPS 180-4 §6.1.2). The IPsec-MB backend runs the HMAC of its AES-CM
// suites here instead of through IPsec-MB's multi-buffer manager, whose lane bookkeeping cost more
// per packet than the hashing itself on voice-sized packets (ADR 0022, docs/PERFORMANCE.md §3.2).
//
// Private to the backends. Stateless: every function is thread-safe and allocates nothing.

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::engine::detail {

/// One message to authenticate. The key is given as its two precomputed SHA-1 chaining values
/// (after the block K ⊕ ipad, and after K ⊕ opad; RFC 2104 §2), five 32-bit words each in host
/// order — the layout IPsec-MB's IMB_SHA1_ONE_BLOCK writes and its HMAC jobs read.
struct hmac_sha1_msg {
    const uint8_t* ipad = nullptr; ///< 20 octets: five host-order words
    const uint8_t* opad = nullptr;
    const std::byte* data = nullptr;
    uint32_t len = 0;          ///< octets; 0 is allowed (the HMAC of the empty message)
    std::byte* tag = nullptr;  ///< out: the first hmac_sha1_mb_tag_len octets of the HMAC
};

/// Octets written per tag: SRTP/SRTCP keep 10 or 4 of them (RFC 3711 §4.2.1), as with IPsec-MB.
inline constexpr std::size_t hmac_sha1_mb_tag_len = 12;

/// SHA-1 blocks of the inner hash of a message of len octets: the message, 0x80, zeros and the
/// 64-bit bit length of (K ⊕ ipad ‖ message), FIPS 180-4 §5.1.1 (K ⊕ ipad is already hashed).
constexpr uint32_t hmac_sha1_mb_blocks(uint32_t len) noexcept { return len / 64 + (len % 64 + 9 <= 64 ? 1u : 2u); }

/// Whether this CPU and its OS run the AVX-512 (F and BW) code. Thread-safe.
bool hmac_sha1_mb_usable() noexcept;

/// Computes the HMAC of every message. Messages are taken up to thirty-two at a time, longest
/// block counts together, so that a pass rarely hashes a short message's lane past its end (a masked lane
/// costs as much as a live one). A tag may overlap the end of its own message (the SRTP ROC,
/// RFC 3711 §4.2): each pass reads its messages before it writes their tags. A tag must not
/// overlap another message. Call only when hmac_sha1_mb_usable(). Timing depends on the lengths
/// and the number of messages, never on the data or the keys.
void hmac_sha1_mb(std::span<const hmac_sha1_msg> msgs) noexcept;

} // namespace srtpo::engine::detail
