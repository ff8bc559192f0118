#include <srtpo/net/udp_rewrite.hpp>

#include <srtpo/net/checksum.hpp>

#include "byte_order.hpp"

namespace srtpo::net {

namespace {

constexpr std::size_t udp_header_len = 8;
constexpr std::size_t ipv4_min_header_len = 20;
constexpr std::size_t ipv6_header_len = 40;
constexpr std::size_t max_u16 = 0xffff;

/// Checks that `f` describes a frame that fits in `buffer`, so that no write below can land
/// outside it even if the caller pairs a parse with the wrong buffer.
bool consistent(std::span<const std::byte> buffer, const udp_frame& f) noexcept {
    if (!f.ok()) return false;
    const std::size_t min_l3 = f.ip_version == 4 ? ipv4_min_header_len : ipv6_header_len;
    if (f.ip_version != 4 && f.ip_version != 6) return false;
    if (f.l4_offset < std::size_t{f.l3_offset} + min_l3) return false;
    if (f.payload_offset != std::size_t{f.l4_offset} + udp_header_len) return false;
    if (std::size_t{f.payload_offset} + f.payload_len > f.frame_len) return false;
    return f.frame_len <= buffer.size();
}

/// The header checksum of a 20-octet IPv4 header `h` once its total length is `total` (RFC 791
/// §3.1), from its other fields as they are now. Read before the length and checksum fields are
/// written: a wider load that overlaps a just-written narrow field cannot take its data from the
/// store buffer and waits for the store to reach the cache (one such wait per field).
uint16_t basic_header_checksum(std::span<const std::byte> h, uint16_t total) noexcept {
    using detail::load_be16;
    const uint64_t sum = uint64_t{load_be16(h, 0)} + total + load_be16(h, 4) + load_be16(h, 6) + load_be16(h, 8) +
                         load_be16(h, 12) + load_be16(h, 14) + load_be16(h, 16) + load_be16(h, 18);
    return static_cast<uint16_t>(~checksum_fold(sum));
}

/// The UDP checksum of the datagram `f` describes with a UDP length of `udp_len` (RFC 768; RFC
/// 8200 §8.1): the pseudo-header and the UDP header from `f` and `udp_len`, the payload from
/// memory — so the header octets just written (length; ports, by the caller) are not read back
/// (see basic_header_checksum).
uint16_t udp_checksum_of(const udp_frame& f, uint16_t udp_len, std::span<const std::byte> payload) noexcept {
    const uint64_t pseudo = f.ip_version == 4 ? pseudo_header_sum_ipv4(std::span<const std::byte, 4>(f.src.bytes.data(), 4),
                                                                       std::span<const std::byte, 4>(f.dst.bytes.data(), 4), udp_len)
                                              : pseudo_header_sum_ipv6(f.src.bytes, f.dst.bytes, udp_len);
    // The UDP header's words: ports, length, and the checksum field as 0.
    const uint64_t header = uint64_t{f.src_port} + f.dst_port + udp_len;
    const auto c = static_cast<uint16_t>(~checksum_fold(checksum_add(payload, pseudo + header)));
    // RFC 768: "If the computed checksum is zero, it is transmitted as all ones".
    return c == 0 ? uint16_t{0xffff} : c;
}

} // namespace

rewrite_status set_udp_payload_len(std::span<std::byte> buffer, udp_frame& f,
                                   std::size_t new_payload_len, checksum_mode mode) noexcept {
    if (!consistent(buffer, f)) return rewrite_status::bad_frame;
    if (new_payload_len > buffer.size() - f.payload_offset) return rewrite_status::no_room;

    const std::size_t udp_len = udp_header_len + new_payload_len;
    const std::size_t l3_to_l4 = f.l4_offset - f.l3_offset; // IPv4 header or IPv6 header + ext
    const std::size_t ip_len = f.ip_version == 4 ? l3_to_l4 + udp_len : l3_to_l4 - ipv6_header_len + udp_len;
    if (udp_len > max_u16 || ip_len > max_u16) return rewrite_status::too_long;

    const std::size_t l3 = f.l3_offset;
    const std::size_t l4 = f.l4_offset;
    detail::store_be16(buffer, l4 + 4, static_cast<uint16_t>(udp_len));
    if (f.ip_version == 4) {
        // Options (IHL > 5) are rare: summed after the stores, as ipv4_header_checksum does.
        const bool basic = mode == checksum_mode::software && l3_to_l4 == ipv4_min_header_len;
        const uint16_t sum = basic ? basic_header_checksum(buffer.subspan(l3, l3_to_l4), static_cast<uint16_t>(ip_len)) : 0;
        detail::store_be16(buffer, l3 + 2, static_cast<uint16_t>(ip_len));
        detail::store_be16(buffer, l3 + 10, sum);
        if (mode == checksum_mode::software && !basic) detail::store_be16(buffer, l3 + 10, ipv4_header_checksum(buffer.subspan(l3, l3_to_l4)));
    } else {
        detail::store_be16(buffer, l3 + 4, static_cast<uint16_t>(ip_len));
    }

    f.payload_len = static_cast<uint32_t>(new_payload_len);
    f.frame_len = static_cast<uint32_t>(f.payload_offset + new_payload_len);

    // RFC 768: an IPv4 sender may send 0 for "no checksum"; keep the sender's choice. Over IPv6
    // the checksum is mandatory (RFC 8200 §8.1), so a 0 there is replaced by a real one.
    const bool no_checksum = f.ip_version == 4 && detail::load_be16(buffer, l4 + 6) == 0;
    if (no_checksum) return rewrite_status::ok;
    if (mode == checksum_mode::software) {
        detail::store_be16(buffer, l4 + 6, udp_checksum_of(f, static_cast<uint16_t>(udp_len), buffer.subspan(f.payload_offset, new_payload_len)));
    } else {
        const auto len = static_cast<uint16_t>(udp_len);
        const uint64_t pseudo =
            f.ip_version == 4 ? pseudo_header_sum_ipv4(std::span<const std::byte, 4>(f.src.bytes.data(), 4),
                                                       std::span<const std::byte, 4>(f.dst.bytes.data(), 4), len)
                              : pseudo_header_sum_ipv6(f.src.bytes, f.dst.bytes, len);
        detail::store_be16(buffer, l4 + 6, checksum_fold(pseudo));
    }
    return rewrite_status::ok;
}

} // namespace srtpo::net
