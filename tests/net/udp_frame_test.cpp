// parse_udp_frame: every status, every link type, VLAN/QinQ, IPv4 options, IPv6 extension
// chains, fragments, and truncation at every byte offset.

#include "frame_builder.hpp"

#include <srtpo/net/udp_frame.hpp>

#include <gtest/gtest.h>

#include <set>

namespace srtpo::net {
namespace {

using test::build_frame;
using test::frame_spec;
using test::ipv6_ext;
using test::payload_of;
using test::put16;
using test::vlan_tag;

/// Parses with parse_udp_frame and checks, for every frame of every test here, that its fast path
/// (Ethernet/IPv4/UDP) answers exactly as the general parser, and that the form writing into a
/// caller's udp_frame (one left over from another parse) answers the same.
udp_frame parse(const std::vector<std::byte>& f, link_type l = link_type::ethernet) {
    const udp_frame r = parse_udp_frame(std::span<const std::byte>(f), l);
    EXPECT_TRUE(r == detail::parse_udp_frame_general(std::span<const std::byte>(f), l)) << to_string(r.status);
    udp_frame in_place;
    in_place.status = parse_status::not_udp;
    in_place.vlan_count = 2;
    in_place.vlan_tci = {7, 9};
    in_place.src.bytes.fill(std::byte{0xaa});
    in_place.dst.bytes.fill(std::byte{0x55});
    in_place.frame_len = in_place.payload_len = 12345;
    parse_udp_frame(std::span<const std::byte>(f), l, in_place);
    EXPECT_TRUE(in_place == r) << "in place: " << to_string(in_place.status);
    return r;
}

TEST(ParseStatus, NamesAreUniqueAndComplete) {
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < parse_status_count; ++i) {
        auto n = to_string(static_cast<parse_status>(i));
        EXPECT_FALSE(n.empty());
        EXPECT_NE(n, "invalid");
        names.insert(n);
    }
    EXPECT_EQ(names.size(), parse_status_count);
    EXPECT_EQ(to_string(parse_status::bad_udp_length), "bad_udp_length");
    EXPECT_EQ(to_string(parse_status::count_), "invalid");
}

TEST(UdpFrame, Ipv4Ethernet) {
    frame_spec s;
    s.payload = payload_of(160);
    auto f = build_frame(s);
    auto r = parse(f);
    ASSERT_EQ(r.status, parse_status::ok) << to_string(r.status);
    EXPECT_EQ(r.ip_version, 4);
    EXPECT_EQ(r.vlan_count, 0);
    EXPECT_EQ(r.l3_offset, 14u);
    EXPECT_EQ(r.l4_offset, 34u);
    EXPECT_EQ(r.payload_offset, 42u);
    EXPECT_EQ(r.payload_len, 160u);
    EXPECT_EQ(r.frame_len, f.size());
    EXPECT_EQ(r.src.family, ip_family::ipv4);
    EXPECT_EQ(r.src.bytes[0], std::byte{10});
    EXPECT_EQ(r.src.bytes[3], std::byte{3});
    EXPECT_EQ(r.src.bytes[4], std::byte{0});
    EXPECT_EQ(r.dst.bytes[3], std::byte{6});
    EXPECT_EQ(r.src_port, 5004);
    EXPECT_EQ(r.dst_port, 6006);
}

TEST(UdpFrame, Ipv6Ethernet) {
    frame_spec s;
    s.ip_version = 6;
    s.payload = payload_of(100);
    auto f = build_frame(s);
    auto r = parse(f);
    ASSERT_EQ(r.status, parse_status::ok) << to_string(r.status);
    EXPECT_EQ(r.ip_version, 6);
    EXPECT_EQ(r.l4_offset, 14u + 40u);
    EXPECT_EQ(r.payload_len, 100u);
    EXPECT_EQ(r.src.family, ip_family::ipv6);
    EXPECT_EQ(r.src.bytes[15], std::byte{1});
    EXPECT_EQ(r.dst.bytes[15], std::byte{2});
}

TEST(UdpFrame, EthernetPaddingIsNotPayload) {
    frame_spec s;
    s.payload = payload_of(4);
    s.ethernet_padding = 12; // 14 + 20 + 8 + 4 = 46 -> padded to 60 on the wire
    auto f = build_frame(s);
    auto r = parse(f);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.payload_len, 4u);
    EXPECT_EQ(r.frame_len, f.size() - 12);
}

TEST(UdpFrame, ZeroLengthUdpPayload) {
    for (int v : {4, 6}) {
        frame_spec s;
        s.ip_version = v;
        auto f = build_frame(s);
        auto r = parse(f);
        ASSERT_TRUE(r.ok()) << v;
        EXPECT_EQ(r.payload_len, 0u);
        EXPECT_EQ(r.payload_offset, f.size());
    }
}

TEST(UdpFrame, SingleVlan) {
    frame_spec s;
    s.vlans = {{0x8100, 0xa064}};
    s.payload = payload_of(20);
    auto r = parse(build_frame(s));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.vlan_count, 1);
    EXPECT_EQ(r.vlan_tci[0], 0xa064);
    EXPECT_EQ(r.l3_offset, 18u);
}

TEST(UdpFrame, QinQ) {
    for (uint16_t outer : {uint16_t{0x88a8}, uint16_t{0x9100}, uint16_t{0x8100}}) {
        frame_spec s;
        s.ip_version = 6;
        s.vlans = {{outer, 0x0010}, {0x8100, 0x0020}};
        s.payload = payload_of(20);
        auto r = parse(build_frame(s));
        ASSERT_TRUE(r.ok()) << std::hex << outer;
        EXPECT_EQ(r.vlan_count, 2);
        EXPECT_EQ(r.vlan_tci[0], 0x10);
        EXPECT_EQ(r.vlan_tci[1], 0x20);
        EXPECT_EQ(r.l3_offset, 22u);
    }
}

TEST(UdpFrame, ThreeVlanTagsRejected) {
    frame_spec s;
    s.vlans = {{0x88a8, 1}, {0x8100, 2}, {0x8100, 3}};
    s.payload = payload_of(20);
    EXPECT_EQ(parse(build_frame(s)).status, parse_status::too_many_vlans);
}

TEST(UdpFrame, RawIpv4AndIpv6LinkTypes) {
    for (int v : {4, 6}) {
        frame_spec s;
        s.link = link_type::raw;
        s.ip_version = v;
        s.payload = payload_of(33);
        auto f = build_frame(s);
        auto r = parse(f, link_type::raw);
        ASSERT_TRUE(r.ok()) << v;
        EXPECT_EQ(r.l3_offset, 0u);
        EXPECT_EQ(r.payload_len, 33u);
        auto r2 = parse(f, v == 4 ? link_type::ipv4 : link_type::ipv6);
        EXPECT_TRUE(r2.ok());
        // The dedicated link types insist on their version.
        EXPECT_EQ(parse(f, v == 4 ? link_type::ipv6 : link_type::ipv4).status, parse_status::bad_ip_header);
    }
}

TEST(UdpFrame, RawNotIp) {
    auto f = test::bytes_of({0x20, 0, 0, 0});
    EXPECT_EQ(parse(f, link_type::raw).status, parse_status::not_ip);
}

TEST(UdpFrame, LinuxCookedV1AndV2) {
    for (auto l : {link_type::linux_sll, link_type::linux_sll2}) {
        for (int v : {4, 6}) {
            frame_spec s;
            s.link = l;
            s.ip_version = v;
            s.payload = payload_of(50);
            auto r = parse(build_frame(s), l);
            ASSERT_TRUE(r.ok()) << static_cast<int>(l) << " v" << v;
            EXPECT_EQ(r.l3_offset, l == link_type::linux_sll ? 16u : 20u);
            EXPECT_EQ(r.payload_len, 50u);
        }
        frame_spec s;
        s.link = l;
        s.vlans = {{0x8100, 7}};
        auto r = parse(build_frame(s), l);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.vlan_count, 1);
        EXPECT_EQ(r.vlan_tci[0], 7);
    }
}

TEST(UdpFrame, UnsupportedLink) {
    auto f = build_frame({});
    EXPECT_EQ(parse(f, static_cast<link_type>(0)).status, parse_status::unsupported_link);
    EXPECT_EQ(parse(f, static_cast<link_type>(105)).status, parse_status::unsupported_link);
}

TEST(UdpFrame, NotIp) {
    auto f = build_frame({});
    put16(f, 12, 0x0806); // ARP
    EXPECT_EQ(parse(f).status, parse_status::not_ip);
    frame_spec s;
    s.link = link_type::linux_sll;
    auto g = build_frame(s);
    put16(g, 14, 0x0004); // 802.2 LLC
    EXPECT_EQ(parse(g, link_type::linux_sll).status, parse_status::not_ip);
}

TEST(UdpFrame, VersionMismatch) {
    auto f = build_frame({});
    put16(f, 12, 0x86dd); // says IPv6, carries IPv4
    EXPECT_EQ(parse(f).status, parse_status::bad_ip_header);
}

TEST(UdpFrame, Ipv4Options) {
    // Record Route (7) with room for one address + EOL/NOP padding: 8 bytes of options; and the
    // maximum of 40 bytes (IHL = 15).
    for (std::size_t n : {4u, 8u, 40u}) {
        frame_spec s;
        s.ipv4_options.assign(n, 1); // NOPs
        s.ipv4_options[0] = 7;
        s.ipv4_options[1] = static_cast<uint8_t>(n >= 7 ? 7 : 3);
        s.ipv4_options[2] = 4;
        s.payload = payload_of(10);
        auto r = parse(build_frame(s));
        ASSERT_TRUE(r.ok()) << n;
        EXPECT_EQ(r.l4_offset, 14u + 20u + n);
        EXPECT_EQ(r.payload_len, 10u);
    }
}

TEST(UdpFrame, Ipv4BadIhl) {
    for (int ihl = 0; ihl < 5; ++ihl) {
        auto f = build_frame({});
        f[14] = std::byte(0x40 | ihl);
        EXPECT_EQ(parse(f).status, parse_status::bad_ip_header) << ihl;
    }
}

TEST(UdpFrame, Ipv4IhlBeyondCapture) {
    frame_spec s;
    auto f = build_frame(s); // 14 + 20 + 8 = 42 bytes
    f[14] = std::byte{0x4f};   // claims 60 header bytes
    EXPECT_EQ(parse(f).status, parse_status::truncated_l3);
}

TEST(UdpFrame, Ipv4TotalLength) {
    frame_spec s;
    s.ipv4_options.assign(8, 1);
    s.payload = payload_of(10);
    auto f = build_frame(s);
    put16(f, 16, 27); // < IHL (28)
    EXPECT_EQ(parse(f).status, parse_status::bad_ip_length);
    put16(f, 16, 0);
    EXPECT_EQ(parse(f).status, parse_status::bad_ip_length);
    put16(f, 16, static_cast<uint16_t>(f.size() - 14 + 1)); // one byte more than captured
    EXPECT_EQ(parse(f).status, parse_status::truncated_l3);
}

TEST(UdpFrame, Ipv4Fragments) {
    struct c {
        uint16_t field;
        parse_status want;
    };
    for (auto [field, want] : {c{0x2000, parse_status::fragment},   // MF, offset 0: first fragment
                               c{0x0001, parse_status::fragment},   // last fragment
                               c{0x2010, parse_status::fragment},   // middle fragment
                               c{0x1fff, parse_status::fragment},   // max offset
                               c{0x4000, parse_status::ok},         // DF only
                               c{0x0000, parse_status::ok},         // no flags
                               c{0x8000, parse_status::ok}}) {      // reserved bit: not a fragment
        frame_spec s;
        s.ipv4_frag = field;
        auto r = parse(build_frame(s));
        EXPECT_EQ(r.status, want) << std::hex << field;
        if (want == parse_status::fragment) {
            EXPECT_EQ(r.src.family, ip_family::ipv4);
        }
    }
}

TEST(UdpFrame, NotUdp) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{1}, uint8_t{50}, uint8_t{132}}) {
        frame_spec s;
        s.proto = proto;
        EXPECT_EQ(parse(build_frame(s)).status, parse_status::not_udp) << int{proto};
        s.ip_version = 6;
        EXPECT_EQ(parse(build_frame(s)).status, parse_status::not_udp) << int{proto};
    }
    frame_spec s;
    s.ip_version = 6;
    s.proto = 59; // No Next Header
    EXPECT_EQ(parse(build_frame(s)).status, parse_status::not_udp);
    s.ext = {{51, 16}}; // AH: not walked
    s.proto = 17;
    EXPECT_EQ(parse(build_frame(s)).status, parse_status::not_udp);
}

TEST(UdpFrame, Ipv6ExtensionChain) {
    frame_spec s;
    s.ip_version = 6;
    s.ext = {{0, 8}, {60, 16}, {43, 24}, {44}, {60, 8}};
    s.payload = payload_of(77);
    auto f = build_frame(s);
    auto r = parse(f);
    ASSERT_EQ(r.status, parse_status::ok) << to_string(r.status);
    EXPECT_EQ(r.l4_offset, 14u + 40u + 8u + 16u + 24u + 8u + 8u);
    EXPECT_EQ(r.payload_len, 77u);
    EXPECT_EQ(r.frame_len, f.size());
}

TEST(UdpFrame, Ipv6Fragments) {
    for (auto [off, more] : {std::pair<uint16_t, bool>{0, true}, {100, false}, {100, true}}) {
        frame_spec s;
        s.ip_version = 6;
        s.ext = {{60, 8}, {44, 8, off, more}};
        EXPECT_EQ(parse(build_frame(s)).status, parse_status::fragment) << off << more;
    }
    // Atomic fragment (offset 0, M = 0): a whole datagram, RFC 6946.
    frame_spec s;
    s.ip_version = 6;
    s.ext = {{44}};
    s.payload = payload_of(5);
    auto r = parse(build_frame(s));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.payload_len, 5u);
}

TEST(UdpFrame, Ipv6HopByHopNotFirst) {
    frame_spec s;
    s.ip_version = 6;
    s.ext = {{60, 8}, {0, 8}};
    EXPECT_EQ(parse(build_frame(s)).status, parse_status::bad_ext_header);
}

TEST(UdpFrame, Ipv6ChainTooLong) {
    frame_spec s;
    s.ip_version = 6;
    s.ext.assign(8, ipv6_ext{60, 8});
    EXPECT_TRUE(parse(build_frame(s)).ok()); // 8 is the limit
    s.ext.assign(9, ipv6_ext{60, 8});
    EXPECT_EQ(parse(build_frame(s)).status, parse_status::bad_ext_header);
}

TEST(UdpFrame, Ipv6ExtensionPastPayload) {
    frame_spec s;
    s.ip_version = 6;
    s.ext = {{60, 16}};
    auto f = build_frame(s);
    // Make the options header claim 8 more bytes than the datagram holds.
    f[14 + 40 + 1] = std::byte{2 + 1 + 1 + 1}; // (5 + 1) * 8 = 48 > 16 + 8
    EXPECT_EQ(parse(f).status, parse_status::bad_ext_header);
    // Fragment header cut by the payload length.
    frame_spec g;
    g.ip_version = 6;
    g.proto = 44;
    auto h = build_frame(g); // "fragment header" of 8 bytes is really the UDP header
    put16(h, 14 + 4, 4);     // payload length 4 < 8
    h.resize(14 + 40 + 4);
    EXPECT_EQ(parse(h).status, parse_status::bad_ext_header);
    // Generic header whose 2-byte prefix does not fit.
    put16(h, 14 + 4, 1);
    h[14 + 6] = std::byte{60};
    h.resize(14 + 40 + 1);
    EXPECT_EQ(parse(h).status, parse_status::bad_ext_header);
}

TEST(UdpFrame, Ipv6PayloadLength) {
    frame_spec s;
    s.ip_version = 6;
    s.payload = payload_of(10);
    auto f = build_frame(s);
    put16(f, 18, static_cast<uint16_t>(8 + 10 + 1));
    EXPECT_EQ(parse(f).status, parse_status::truncated_l3);
    // Jumbogram: payload length 0 with a hop-by-hop header (RFC 2675).
    frame_spec j;
    j.ip_version = 6;
    j.ext = {{0, 8}};
    auto g = build_frame(j);
    put16(g, 18, 0);
    EXPECT_EQ(parse(g).status, parse_status::bad_ip_length);
    // Payload length 0 straight to UDP: no room for the UDP header.
    put16(f, 18, 0);
    EXPECT_EQ(parse(f).status, parse_status::truncated_udp);
}

TEST(UdpFrame, TruncatedUdp) {
    frame_spec s;
    s.payload = payload_of(10);
    auto f = build_frame(s);
    put16(f, 16, 20 + 7); // datagram holds 7 bytes of UDP
    EXPECT_EQ(parse(f).status, parse_status::truncated_udp);
    put16(f, 16, 20);
    EXPECT_EQ(parse(f).status, parse_status::truncated_udp);
}

TEST(UdpFrame, BadUdpLength) {
    for (int v : {4, 6}) {
        frame_spec s;
        s.ip_version = v;
        s.payload = payload_of(10);
        const std::size_t l4 = 14 + (v == 4 ? 20 : 40);
        for (uint16_t len : {uint16_t{0}, uint16_t{7}, uint16_t{19}, uint16_t{0xffff}}) {
            auto f = build_frame(s);
            put16(f, l4 + 4, len);
            auto r = parse(f);
            EXPECT_EQ(r.status, parse_status::bad_udp_length) << v << " " << len;
            EXPECT_EQ(r.src_port, 5004); // ports are read before the length is judged
        }
        // Shorter than the IP payload: tolerated, payload follows the UDP length.
        auto f = build_frame(s);
        put16(f, l4 + 4, 8 + 4);
        auto r = parse(f);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.payload_len, 4u);
        EXPECT_EQ(r.frame_len, f.size());
    }
}

TEST(UdpFrame, TruncatedL2) {
    auto f = build_frame({});
    f.resize(13);
    EXPECT_EQ(parse(f).status, parse_status::truncated_l2);
    frame_spec s;
    s.vlans = {{0x8100, 1}};
    auto g = build_frame(s);
    g.resize(16); // inside the tag
    EXPECT_EQ(parse(g).status, parse_status::truncated_l2);
    EXPECT_EQ(parse({}, link_type::linux_sll).status, parse_status::truncated_l2);
    EXPECT_EQ(parse({}, link_type::linux_sll2).status, parse_status::truncated_l2);
    EXPECT_EQ(parse({}, link_type::raw).status, parse_status::truncated_l3);
}

// Every prefix of a valid frame must parse to a non-ok status without reading past its end
// (run under ASan to make "without reading past" observable; the copy gives an exact-size heap
// block).
TEST(UdpFrame, TruncationAtEveryOffset) {
    std::vector<std::pair<frame_spec, link_type>> cases;
    {
        frame_spec s;
        s.payload = payload_of(30);
        cases.push_back({s, link_type::ethernet});
        s.vlans = {{0x88a8, 1}, {0x8100, 2}};
        s.ipv4_options.assign(12, 1);
        cases.push_back({s, link_type::ethernet});
        s.ip_version = 6;
        s.ext = {{0, 8}, {43, 16}, {44}, {60, 8}};
        cases.push_back({s, link_type::ethernet});
        s.vlans.clear();
        s.link = link_type::linux_sll;
        cases.push_back({s, link_type::linux_sll});
        s.link = link_type::linux_sll2;
        cases.push_back({s, link_type::linux_sll2});
        s.link = link_type::raw;
        cases.push_back({s, link_type::raw});
        s.ip_version = 4;
        s.link = link_type::ipv4;
        cases.push_back({s, link_type::ipv4});
    }
    for (const auto& [spec, link] : cases) {
        const auto full = build_frame(spec);
        ASSERT_TRUE(parse(full, link).ok());
        for (std::size_t n = 0; n < full.size(); ++n) {
            std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            auto r = parse(cut, link);
            EXPECT_NE(r.status, parse_status::ok) << "prefix " << n << " of " << full.size();
        }
    }
}

// Every single-byte corruption of a valid frame parses without crashing, and an ok result always
// lies inside the frame.
TEST(UdpFrame, ByteFlipsStayInBounds) {
    frame_spec s;
    s.ip_version = 6;
    s.vlans = {{0x8100, 3}};
    s.ext = {{0, 8}, {60, 16}};
    s.payload = payload_of(12);
    const auto full = build_frame(s);
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (int v : {0x00, 0x01, 0x2c, 0x7f, 0x80, 0xff}) {
            auto f = full;
            f[i] = std::byte(v);
            auto r = parse(f);
            if (r.ok()) {
                EXPECT_LE(std::size_t{r.payload_offset} + r.payload_len, r.frame_len);
                EXPECT_LE(r.frame_len, f.size());
            }
        }
    }
}

// Every value of every header octet of a frame in the fast path's shape (and with a 4-octet
// IPv4 option, which leaves it): the fast path and the general parser agree on all of them.
TEST(UdpFrame, FastPathAgreesWithGeneralParserOnEveryHeaderOctet) {
    for (std::size_t opts : {0u, 4u}) {
        frame_spec s;
        s.ipv4_options.assign(opts, 1);
        s.payload = payload_of(24);
        const auto full = build_frame(s);
        std::size_t accepted = 0;
        for (std::size_t i = 0; i < 14 + 20 + opts + 8; ++i)
            for (int v = 0; v < 256; ++v) {
                auto f = full;
                f[i] = std::byte(v);
                accepted += parse(f).ok();
            }
        EXPECT_GT(accepted, 0u); // the sweep covers accepted frames as well as every error
    }
}

} // namespace
} // namespace srtpo::net
