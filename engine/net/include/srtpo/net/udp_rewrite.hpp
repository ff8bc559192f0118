#pragma once
// udp_rewrite: fix up the L3/L4 headers of a parsed frame after its UDP payload changed length
// in place (SRTP protect appends MKI + tag, unprotect strips them, RFC 3711 §3.1).

#include <srtpo/net/udp_frame.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace srtpo::net {

enum class rewrite_status : uint8_t {
    ok = 0,
    bad_frame, ///< `f` is not an ok parse, or its offsets do not fit the buffer
    no_room,   ///< payload_offset + new length exceeds the buffer
    too_long,  ///< the new UDP length or IP length would exceed 65535 (RFC 768, RFC 791, RFC 8200)
    count_     ///< number of values; not a status
};

inline constexpr std::size_t rewrite_status_count = static_cast<std::size_t>(rewrite_status::count_);

inline constexpr std::array<std::string_view, rewrite_status_count> rewrite_status_names{
    "ok", "bad_frame", "no_room", "too_long"};

/// Stable lower-case name. Thread-safe.
constexpr std::string_view to_string(rewrite_status s) noexcept {
    auto i = static_cast<std::size_t>(s);
    return i < rewrite_status_count ? rewrite_status_names[i] : std::string_view{"invalid"};
}

/// Who computes the checksums of a rewritten frame.
enum class checksum_mode : uint8_t {
    software, ///< set_udp_payload_len computes the IPv4 header and UDP checksums
    /// The NIC does (DPDK's RTE_MBUF_F_TX_IP_CKSUM / RTE_MBUF_F_TX_UDP_CKSUM): the IPv4 header
    /// checksum is left 0 and the UDP checksum field holds the folded pseudo-header sum, not
    /// complemented, as DPDK's tx checksum offload expects (rte_ipv4_phdr_cksum).
    offload,
};

/// Makes the headers of the frame parsed as `f` describe a UDP payload of `new_payload_len`
/// bytes, which the caller has already written at f.payload_offset: sets the UDP length, the
/// IPv4 total length and header checksum (RFC 791 §3.1) or the IPv6 payload length (RFC 8200 §3,
/// extension headers kept), and recomputes the UDP checksum (RFC 768; RFC 8200 §8.1). An IPv4
/// datagram sent with UDP checksum 0 ("no checksum", RFC 768) keeps 0. L2 headers are untouched.
///
/// On ok, f.payload_len = new_payload_len and f.frame_len = f.payload_offset + new_payload_len,
/// which is the new length of the frame: bytes that followed the old datagram (Ethernet padding,
/// FCS, surplus beyond the UDP length) are no longer part of it. On failure nothing is written
/// and `f` is unchanged. Calling it with the current length just refreshes the UDP checksum.
///
/// Thread-safety: touches only `buffer` and `f`. Ownership: `buffer` is the caller's whole buffer
/// (frame + tailroom) and is written only during the call; it must hold the frame `f` came from.
/// With checksum_mode::offload the checksums are prepared for the NIC instead (see above).
rewrite_status set_udp_payload_len(std::span<std::byte> buffer, udp_frame& f,
                                   std::size_t new_payload_len, checksum_mode mode = checksum_mode::software) noexcept;

} // namespace srtpo::net
