#pragma once
// classify: the pure part of the per-packet decision, with no DPDK types so that it can be unit
// tested on byte spans. Frame parsing itself is srtpo::net::parse_udp_frame (bounds-checked).

#include "flow_key.hpp"

#include <srtpo/engine/rtp_header.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace srtpo::pmd {

/// Writes the key of a packet to `a`:`port` into `k` as the three words flow_index's hash reads
/// (octets 0-7, 8-15, 16-19), one store each, from an IPv4 address's four octets or an IPv6
/// address's sixteen. A key built field by field and read back with wider loads — by the hash
/// right after, or by a copy — makes each such load wait for the narrower stores to reach the
/// cache (no store-to-load forwarding across stores); in srtpo-pmd's receive loop that was its
/// most expensive instruction. Thread-safety: writes `k` only.
inline void set_flow_key(flow_key& k, const net::ip_address& a, uint16_t port) noexcept {
    static_assert(std::endian::native == std::endian::little, "port, family, pad as one little-endian word");
    uint64_t lo = 0, hi = 0;
    if (a.family == net::ip_family::ipv4) {
        uint32_t v;
        std::memcpy(&v, a.bytes.data(), 4);
        lo = v;
    } else {
        std::memcpy(&lo, a.bytes.data(), 8);
        std::memcpy(&hi, a.bytes.data() + 8, 8);
    }
    const uint32_t tail = uint32_t{port} | uint32_t{static_cast<uint8_t>(a.family)} << 16; // pad 0
    auto* p = reinterpret_cast<std::byte*>(&k);
    std::memcpy(p, &lo, 8);
    std::memcpy(p + 8, &hi, 8);
    std::memcpy(p + offsetof(flow_key, port), &tail, 4);
    static_assert(offsetof(flow_key, port) == 16 && offsetof(flow_key, family) == 18 && offsetof(flow_key, pad) == 19);
}

/// The key of a packet to `a`:`port` (set_flow_key). Thread-safety: pure.
inline flow_key make_flow_key(const net::ip_address& a, uint16_t port) noexcept {
    flow_key k;
    set_flow_key(k, a, port);
    return k;
}

/// RFC 7983 §7: a first byte of 128..191 is RTP or RTCP. 0..3 STUN, 16..19 ZRTP, 20..63 DTLS and
/// everything else belong to the exception path.
constexpr bool is_rtp_or_rtcp(uint8_t first_byte) noexcept { return first_byte >= 128 && first_byte <= 191; }

enum class media_kind : uint8_t { rtp = 0, rtcp = 1 };

/// On a muxed port RFC 5761 §4 tells RTCP by its payload type; on port + 1 everything is RTCP.
constexpr media_kind kind_of(uint8_t second_byte, bool rtcp_port) noexcept {
    return rtcp_port || engine::is_rtcp_payload_type(second_byte) ? media_kind::rtcp : media_kind::rtp;
}

enum class frame_class : uint8_t {
    media,     ///< a UDP datagram whose payload starts like RTP/RTCP: look its flow up
    bad_frame, ///< parse_udp_frame said no (reason in the udp_frame's status)
    not_media, ///< UDP, but empty or not RTP/RTCP by RFC 7983 (STUN, DTLS, ZRTP, other)
};

/// Parses an Ethernet frame and decides whether it may take the fast path.
inline frame_class classify_frame(std::span<const std::byte> frame, net::udp_frame& f) noexcept {
    net::parse_udp_frame(frame, net::link_type::ethernet, f);
    if (!f.ok()) return frame_class::bad_frame;
    if (f.payload_len < 2 || !is_rtp_or_rtcp(static_cast<uint8_t>(frame[f.payload_offset]))) return frame_class::not_media;
    return frame_class::media;
}

} // namespace srtpo::pmd
