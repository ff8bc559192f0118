#pragma once
// Receive checksums on the fast path (docs/pmd.md, "Stats"): which frames the worker may take,
// given the port's verdict where it has one and the frame's bytes where it does not. No DPDK
// types, so that the decision can be unit tested; worker.cpp maps the mbuf's RX flags to
// rx_verdict.
//
// A host discards datagrams whose checksums fail (RFC 1122 §3.2.1.2, §4.1.3.4), and so does the
// kernel for the frames that reach it; the worker's rewrite recomputes both sums, so a frame let
// through here would leave with valid ones.
//
// All functions are pure: thread-safe, noexcept, no allocation; they read `frame` during the call.

#include <srtpo/net/checksum.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::pmd {

/// The port's verdict on one checksum of a received frame; `unknown` where the port does not
/// check it (vdevs, NICs without the offload): then the worker sums the bytes itself.
enum class rx_verdict : uint8_t { unknown, good, bad };

/// Whether a parsed media frame (f.ok()) may take the fast path as far as its IPv4 header
/// checksum (RFC 791 §3.1), the port's UDP verdict and, over IPv6, a UDP checksum of 0 go: IPv6
/// has no header checksum, so the UDP checksum is mandatory and a receiver discards 0 (RFC 8200
/// §8.1) — on every flow, as the kernel does, although SRTP in would be authenticated anyway.
inline bool checksums_pass(rx_verdict ip, rx_verdict udp, std::span<const std::byte> frame, const net::udp_frame& f) noexcept {
    if (udp == rx_verdict::bad) return false;
    if (f.ip_version != 4) {
        constexpr std::size_t udp_checksum_at = 6;
        const std::size_t at = std::size_t{f.l4_offset} + udp_checksum_at;
        return at + 2 <= frame.size() && (frame[at] != std::byte{0} || frame[at + 1] != std::byte{0});
    }
    switch (ip) {
    case rx_verdict::good: return true;
    case rx_verdict::bad: return false;
    case rx_verdict::unknown: break;
    }
    if (f.l4_offset > frame.size() || f.l3_offset > f.l4_offset) return false;
    return net::ipv4_header_checksum_ok(frame.subspan(f.l3_offset, std::size_t{f.l4_offset} - f.l3_offset));
}

/// The UDP checksum of a frame whose flow takes plain RTP/RTCP in (protect, forward), once
/// checksums_pass() let it through. SRTP in needs no such check: its tag authenticates the whole
/// RTP/RTCP packet (RFC 3711 §3.1, §3.4) far more strongly than the 16-bit sum, and a corrupted
/// destination finds no flow or the wrong key; plain media has only the UDP checksum, which the
/// rewrite would replace with a valid one for corrupted bytes (and protect would then
/// authenticate them). IPv4's 0 ("no checksum", RFC 768) passes; over IPv6 it fails (RFC 8200 §8.1).
inline bool plain_udp_checksum_ok(rx_verdict udp, std::span<const std::byte> frame, const net::udp_frame& f) noexcept {
    if (udp != rx_verdict::unknown) return udp == rx_verdict::good;
    return net::udp_checksum_ok(frame, f);
}

} // namespace srtpo::pmd
