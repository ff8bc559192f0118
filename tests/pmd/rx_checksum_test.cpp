// Receive checksum decisions of the pmd worker (pmd/rx_checksum.hpp): the port's verdict where
// it has one, the frame's own sums where it does not; frames built with correct sums by
// frame_builder, then corrupted one octet at a time.

#include "rx_checksum.hpp"

#include "../net/frame_builder.hpp"

#include <srtpo/net/udp_frame.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace srtpo::pmd {
namespace {

using net::test::frame_spec;
using v = rx_verdict;

struct built {
    std::vector<std::byte> bytes;
    net::udp_frame f;
};

built frame(frame_spec s) {
    if (s.payload.empty()) s.payload = net::test::payload_of(52, 0x80);
    built b{net::test::build_frame(s), {}};
    b.f = net::parse_udp_frame(b.bytes, net::link_type::ethernet);
    EXPECT_TRUE(b.f.ok());
    return b;
}

constexpr std::size_t ip_ttl = 14 + 8;

TEST(RxChecksum, SoftwareChecksWhenThePortHasNoVerdict) {
    auto b = frame({});
    EXPECT_TRUE(checksums_pass(v::unknown, v::unknown, b.bytes, b.f));
    EXPECT_TRUE(plain_udp_checksum_ok(v::unknown, b.bytes, b.f));
    b.bytes[ip_ttl] ^= std::byte{0x01}; // TTL changed, header checksum not
    EXPECT_FALSE(checksums_pass(v::unknown, v::unknown, b.bytes, b.f));
    auto c = frame({});
    c.bytes.back() ^= std::byte{0x10}; // payload changed, UDP checksum not
    EXPECT_TRUE(checksums_pass(v::unknown, v::unknown, c.bytes, c.f)) << "UDP is checked per flow";
    EXPECT_FALSE(plain_udp_checksum_ok(v::unknown, c.bytes, c.f));
}

TEST(RxChecksum, ThePortsVerdictWinsOverTheBytes) {
    auto good = frame({});
    auto bad_ip = frame({});
    bad_ip.bytes[ip_ttl] ^= std::byte{0x01};
    auto bad_udp = frame({});
    bad_udp.bytes.back() ^= std::byte{0x10};
    // The port verified: its verdict is taken, the bytes are not summed again.
    EXPECT_TRUE(checksums_pass(v::good, v::unknown, bad_ip.bytes, bad_ip.f));
    EXPECT_FALSE(checksums_pass(v::bad, v::unknown, good.bytes, good.f));
    EXPECT_FALSE(checksums_pass(v::good, v::bad, good.bytes, good.f));
    EXPECT_TRUE(plain_udp_checksum_ok(v::good, bad_udp.bytes, bad_udp.f));
    EXPECT_FALSE(plain_udp_checksum_ok(v::bad, good.bytes, good.f));
}

TEST(RxChecksum, Ipv4OptionsAreInTheHeaderSum) {
    frame_spec s;
    s.ipv4_options = {1, 1, 1, 0};
    auto b = frame(s);
    EXPECT_TRUE(checksums_pass(v::unknown, v::unknown, b.bytes, b.f));
    b.bytes[14 + 20 + 1] ^= std::byte{0x01}; // an option octet
    EXPECT_FALSE(checksums_pass(v::unknown, v::unknown, b.bytes, b.f));
}

TEST(RxChecksum, ZeroUdpChecksumMeansNoneOnlyOverIpv4) {
    frame_spec s4;
    s4.zero_udp_checksum = true;
    auto b4 = frame(s4);
    EXPECT_TRUE(plain_udp_checksum_ok(v::unknown, b4.bytes, b4.f)); // RFC 768
    frame_spec s6;
    s6.ip_version = 6;
    auto ok6 = frame(s6);
    EXPECT_TRUE(checksums_pass(v::unknown, v::unknown, ok6.bytes, ok6.f)); // no IPv6 header sum
    EXPECT_TRUE(plain_udp_checksum_ok(v::unknown, ok6.bytes, ok6.f));
    s6.zero_udp_checksum = true;
    auto zero6 = frame(s6);
    EXPECT_FALSE(plain_udp_checksum_ok(v::unknown, zero6.bytes, zero6.f)); // RFC 8200 §8.1
    // ... and on every flow, before the lookup: even a port that calls it good is overruled.
    EXPECT_FALSE(checksums_pass(v::unknown, v::unknown, zero6.bytes, zero6.f));
    EXPECT_FALSE(checksums_pass(v::good, v::good, zero6.bytes, zero6.f));
}

TEST(RxChecksum, OffsetsOutsideTheFrameFailClosed) {
    auto b = frame({});
    const auto short_frame = std::span<const std::byte>(b.bytes).first(20);
    EXPECT_FALSE(checksums_pass(v::unknown, v::unknown, short_frame, b.f));
}

} // namespace
} // namespace srtpo::pmd
