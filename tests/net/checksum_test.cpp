// RFC 1071 sums against known values: the RFC's own example, the classic IPv4 header example,
// and two frames whose checksums were computed by Wireshark (text2pcap + tshark 3.x/4.x with
// udp.check_checksum / ip.check_checksum, fields ip.checksum_calculated and
// udp.checksum_calculated).

#include "frame_builder.hpp"

#include <srtpo/net/checksum.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace srtpo::net {
namespace {

std::vector<std::byte> from_hex(const std::string& h) {
    std::vector<std::byte> b;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(std::byte(std::stoi(h.substr(i, 2), nullptr, 16)));
    return b;
}

uint16_t at16(const std::vector<std::byte>& b, std::size_t i) {
    return static_cast<uint16_t>((std::to_integer<unsigned>(b[i]) << 8) | std::to_integer<unsigned>(b[i + 1]));
}

// Ethernet / IPv4 192.0.2.1 -> 198.51.100.7 / UDP 5004 -> 6006, 13-byte (odd) payload.
// Stored checksums are wrong placeholders: IP 0x2222, UDP 0x1111.
const std::string v4_frame_hex = "020000000001020000000002080045b80029abcd400040112222c0000201c6336407138c177600151111"
                                 "737274702d6f66666c6f616480";
constexpr uint16_t v4_ip_checksum = 0xa202;  // tshark ip.checksum_calculated
constexpr uint16_t v4_udp_checksum = 0x1ef9; // tshark udp.checksum_calculated
// Same datagram over IPv6 2001:db8::1 -> 2001:db8::abc.
const std::string v6_frame_hex = "02000000000102000000000286dd6b8123450015114020010db800000000000000000000000120010db8"
                                 "000000000000000000000abc138c177600151111737274702d6f66666c6f616480";
constexpr uint16_t v6_udp_checksum = 0xa506; // tshark udp.checksum_calculated

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is 2ddf0, folded ddf2.
    auto b = test::bytes_of({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
    EXPECT_EQ(checksum_fold(checksum_add(b)), 0xddf2);
    EXPECT_EQ(checksum_fold(checksum_add(b, 0x2)), 0xddf4); // chained onto an earlier partial sum
    EXPECT_EQ(internet_checksum(b), 0x220d);
}

TEST(Checksum, OddLengthPadsRight) {
    auto b = test::bytes_of({0x00, 0x01, 0xf2});
    EXPECT_EQ(checksum_fold(checksum_add(b)), 0xf201u);
    EXPECT_EQ(internet_checksum(b), 0x0dfe);
    EXPECT_EQ(internet_checksum({}), 0xffff);
}

TEST(Checksum, ChainingEvenChunks) {
    auto b = test::payload_of(101);
    std::span<const std::byte> s(b);
    EXPECT_EQ(checksum_fold(checksum_add(s.subspan(40), checksum_add(s.first(40)))), checksum_fold(checksum_add(s)));
}

/// RFC 1071 §4.1 done the slow way: big-endian 16-bit words, one at a time.
uint16_t reference_sum(std::span<const std::byte> b, uint64_t acc = 0) {
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) acc += std::to_integer<unsigned>(b[i]) << 8 | std::to_integer<unsigned>(b[i + 1]);
    if (i < b.size()) acc += std::to_integer<unsigned>(b[i]) << 8;
    return checksum_fold(acc);
}

TEST(Checksum, WordSumAgreesWithWordByWordSum) {
    // Every length across the 8/4/2/1-octet tails, data that carries out of 64 bits (all ones),
    // all zeros (the only sum that folds to 0), and chaining onto partial sums.
    std::mt19937 rng(7);
    for (std::size_t n = 0; n <= 300; ++n) {
        std::vector<std::byte> rnd(n), ones(n, std::byte{0xff}), zeros(n);
        for (auto& x : rnd) x = std::byte(rng() & 0xff);
        for (const auto* v : {&rnd, &ones, &zeros}) {
            EXPECT_EQ(checksum_fold(checksum_add(*v)), reference_sum(*v)) << n;
            EXPECT_EQ(checksum_fold(checksum_add(*v, 0x1fffe)), reference_sum(*v, 0x1fffe)) << n;
            const std::size_t half = n / 2 & ~std::size_t{1};
            std::span<const std::byte> s(*v);
            EXPECT_EQ(checksum_fold(checksum_add(s.subspan(half), checksum_add(s.first(half)))), reference_sum(s)) << n;
        }
        EXPECT_EQ(checksum_fold(checksum_add(zeros)), 0) << n;
    }
}

TEST(Checksum, FoldCarriesRepeatedly) {
    EXPECT_EQ(checksum_fold(0), 0);
    EXPECT_EQ(checksum_fold(0xffff), 0xffff);
    EXPECT_EQ(checksum_fold(0x1ffff), 0x1);   // 0xffff + 1 -> 0x10000 -> 1
    EXPECT_EQ(checksum_fold(0xffffffffffffffffULL), 0xffff);
}

TEST(Checksum, Ipv4HeaderClassicExample) {
    // The well-known example header; its checksum is b861.
    auto h = from_hex("450000730000400040110000c0a80001c0a800c7");
    EXPECT_EQ(ipv4_header_checksum(h), 0xb861);
    h[10] = std::byte{0xb8};
    h[11] = std::byte{0x61};
    EXPECT_EQ(ipv4_header_checksum(h), 0xb861); // the stored field is ignored
    EXPECT_TRUE(ipv4_header_checksum_ok(h));
    h[8] = std::byte{0x3f}; // TTL decremented without fixing the checksum
    EXPECT_FALSE(ipv4_header_checksum_ok(h));
}

TEST(Checksum, Ipv4HeaderAgreesWithWordByWordSum) {
    // Every header length (IHL 5 has its own summing code), random, all-ones and all-zero
    // octets around the checksum field; a stored result must verify, a flipped bit must not.
    std::mt19937 rng(11);
    for (std::size_t ihl = 5; ihl <= 15; ++ihl) {
        for (int round = 0; round < 200; ++round) {
            std::vector<std::byte> h(ihl * 4);
            const uint8_t fill = round == 0 ? 0xff : round == 1 ? 0x00 : 0;
            for (auto& x : h) x = round < 2 ? std::byte{fill} : std::byte(rng() & 0xff);
            h[0] = std::byte(0x40 | ihl); // version 4 (a header is never all zero: see checksum.cpp)
            h[10] = h[11] = std::byte{0};
            const auto expect = static_cast<uint16_t>(~reference_sum(h));
            h[10] = std::byte(rng() & 0xff); // the stored field is ignored
            ASSERT_EQ(ipv4_header_checksum(h), expect) << ihl << " " << round;
            h[10] = std::byte(expect >> 8);
            h[11] = std::byte(expect & 0xff);
            ASSERT_TRUE(ipv4_header_checksum_ok(h)) << ihl << " " << round;
            h[rng() % h.size()] ^= std::byte(1u << (rng() % 8));
            ASSERT_FALSE(ipv4_header_checksum_ok(h)) << ihl << " " << round;
        }
    }
}

TEST(Checksum, KnownIpv4FrameFromWireshark) {
    auto f = from_hex(v4_frame_hex);
    EXPECT_EQ(ipv4_header_checksum(std::span<const std::byte>(f).subspan(14, 20)), v4_ip_checksum);
    auto r = parse_udp_frame(f, link_type::ethernet);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.payload_len, 13u);
    EXPECT_EQ(udp_checksum(f, r), v4_udp_checksum);
    EXPECT_FALSE(udp_checksum_ok(f, r)); // placeholder 0x1111 stored
    f[40] = std::byte{v4_udp_checksum >> 8};
    f[41] = std::byte{v4_udp_checksum & 0xff};
    EXPECT_TRUE(udp_checksum_ok(f, r));
    EXPECT_EQ(udp_checksum_residue(f, r), 0xffff);
    // The address-level API gives the same value.
    auto udp = std::span<const std::byte>(f).subspan(34);
    EXPECT_EQ(udp_checksum_ipv4(std::span<const std::byte, 4>(f.data() + 26, 4),
                                std::span<const std::byte, 4>(f.data() + 30, 4), udp),
              v4_udp_checksum);
}

TEST(Checksum, KnownIpv6FrameFromWireshark) {
    auto f = from_hex(v6_frame_hex);
    auto r = parse_udp_frame(f, link_type::ethernet);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(udp_checksum(f, r), v6_udp_checksum);
    f[60] = std::byte{v6_udp_checksum >> 8};
    f[61] = std::byte{v6_udp_checksum & 0xff};
    EXPECT_TRUE(udp_checksum_ok(f, r));
    EXPECT_EQ(udp_checksum_residue(f, r), 0xffff);
}

TEST(Checksum, AgreesWithIndependentImplementation) {
    for (int v : {4, 6}) {
        for (std::size_t n : {0u, 1u, 2u, 159u, 160u, 1400u}) {
            test::frame_spec s;
            s.ip_version = v;
            s.payload = test::payload_of(n, static_cast<uint8_t>(n));
            auto f = test::build_frame(s); // checksum from the test's own naive sum
            auto r = parse_udp_frame(f, link_type::ethernet);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(udp_checksum(f, r), at16(f, r.l4_offset + 6)) << v << " " << n;
            EXPECT_TRUE(udp_checksum_ok(f, r));
            if (v == 4) {
                EXPECT_TRUE(ipv4_header_checksum_ok(std::span<const std::byte>(f).subspan(14, 20)));
            }
        }
    }
}

TEST(Checksum, ComputedZeroIsSentAsAllOnes) {
    for (int v : {4, 6}) {
        test::frame_spec s;
        s.ip_version = v;
        s.payload = test::payload_of(2);
        s.payload[0] = s.payload[1] = std::byte{0};
        auto f = test::build_frame(s);
        auto r = parse_udp_frame(f, link_type::ethernet);
        ASSERT_TRUE(r.ok());
        // Choose the payload word so that the sum without the checksum field is 0xffff, i.e. the
        // complemented checksum would be 0.
        f[r.l4_offset + 6] = f[r.l4_offset + 7] = std::byte{0};
        const uint16_t rest = checksum_fold(checksum_add(std::span<const std::byte>(f).subspan(r.l4_offset),
                                                         v == 4 ? pseudo_header_sum_ipv4(std::span<const std::byte, 4>(r.src.bytes.data(), 4),
                                                                                         std::span<const std::byte, 4>(r.dst.bytes.data(), 4), 10)
                                                                : pseudo_header_sum_ipv6(r.src.bytes, r.dst.bytes, 10)));
        const auto word = static_cast<uint16_t>(0xffff - rest);
        f[r.payload_offset] = std::byte(word >> 8);
        f[r.payload_offset + 1] = std::byte(word & 0xff);
        EXPECT_EQ(udp_checksum(f, r), 0xffff) << v;
        f[r.l4_offset + 6] = f[r.l4_offset + 7] = std::byte{0xff};
        EXPECT_TRUE(udp_checksum_ok(f, r));
    }
}

TEST(Checksum, ZeroMeansNoChecksumOnlyOverIpv4) {
    for (int v : {4, 6}) {
        test::frame_spec s;
        s.ip_version = v;
        s.zero_udp_checksum = true;
        s.payload = test::payload_of(20);
        auto f = test::build_frame(s);
        auto r = parse_udp_frame(f, link_type::ethernet);
        ASSERT_TRUE(r.ok());
        // RFC 768 allows "no checksum" over IPv4; RFC 8200 §8.1 forbids it over IPv6.
        EXPECT_EQ(udp_checksum_ok(f, r), v == 4);
    }
}

TEST(Checksum, CorruptionDetected) {
    test::frame_spec s;
    s.payload = test::payload_of(64);
    auto f = test::build_frame(s);
    auto r = parse_udp_frame(f, link_type::ethernet);
    ASSERT_TRUE(udp_checksum_ok(f, r));
    f[r.payload_offset + 5] ^= std::byte{0x01};
    EXPECT_FALSE(udp_checksum_ok(f, r));
    EXPECT_NE(udp_checksum_residue(f, r), 0xffff);
}

TEST(Checksum, MismatchedFrameIsRejectedNotRead) {
    test::frame_spec s;
    s.payload = test::payload_of(64);
    auto f = test::build_frame(s);
    auto r = parse_udp_frame(f, link_type::ethernet);
    std::vector<std::byte> shorter(f.begin(), f.begin() + 50);
    EXPECT_EQ(udp_checksum(shorter, r), 0);
    EXPECT_EQ(udp_checksum_residue(shorter, r), 0);
    EXPECT_FALSE(udp_checksum_ok(shorter, r));
    udp_frame bad;
    bad.status = parse_status::fragment;
    EXPECT_FALSE(udp_checksum_ok(f, bad));
}

} // namespace
} // namespace srtpo::net
