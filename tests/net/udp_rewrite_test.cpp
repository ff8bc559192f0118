// set_udp_payload_len: grow/shrink round trips over every L2/L3 shape, checksums re-verified.

#include "frame_builder.hpp"

#include <srtpo/net/checksum.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include <gtest/gtest.h>

namespace srtpo::net {
namespace {

uint16_t at16(const std::vector<std::byte>& b, std::size_t i) {
    return static_cast<uint16_t>((std::to_integer<unsigned>(b[i]) << 8) | std::to_integer<unsigned>(b[i + 1]));
}

struct shape {
    const char* name;
    test::frame_spec spec;
};

std::vector<shape> shapes() {
    std::vector<shape> v;
    test::frame_spec s;
    s.payload = test::payload_of(172); // an RTP packet with a 160-byte payload
    v.push_back({"ipv4", s});
    auto o = s;
    o.ipv4_options.assign(8, 1);
    o.vlans = {{0x88a8, 10}, {0x8100, 20}};
    v.push_back({"ipv4 options qinq", o});
    auto p = s;
    p.ethernet_padding = 6;
    v.push_back({"ipv4 trailing padding", p});
    auto six = s;
    six.ip_version = 6;
    v.push_back({"ipv6", six});
    auto ext = six;
    ext.ext = {{0, 8}, {60, 16}};
    ext.vlans = {{0x8100, 5}};
    v.push_back({"ipv6 ext vlan", ext});
    auto sll = six;
    sll.link = link_type::linux_sll;
    v.push_back({"ipv6 sll", sll});
    return v;
}

// Grow by 10 (an SRTP auth tag), re-parse, verify; then shrink back (unprotect) and compare.
TEST(UdpRewrite, GrowAndShrinkRoundTrip) {
    for (const auto& [name, spec] : shapes()) {
        SCOPED_TRACE(name);
        const auto original = test::build_frame(spec);
        auto buf = original;
        buf.resize(original.size() + 64, std::byte{0xee}); // tailroom
        auto f = parse_udp_frame(std::span<const std::byte>(buf.data(), original.size()), spec.link);
        ASSERT_TRUE(f.ok());
        const auto old_len = f.payload_len;
        for (std::size_t i = 0; i < 10; ++i) buf[f.payload_offset + old_len + i] = std::byte(0xa0 + i);

        ASSERT_EQ(set_udp_payload_len(buf, f, old_len + 10), rewrite_status::ok);
        EXPECT_EQ(f.payload_len, old_len + 10);
        EXPECT_EQ(f.frame_len, f.payload_offset + old_len + 10);

        const std::span<const std::byte> grown(buf.data(), f.frame_len);
        auto g = parse_udp_frame(grown, spec.link);
        ASSERT_EQ(g.status, parse_status::ok) << to_string(g.status);
        EXPECT_EQ(g.payload_len, old_len + 10);
        EXPECT_EQ(g.frame_len, f.frame_len);
        EXPECT_EQ(g.l4_offset, f.l4_offset);
        EXPECT_EQ(udp_checksum_residue(grown, g), 0xffff);
        EXPECT_TRUE(udp_checksum_ok(grown, g));
        if (g.ip_version == 4) {
            EXPECT_TRUE(ipv4_header_checksum_ok(grown.subspan(g.l3_offset, g.l4_offset - g.l3_offset)));
        }

        ASSERT_EQ(set_udp_payload_len(buf, g, old_len), rewrite_status::ok);
        const std::size_t datagram_end = f.payload_offset + old_len;
        EXPECT_EQ(g.frame_len, datagram_end);
        EXPECT_TRUE(std::equal(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(datagram_end), buf.begin()))
            << "shrinking back restores the original headers and checksums";
    }
}

// Every new length from 0 to 80 octets (odd ones too: the last octet is padded on the right),
// over each shape, after new addresses and ports like srtpo-pmd's send_from/send_to (written to
// the frame and to `f`, as its contract asks): both checksums verify from the bytes alone.
TEST(UdpRewrite, EveryLengthAfterNewEndpointsVerifies) {
    for (const auto& [name, spec] : shapes()) {
        SCOPED_TRACE(name);
        const auto original = test::build_frame(spec);
        auto f0 = parse_udp_frame(original, spec.link);
        ASSERT_TRUE(f0.ok());
        for (std::size_t len = 0; len <= 80; ++len) {
            SCOPED_TRACE(len);
            auto buf = original;
            buf.resize(f0.payload_offset + 200, std::byte{0});
            auto f = f0;
            for (std::size_t i = 0; i < len; ++i) buf[f.payload_offset + i] = std::byte(0x3b * i + len);
            const std::size_t alen = f.ip_version == 4 ? 4 : 16;
            for (std::size_t i = 0; i < alen; ++i) {
                f.src.bytes[i] = buf[f.l3_offset + (f.ip_version == 4 ? 12 : 8) + i] = std::byte(0xc0 + i);
                f.dst.bytes[i] = buf[f.l3_offset + (f.ip_version == 4 ? 16 : 24) + i] = std::byte(0x0a + 3 * i);
            }
            f.src_port = 40000;
            f.dst_port = static_cast<uint16_t>(7000 + len);
            buf[f.l4_offset] = std::byte(f.src_port >> 8);
            buf[f.l4_offset + 1] = std::byte(f.src_port & 0xff);
            buf[f.l4_offset + 2] = std::byte(f.dst_port >> 8);
            buf[f.l4_offset + 3] = std::byte(f.dst_port & 0xff);
            ASSERT_EQ(set_udp_payload_len(buf, f, len), rewrite_status::ok);
            const std::span<const std::byte> out(buf.data(), f.frame_len);
            const auto g = parse_udp_frame(out, spec.link);
            ASSERT_EQ(g.status, parse_status::ok) << to_string(g.status);
            EXPECT_EQ(g.payload_len, len);
            EXPECT_TRUE(udp_checksum_ok(out, g));
            EXPECT_FALSE(buf[g.l4_offset + 6] == std::byte{0} && buf[g.l4_offset + 7] == std::byte{0})
                << "a computed 0 is sent as 0xffff (0 would say: no checksum)";
            if (g.ip_version == 4) {
                EXPECT_TRUE(ipv4_header_checksum_ok(out.subspan(g.l3_offset, g.l4_offset - g.l3_offset)));
            }
        }
    }
}

// checksum_mode::offload leaves what a NIC's tx checksum offload expects. Doing the NIC's part
// here (RFC 1071 sum over the datagram whose checksum field holds the pseudo-header sum, then
// complement; the IPv4 header checksum over the header) must give exactly the software result.
TEST(UdpRewrite, OffloadPreparesWhatTheNicCompletes) {
    for (const auto& [name, spec] : shapes()) {
        SCOPED_TRACE(name);
        const auto original = test::build_frame(spec);
        auto soft = original, hw = original;
        soft.resize(original.size() + 64);
        hw.resize(original.size() + 64);
        auto fs = parse_udp_frame(std::span<const std::byte>(soft.data(), original.size()), spec.link);
        auto fh = parse_udp_frame(std::span<const std::byte>(hw.data(), original.size()), spec.link);
        ASSERT_TRUE(fs.ok());
        const auto len = fs.payload_len + 10;
        ASSERT_EQ(set_udp_payload_len(soft, fs, len), rewrite_status::ok);
        ASSERT_EQ(set_udp_payload_len(hw, fh, len, checksum_mode::offload), rewrite_status::ok);
        EXPECT_EQ(fh.frame_len, fs.frame_len);
        if (fh.ip_version == 4) {
            EXPECT_EQ(at16(hw, fh.l3_offset + 10), 0) << "the NIC fills the IPv4 header checksum";
            const auto c = ipv4_header_checksum(std::span<const std::byte>(hw).subspan(fh.l3_offset, fh.l4_offset - fh.l3_offset));
            hw[fh.l3_offset + 10] = std::byte(c >> 8);
            hw[fh.l3_offset + 11] = std::byte(c & 0xff);
        }
        const auto udp = std::span<const std::byte>(hw).subspan(fh.l4_offset, 8 + len);
        auto c = static_cast<uint16_t>(~checksum_fold(checksum_add(udp)));
        if (c == 0) c = 0xffff;
        hw[fh.l4_offset + 6] = std::byte(c >> 8);
        hw[fh.l4_offset + 7] = std::byte(c & 0xff);
        EXPECT_TRUE(std::equal(soft.begin(), soft.begin() + fs.frame_len, hw.begin())) << "offload result differs from software";
    }
}

TEST(UdpRewrite, ZeroIpv4ChecksumStaysZero) {
    test::frame_spec s;
    s.zero_udp_checksum = true;
    s.payload = test::payload_of(40);
    auto buf = test::build_frame(s);
    buf.resize(buf.size() + 10);
    auto f = parse_udp_frame(std::span<const std::byte>(buf.data(), buf.size() - 10), link_type::ethernet);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(set_udp_payload_len(buf, f, 50), rewrite_status::ok);
    EXPECT_EQ(at16(buf, f.l4_offset + 6), 0);
    EXPECT_EQ(at16(buf, f.l4_offset + 4), 58);
    EXPECT_EQ(at16(buf, f.l3_offset + 2), 78);
    EXPECT_TRUE(ipv4_header_checksum_ok(std::span<const std::byte>(buf).subspan(f.l3_offset, 20)));
}

TEST(UdpRewrite, ZeroIpv6ChecksumIsReplaced) {
    test::frame_spec s;
    s.ip_version = 6;
    s.zero_udp_checksum = true;
    s.payload = test::payload_of(40);
    auto buf = test::build_frame(s);
    auto f = parse_udp_frame(buf, link_type::ethernet);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(set_udp_payload_len(buf, f, 40), rewrite_status::ok); // same length: refresh only
    EXPECT_NE(at16(buf, f.l4_offset + 6), 0);
    EXPECT_TRUE(udp_checksum_ok(buf, f));
}

TEST(UdpRewrite, ShrinkToEmpty) {
    for (int v : {4, 6}) {
        test::frame_spec s;
        s.ip_version = v;
        s.payload = test::payload_of(30);
        auto buf = test::build_frame(s);
        auto f = parse_udp_frame(buf, link_type::ethernet);
        ASSERT_EQ(set_udp_payload_len(buf, f, 0), rewrite_status::ok);
        auto g = parse_udp_frame(std::span<const std::byte>(buf.data(), f.frame_len), link_type::ethernet);
        ASSERT_TRUE(g.ok());
        EXPECT_EQ(g.payload_len, 0u);
        EXPECT_TRUE(udp_checksum_ok(std::span<const std::byte>(buf.data(), f.frame_len), g));
    }
}

TEST(UdpRewrite, NoRoom) {
    test::frame_spec s;
    s.payload = test::payload_of(30);
    auto buf = test::build_frame(s);
    const auto before = buf;
    auto f = parse_udp_frame(buf, link_type::ethernet);
    const auto saved = f;
    EXPECT_EQ(set_udp_payload_len(buf, f, 31), rewrite_status::no_room);
    EXPECT_EQ(buf, before);
    EXPECT_EQ(f.payload_len, saved.payload_len);
    EXPECT_EQ(set_udp_payload_len(buf, f, 30), rewrite_status::ok);
}

TEST(UdpRewrite, TooLong) {
    for (int v : {4, 6}) {
        test::frame_spec s;
        s.ip_version = v;
        auto buf = test::build_frame(s);
        const std::size_t l3_to_l4 = v == 4 ? 20 : 0;
        const std::size_t max_payload = 65535 - 8 - l3_to_l4; // IPv4 total / IPv6 payload length
        buf.resize(14 + 40 + 8 + max_payload + 2);
        auto f = parse_udp_frame(std::span<const std::byte>(buf.data(), 14 + (v == 4 ? 20 : 40) + 8), link_type::ethernet);
        ASSERT_TRUE(f.ok());
        EXPECT_EQ(set_udp_payload_len(buf, f, max_payload + 1), rewrite_status::too_long) << v;
        EXPECT_EQ(set_udp_payload_len(buf, f, max_payload), rewrite_status::ok) << v;
        auto g = parse_udp_frame(std::span<const std::byte>(buf.data(), f.frame_len), link_type::ethernet);
        ASSERT_TRUE(g.ok()) << to_string(g.status);
        EXPECT_EQ(g.payload_len, max_payload);
    }
}

TEST(UdpRewrite, BadFrame) {
    test::frame_spec s;
    s.payload = test::payload_of(30);
    auto buf = test::build_frame(s);
    udp_frame not_ok;
    not_ok.status = parse_status::not_udp;
    EXPECT_EQ(set_udp_payload_len(buf, not_ok, 10), rewrite_status::bad_frame);
    auto f = parse_udp_frame(buf, link_type::ethernet);
    // A parse of a longer frame paired with a shorter buffer must not be written through.
    std::vector<std::byte> small(buf.begin(), buf.begin() + 40);
    EXPECT_EQ(set_udp_payload_len(small, f, 0), rewrite_status::bad_frame);
    auto g = f;
    g.payload_offset = g.l4_offset + 4;
    EXPECT_EQ(set_udp_payload_len(buf, g, 0), rewrite_status::bad_frame);
    EXPECT_EQ(to_string(rewrite_status::no_room), "no_room");
    EXPECT_EQ(to_string(rewrite_status::count_), "invalid");
}

} // namespace
} // namespace srtpo::net
