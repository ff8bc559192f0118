#pragma once
// Internet checksum (RFC 1071) and its uses: the IPv4 header checksum (RFC 791 §3.1) and the UDP
// checksum over the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1) pseudo-headers.
//
// All functions are pure: thread-safe, noexcept, no allocation; they read spans only during the
// call. Sums are carried in 64 bits so that any datagram (<= 64 KiB) plus a pseudo-header can
// be added before folding without losing a carry.

#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::net {

/// Adds `data` to `acc` as big-endian 16-bit words (RFC 1071 §4.1); an odd final byte is padded
/// with a zero byte on the right. When chaining, only the last chunk may have odd length, and
/// every chunk must start at an even offset of the summed region. The result is a partial sum:
/// only checksum_fold() of it is defined (the unfolded value depends on how the data is added up;
/// it is 0 exactly when `acc` is 0 and every octet of `data` is 0). Thread-safety: pure.
uint64_t checksum_add(std::span<const std::byte> data, uint64_t acc = 0) noexcept;

/// Folds the carries of `acc` back in (end-around carry, RFC 1071 §2(B)) to 16 bits. Not
/// complemented: a correct datagram including its checksum folds to 0xffff.
constexpr uint16_t checksum_fold(uint64_t acc) noexcept {
    // A fixed number of steps, no loop: 64 -> 33 -> 33 bits (the second step's value is at most
    // 2^32), then 33 -> 18 -> 17 -> 16 bits. Each step keeps the value modulo 2^16 - 1, and a
    // non-zero value stays non-zero.
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

/// One's complement of the one's complement sum of `data` (RFC 1071 §1).
uint16_t internet_checksum(std::span<const std::byte> data) noexcept;

/// Value for the checksum field of the IPv4 header `ipv4_header` (IHL*4 bytes, options
/// included), computed as if the field were zero, so it can be called on a header in place.
uint16_t ipv4_header_checksum(std::span<const std::byte> ipv4_header) noexcept;

/// True when the IPv4 header, checksum field included, sums to 0xffff.
bool ipv4_header_checksum_ok(std::span<const std::byte> ipv4_header) noexcept;

/// Unfolded sum of the IPv4 UDP pseudo-header {src, dst, 0, 17, UDP length} (RFC 768).
uint64_t pseudo_header_sum_ipv4(std::span<const std::byte, 4> src, std::span<const std::byte, 4> dst,
                                uint16_t udp_len) noexcept;

/// Unfolded sum of the IPv6 pseudo-header {src, dst, upper-layer length, 0, 17} (RFC 8200 §8.1).
/// The caller passes the final destination (the IPv6 dst at the receiver).
uint64_t pseudo_header_sum_ipv6(std::span<const std::byte, 16> src, std::span<const std::byte, 16> dst,
                                uint32_t udp_len) noexcept;

/// Value for the checksum field of `udp` (UDP header + payload, exactly UDP-length bytes) sent
/// between the IPv4 addresses src and dst; the field itself is taken as zero. A computed 0 is
/// returned as 0xffff, because 0 on the wire means "no checksum" (RFC 768).
uint16_t udp_checksum_ipv4(std::span<const std::byte, 4> src, std::span<const std::byte, 4> dst,
                           std::span<const std::byte> udp) noexcept;

/// As udp_checksum_ipv4 for IPv6. Never returns 0: over IPv6 the checksum is mandatory and a
/// computed 0 is sent as 0xffff (RFC 8200 §8.1).
uint16_t udp_checksum_ipv6(std::span<const std::byte, 16> src, std::span<const std::byte, 16> dst,
                           std::span<const std::byte> udp) noexcept;

/// Value for the UDP checksum field of a parsed frame (f.ok() required; returns 0 otherwise).
uint16_t udp_checksum(std::span<const std::byte> frame, const udp_frame& f) noexcept;

/// Folded, uncomplemented sum of pseudo-header + UDP datagram with its checksum field as stored.
/// 0xffff means the stored checksum verifies. Returns 0 when !f.ok().
uint16_t udp_checksum_residue(std::span<const std::byte> frame, const udp_frame& f) noexcept;

/// True when the UDP checksum of a parsed frame verifies, or is 0 over IPv4 ("no checksum",
/// RFC 768). A zero checksum over IPv6 fails (RFC 8200 §8.1). False when !f.ok().
bool udp_checksum_ok(std::span<const std::byte> frame, const udp_frame& f) noexcept;

} // namespace srtpo::net
