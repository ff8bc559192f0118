// Header parsing on hostile input: every malformed case has its status, nothing reads past the end.

#include "test_util.hpp"

#include <srtpo/engine/rtp_header.hpp>

#include <gtest/gtest.h>

using namespace srtpo;
using namespace srtpo::test;
using engine::status;

namespace {

TEST(rtp_header, fields_csrcs_and_extension) {
    rtp_spec s;
    s.ssrc = 0xdeadbeef;
    s.seq = 0xfffe;
    s.ts = 0x01020304;
    s.pt = 111;
    s.marker = true;
    s.csrcs = {1, 2, 3};
    s.ext_elements = {{1, 2}, {5, 3}};
    s.payload_len = 20;
    auto p = make_rtp(s);
    engine::rtp_header_view h;
    ASSERT_EQ(engine::parse_rtp_header(p, h), status::ok);
    EXPECT_EQ(h.ssrc, 0xdeadbeefu);
    EXPECT_EQ(h.seq, 0xfffe);
    EXPECT_EQ(h.timestamp, 0x01020304u);
    EXPECT_EQ(h.pt, 111);
    EXPECT_TRUE(h.marker);
    EXPECT_EQ(h.cc, 3);
    EXPECT_TRUE(h.extension);
    EXPECT_EQ(h.ext_offset, 24);
    EXPECT_EQ(h.ext_profile, 0xBEDE);
    EXPECT_EQ(h.ext_data_len, 8); // (1+2)+(1+3) = 7, padded to 8
    EXPECT_EQ(h.header_len, 24 + 4 + 8);
    std::vector<std::pair<int, std::size_t>> seen;
    EXPECT_EQ(engine::for_each_extension_element(p, h, false, [&](uint8_t id, std::size_t, std::size_t n) { seen.push_back({id, n}); }),
              status::ok);
    EXPECT_EQ(seen, (std::vector<std::pair<int, std::size_t>>{{1, 2}, {5, 3}}));
}

TEST(rtp_header, every_truncation_is_caught) {
    rtp_spec s;
    s.csrcs = {7, 8};
    s.ext_elements = {{2, 4}};
    s.payload_len = 0;
    const auto p = make_rtp(s);
    engine::rtp_header_view h;
    ASSERT_EQ(engine::parse_rtp_header(p, h), status::ok);
    for (std::size_t n = 0; n < p.size(); ++n) {
        const auto r = engine::parse_rtp_header({p.data(), n}, h);
        EXPECT_TRUE(r == status::too_short || r == status::bad_header) << n << " " << engine::to_string(r);
    }
}

TEST(rtp_header, wrong_version_and_bad_extension_length) {
    auto p = make_rtp({});
    p[0] = std::byte{0x40};
    engine::rtp_header_view h;
    EXPECT_EQ(engine::parse_rtp_header(p, h), status::bad_version);
    p[0] = std::byte{0x90}; // X set, extension header claims more words than exist
    p.resize(12 + 4);
    p[12] = std::byte{0xBE};
    p[13] = std::byte{0xDE};
    p[14] = std::byte{0};
    p[15] = std::byte{9};
    EXPECT_EQ(engine::parse_rtp_header(p, h), status::bad_header);
    auto q = make_rtp({});
    q[0] = std::byte{0x8f}; // 15 CSRCs in a 172-octet packet is fine, in a 40-octet one not
    q.resize(40);
    EXPECT_EQ(engine::parse_rtp_header(q, h), status::bad_header);
}

TEST(rtp_header, padding_rules) {
    rtp_spec s;
    s.payload_len = 8;
    auto p = make_rtp(s);
    p[0] |= std::byte{0x20};
    engine::rtp_header_view h;
    p.back() = std::byte{8};
    ASSERT_EQ(engine::parse_rtp_header(p, h), status::ok);
    EXPECT_EQ(engine::check_rtp_padding(p, h), status::ok);
    p.back() = std::byte{9};
    EXPECT_EQ(engine::check_rtp_padding(p, h), status::bad_padding);
    p.back() = std::byte{0};
    EXPECT_EQ(engine::check_rtp_padding(p, h), status::bad_padding);
}

TEST(rtp_header, element_past_the_block) {
    rtp_spec s;
    s.ext_elements = {{3, 4}};
    s.payload_len = 0;
    auto p = make_rtp(s);
    engine::rtp_header_view h;
    ASSERT_EQ(engine::parse_rtp_header(p, h), status::ok);
    p[16] = std::byte{0x3f}; // element claims 16 octets in an 8-octet block
    EXPECT_EQ(engine::for_each_extension_element(p, h, false, [](uint8_t, std::size_t, std::size_t) {}), status::bad_header);
}

TEST(rtcp_header, parse_and_demux) {
    auto p = make_rtcp(0x01020304);
    engine::rtcp_header_view h;
    ASSERT_EQ(engine::parse_rtcp_header(p, h), status::ok);
    EXPECT_EQ(h.pt, 200);
    EXPECT_EQ(h.ssrc, 0x01020304u);
    EXPECT_EQ(engine::parse_rtcp_header({p.data(), 7}, h), status::too_short);
    EXPECT_TRUE(engine::is_rtcp_payload_type(200));
    EXPECT_TRUE(engine::is_rtcp_payload_type(192));
    EXPECT_FALSE(engine::is_rtcp_payload_type(0x80 | 96)); // RTP PT 96 with marker set is 224
    EXPECT_FALSE(engine::is_rtcp_payload_type(0));
}

} // namespace
