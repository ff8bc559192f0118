#include <srtpo/net/udp_frame.hpp>

#include "byte_order.hpp"

#include <algorithm>
#include <cstring>

namespace srtpo::net {

namespace {

using detail::load_be16;
using detail::load_u8;

constexpr std::size_t ethernet_header_len = 14; // dst MAC, src MAC, EtherType
constexpr std::size_t sll_header_len = 16;      // protocol at offset 14
constexpr std::size_t sll2_header_len = 20;     // protocol at offset 0
constexpr std::size_t vlan_tag_len = 4;         // TCI + inner EtherType (IEEE 802.1Q §9)
constexpr std::size_t max_vlan_tags = 2;        // 802.1ad QinQ: S-tag + C-tag
constexpr std::size_t ipv4_min_header_len = 20; // RFC 791 §3.1, IHL = 5
constexpr std::size_t ipv6_header_len = 40;     // RFC 8200 §3
constexpr std::size_t udp_header_len = 8;       // RFC 768
// RFC 8200 §4.1 recommends one of each header at most; more than this is an attack or garbage.
constexpr int max_ipv6_ext_headers = 8;

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint16_t ethertype_8021q = 0x8100;
constexpr uint16_t ethertype_8021ad = 0x88a8;
constexpr uint16_t ethertype_qinq_legacy = 0x9100; // pre-802.1ad QinQ, still seen in the wild

constexpr uint8_t proto_hop_by_hop = 0;
constexpr uint8_t proto_udp = 17;
constexpr uint8_t proto_routing = 43;
constexpr uint8_t proto_fragment = 44;
constexpr uint8_t proto_dest_opts = 60;

bool is_vlan_ethertype(uint16_t t) noexcept {
    return t == ethertype_8021q || t == ethertype_8021ad || t == ethertype_qinq_legacy;
}

udp_frame fail(udp_frame& r, parse_status s) noexcept {
    r.status = s;
    return r;
}

ip_address load_address(std::span<const std::byte> f, std::size_t at, ip_family fam) noexcept {
    ip_address a;
    a.family = fam;
    const std::size_t n = fam == ip_family::ipv4 ? 4 : 16;
    std::copy_n(f.begin() + static_cast<std::ptrdiff_t>(at), n, a.bytes.begin());
    return a;
}

/// The shape of nearly every media packet: Ethernet II without VLAN tags, IPv4 without options
/// (IHL 5), not a fragment, UDP. Fills `r` and returns true only when the frame has that shape
/// and passes every check the general parser makes; anything else (including every error) is
/// left to the general parser, so both give the same answer for every frame (the unit tests and
/// the udp_frame fuzzer compare them).
bool parse_ethernet_ipv4_udp(std::span<const std::byte> f, udp_frame& r) noexcept {
    constexpr std::size_t l3 = ethernet_header_len, l4 = l3 + ipv4_min_header_len;
    if (f.size() < l4 + udp_header_len) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(f.data());
    const auto be16 = [p](std::size_t at) noexcept { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); };
    if (be16(12) != ethertype_ipv4 || p[l3] != 0x45 || p[l3 + 9] != proto_udp) return false;
    if ((be16(l3 + 6) & 0x3fff) != 0) return false; // MF or a fragment offset (RFC 791 §3.2)
    const std::size_t total = be16(l3 + 2);
    if (total < ipv4_min_header_len + udp_header_len || total > f.size() - l3) return false;
    const std::size_t udp_len = be16(l4 + 4);
    if (udp_len < udp_header_len || udp_len > total - ipv4_min_header_len) return false;
    r.ip_version = 4;
    r.l3_offset = l3;
    r.l4_offset = l4;
    r.payload_offset = l4 + udp_header_len;
    r.payload_len = static_cast<uint32_t>(udp_len - udp_header_len);
    r.frame_len = static_cast<uint32_t>(l3 + total);
    r.src.family = r.dst.family = ip_family::ipv4;
    std::memcpy(r.src.bytes.data(), p + l3 + 12, 4);
    std::memcpy(r.dst.bytes.data(), p + l3 + 16, 4);
    r.src_port = be16(l4);
    r.dst_port = be16(l4 + 2);
    r.status = parse_status::ok;
    return true;
}

} // namespace

udp_frame parse_udp_frame(std::span<const std::byte> f, link_type link) noexcept {
    udp_frame r;
    if (link == link_type::ethernet && parse_ethernet_ipv4_udp(f, r)) return r;
    return detail::parse_udp_frame_general(f, link);
}

void parse_udp_frame(std::span<const std::byte> f, link_type link, udp_frame& out) noexcept {
    out = udp_frame{};
    if (link == link_type::ethernet && parse_ethernet_ipv4_udp(f, out)) return;
    out = detail::parse_udp_frame_general(f, link);
}

udp_frame detail::parse_udp_frame_general(std::span<const std::byte> f, link_type link) noexcept {
    udp_frame r;
    std::size_t off = 0;
    uint16_t ethertype = 0;
    bool has_ethertype = false;
    uint8_t want_version = 0; // 0: decide by the version nibble

    switch (link) {
    case link_type::ethernet:
        if (f.size() < ethernet_header_len) return fail(r, parse_status::truncated_l2);
        ethertype = load_be16(f, 12);
        off = ethernet_header_len;
        has_ethertype = true;
        break;
    case link_type::linux_sll:
        if (f.size() < sll_header_len) return fail(r, parse_status::truncated_l2);
        ethertype = load_be16(f, 14);
        off = sll_header_len;
        has_ethertype = true;
        break;
    case link_type::linux_sll2:
        if (f.size() < sll2_header_len) return fail(r, parse_status::truncated_l2);
        ethertype = load_be16(f, 0);
        off = sll2_header_len;
        has_ethertype = true;
        break;
    case link_type::raw:
        break;
    case link_type::ipv4:
        want_version = 4;
        break;
    case link_type::ipv6:
        want_version = 6;
        break;
    default:
        return fail(r, parse_status::unsupported_link);
    }

    if (has_ethertype) {
        // libpcap re-inserts stripped tags after the cooked header too, so SLL walks them as well.
        while (is_vlan_ethertype(ethertype)) {
            if (r.vlan_count == max_vlan_tags) return fail(r, parse_status::too_many_vlans);
            if (f.size() - off < vlan_tag_len) return fail(r, parse_status::truncated_l2);
            r.vlan_tci[r.vlan_count++] = load_be16(f, off);
            ethertype = load_be16(f, off + 2);
            off += vlan_tag_len;
        }
        if (ethertype == ethertype_ipv4) {
            want_version = 4;
        } else if (ethertype == ethertype_ipv6) {
            want_version = 6;
        } else {
            return fail(r, parse_status::not_ip);
        }
    }

    r.l3_offset = static_cast<uint32_t>(off);
    if (off >= f.size()) return fail(r, parse_status::truncated_l3);
    const uint8_t version = load_u8(f, off) >> 4;
    if (want_version == 0) {
        if (version != 4 && version != 6) return fail(r, parse_status::not_ip);
        want_version = version;
    } else if (version != want_version) {
        return fail(r, parse_status::bad_ip_header);
    }
    r.ip_version = version;

    const std::size_t avail = f.size() - off; // captured bytes from the IP header on
    std::size_t l4 = 0;                       // UDP header offset
    std::size_t end = 0;                      // end of the IP datagram

    if (version == 4) {
        if (avail < ipv4_min_header_len) return fail(r, parse_status::truncated_l3);
        const std::size_t ihl = std::size_t{load_u8(f, off) & 0x0fu} * 4;
        if (ihl < ipv4_min_header_len) return fail(r, parse_status::bad_ip_header);
        if (avail < ihl) return fail(r, parse_status::truncated_l3);
        const std::size_t total = load_be16(f, off + 2);
        // Total length covers header + data (RFC 791 §3.1); capture may be longer (Ethernet
        // padding to 60 bytes, FCS), never shorter.
        if (total < ihl) return fail(r, parse_status::bad_ip_length);
        if (avail < total) return fail(r, parse_status::truncated_l3);
        r.src = load_address(f, off + 12, ip_family::ipv4);
        r.dst = load_address(f, off + 16, ip_family::ipv4);
        // Only the first fragment holds the UDP header and none holds the whole datagram, so a
        // fragment can be neither classified by port nor rewritten (RFC 791 §3.2).
        const uint16_t frag = load_be16(f, off + 6);
        const bool more_fragments = (frag & 0x2000) != 0;
        const uint16_t frag_offset = frag & 0x1fff;
        if (more_fragments || frag_offset != 0) return fail(r, parse_status::fragment);
        if (load_u8(f, off + 9) != proto_udp) return fail(r, parse_status::not_udp);
        l4 = off + ihl;
        end = off + total;
    } else {
        if (avail < ipv6_header_len) return fail(r, parse_status::truncated_l3);
        const std::size_t payload_len = load_be16(f, off + 4);
        uint8_t next = load_u8(f, off + 6);
        // Payload length 0 with a hop-by-hop header is a jumbogram (RFC 2675 §3), whose length
        // lives in an option; media never uses them and we do not support them.
        if (payload_len == 0 && next == proto_hop_by_hop) return fail(r, parse_status::bad_ip_length);
        if (avail - ipv6_header_len < payload_len) return fail(r, parse_status::truncated_l3);
        r.src = load_address(f, off + 8, ip_family::ipv6);
        r.dst = load_address(f, off + 24, ip_family::ipv6);
        end = off + ipv6_header_len + payload_len;

        std::size_t p = off + ipv6_header_len;
        for (int n = 0;; ++n) {
            if (next == proto_udp) break;
            if (n == max_ipv6_ext_headers) return fail(r, parse_status::bad_ext_header);
            if (next == proto_hop_by_hop || next == proto_routing || next == proto_dest_opts) {
                // RFC 8200 §4.3: hop-by-hop may only follow the IPv6 header itself.
                if (next == proto_hop_by_hop && n != 0) return fail(r, parse_status::bad_ext_header);
                if (end - p < 2) return fail(r, parse_status::bad_ext_header);
                // Hdr Ext Len counts 8-octet units beyond the first 8 (RFC 8200 §4.3-4.6).
                const std::size_t len = (std::size_t{load_u8(f, p + 1)} + 1) * 8;
                if (end - p < len) return fail(r, parse_status::bad_ext_header);
                next = load_u8(f, p);
                p += len;
            } else if (next == proto_fragment) {
                if (end - p < 8) return fail(r, parse_status::bad_ext_header);
                const uint16_t fo = load_be16(f, p + 2);
                // An atomic fragment (offset 0, M = 0) is a whole datagram and is processed in
                // isolation (RFC 6946 §4); any other fragment needs reassembly.
                if ((fo >> 3) != 0 || (fo & 1) != 0) return fail(r, parse_status::fragment);
                next = load_u8(f, p);
                p += 8;
            } else {
                // ESP, AH, mobility, no-next-header (59), TCP, ICMPv6, ...
                return fail(r, parse_status::not_udp);
            }
        }
        l4 = p;
    }

    r.l4_offset = static_cast<uint32_t>(l4);
    r.frame_len = static_cast<uint32_t>(end);
    if (end - l4 < udp_header_len) return fail(r, parse_status::truncated_udp);
    r.src_port = load_be16(f, l4);
    r.dst_port = load_be16(f, l4 + 2);
    // UDP length includes the header (RFC 768). Shorter than the IP payload is tolerated (the
    // surplus is not UDP data); longer would read beyond the datagram. Over IPv6 a length of 0
    // means a jumbogram (RFC 2675 §4), which falls in the "< 8" case.
    const std::size_t udp_len = load_be16(f, l4 + 4);
    if (udp_len < udp_header_len || udp_len > end - l4) return fail(r, parse_status::bad_udp_length);
    r.payload_offset = static_cast<uint32_t>(l4 + udp_header_len);
    r.payload_len = static_cast<uint32_t>(udp_len - udp_header_len);
    r.status = parse_status::ok;
    return r;
}

} // namespace srtpo::net
