// Wire format: CRC-32c vectors (RFC 3720 §B.4, the check value), packet framing, and every
// message's builder and parser, including malformed input.
#include <srtpo/cp/zrtp/commit.hpp>
#include <srtpo/cp/zrtp/confirm.hpp>
#include <srtpo/cp/zrtp/crc32c.hpp>
#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/dh_part.hpp>
#include <srtpo/cp/zrtp/error_message.hpp>
#include <srtpo/cp/zrtp/hello.hpp>
#include <srtpo/cp/zrtp/packet.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

namespace srtpo::cp::zrtp {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(zrtp_crc32c, rfc3720_vectors_and_check_value) {
    std::vector<uint8_t> v(32, 0);
    EXPECT_EQ(crc32c(v), 0x8A9136AAu); // RFC 3720 B.4: 32 bytes of zeros
    std::fill(v.begin(), v.end(), 0xff);
    EXPECT_EQ(crc32c(v), 0x62A8AB43u); // 32 bytes of ones
    std::iota(v.begin(), v.end(), uint8_t{0});
    EXPECT_EQ(crc32c(v), 0x46DD794Eu); // incrementing
    for (int i = 0; i < 32; ++i) v[static_cast<std::size_t>(i)] = static_cast<uint8_t>(31 - i);
    EXPECT_EQ(crc32c(v), 0x113FDB5Cu); // decrementing
    EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u);
}

TEST(zrtp_packet, frame_and_parse_round_trip_and_crc_byte_order) {
    auto msg = build_ack(message_type::hello_ack);
    auto p = frame_packet(0x1234, 0xdeadbeef, msg);
    ASSERT_EQ(p.size(), 12u + 12 + 4);
    EXPECT_EQ(p[0], 0x10);
    EXPECT_EQ(p[4], 'Z');
    // §5.0 / RFC 4960 App. B: the CRC's least significant byte goes first.
    const uint32_t c = crc32c(std::span(p).first(24));
    EXPECT_EQ(p[24], static_cast<uint8_t>(c));
    EXPECT_EQ(p[27], static_cast<uint8_t>(c >> 24));
    EXPECT_TRUE(looks_like_zrtp(p));
    auto v = parse_packet(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->sequence, 0x1234);
    EXPECT_EQ(v->ssrc, 0xdeadbeefu);
    EXPECT_TRUE(parse_ack(v->message, message_type::hello_ack));
}

TEST(zrtp_packet, rejects_each_malformation) {
    auto p = frame_packet(1, 2, build_ack(message_type::conf2_ack));
    auto bad = p;
    bad[27] ^= 1;
    EXPECT_NE(parse_packet(bad).err().message.find("CRC"), std::string::npos);
    bad = p;
    bad[5] = 'X';
    EXPECT_NE(parse_packet(bad).err().message.find("cookie"), std::string::npos);
    bad = p;
    bad[0] = 0x80;
    EXPECT_NE(parse_packet(bad).err().message.find("nibble"), std::string::npos);
    EXPECT_FALSE(parse_packet(std::span(p).first(20)));
    EXPECT_FALSE(parse_packet(std::vector<uint8_t>(1600, 0x10)));
    EXPECT_FALSE(looks_like_zrtp(std::vector<uint8_t>{0x80, 0, 0, 0}));
}

TEST(zrtp_message, header_checks) {
    auto m = build_ack(message_type::error_ack);
    EXPECT_EQ(*parse_message_header(m), message_type::error_ack);
    auto bad = m;
    bad[0] = 0;
    EXPECT_NE(parse_message_header(bad).err().message.find("preamble"), std::string::npos);
    bad = m;
    bad[3] = 4;
    EXPECT_NE(parse_message_header(bad).err().message.find("length"), std::string::npos);
    bad = m;
    std::memcpy(bad.data() + 4, "Bogus   ", 8);
    EXPECT_NE(parse_message_header(bad).err().message.find("unknown"), std::string::npos);
    EXPECT_FALSE(parse_ack(m, message_type::hello_ack));
    for (int t = 0; t < 16; ++t) EXPECT_EQ(type_block(static_cast<message_type>(t)).size(), 8u);
}

TEST(zrtp_hello, round_trip_lists_flags_and_mac) {
    hello h;
    std::memcpy(h.version.data(), "1.10", 4);
    std::memcpy(h.client_id.data(), "srtp-offload    ", 16);
    h.h3.fill(3);
    h.zid.fill(9);
    h.passive = true;
    algorithm_prefs p;
    std::array<uint8_t, 32> h2{};
    h2.fill(2);
    auto m = build_hello(h, p, true, h2);
    EXPECT_EQ(m.size(), 88u + 4 * (2 + 2 + 2 + 7 + 2));
    auto r = parse_hello(m);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_TRUE(r->passive);
    EXPECT_FALSE(r->mitm);
    EXPECT_EQ(r->algorithms.key_agreements.size(), 7u);
    EXPECT_EQ(r->algorithms.key_agreements.back(), key_agreement::mult);
    EXPECT_EQ(r->algorithms.sas_types, p.sas_types);
    EXPECT_EQ(r->mac, message_mac(h2, std::span(m).first(m.size() - 8)));
    // A count that overruns the length, and one above 7.
    auto bad = m;
    bad[12 + 4 + 16 + 32 + 12 + 1] = 3;
    EXPECT_FALSE(parse_hello(bad));
    bad = m;
    bad[12 + 4 + 16 + 32 + 12 + 3] = 0x8f;
    EXPECT_FALSE(parse_hello(bad));
    EXPECT_FALSE(parse_hello(std::span(m).first(80)));
}

TEST(zrtp_hello, unknown_algorithm_words_are_ignored) {
    hello h;
    algorithm_prefs p;
    p.ciphers = {cipher_algo::aes1};
    std::array<uint8_t, 32> key{};
    auto m = build_hello(h, p, false, key);
    // Replace AES1 by Twofish (2FS1), which we do not implement (§5.1.3).
    auto at = std::search(m.begin(), m.end(), std::begin("AES1"), std::begin("AES1") + 4);
    ASSERT_NE(at, m.end());
    std::memcpy(&*at, "2FS1", 4);
    auto r = parse_hello(m);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->algorithms.ciphers.empty());
}

TEST(zrtp_commit, dh_and_multistream_lengths) {
    commit c;
    c.hash = word_of("S256");
    c.cipher = word_of("AES1");
    c.auth = word_of("HS80");
    c.ka = word_of("X255");
    c.sas = word_of("B32");
    c.hvi_or_nonce.assign(32, 7);
    std::array<uint8_t, 32> h1{};
    auto m = build_commit(c, h1);
    EXPECT_EQ(m.size(), 29u * 4);
    auto r = parse_commit(m);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->multistream());
    EXPECT_EQ(r->hvi_or_nonce, c.hvi_or_nonce);
    c.ka = word_of("Mult");
    c.hvi_or_nonce.assign(16, 1);
    auto mm = build_commit(c, h1);
    EXPECT_EQ(mm.size(), 25u * 4);
    ASSERT_TRUE(parse_commit(mm));
    EXPECT_TRUE(parse_commit(mm)->multistream());
    // A DH Commit cut to the Multistream length is malformed.
    std::memcpy(mm.data() + 12 + 32 + 12 + 12, "X255", 4);
    EXPECT_FALSE(parse_commit(mm));
}

TEST(zrtp_dh_part, round_trip) {
    dh_part d;
    d.part2 = true;
    d.h1.fill(1);
    d.rs1_id.fill(0x11);
    d.pv.assign(384, 0x5a);
    std::array<uint8_t, 32> h0{};
    auto m = build_dh_part(d, h0);
    EXPECT_EQ(m.size(), 468u);
    auto r = parse_dh_part(m);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->part2);
    EXPECT_EQ(r->pv, d.pv);
    EXPECT_EQ(r->rs1_id, d.rs1_id);
    EXPECT_FALSE(parse_dh_part(std::span(m).first(80)));
}

TEST(zrtp_confirm, encrypt_then_mac_round_trip_and_tamper) {
    confirm_body b;
    b.h0.fill(0x42);
    b.sas_verified = true;
    std::vector<uint8_t> zk(32, 1), mk(48, 2);
    auto m = build_confirm(true, b, cipher_algo::aes3, hash_algo::s384, zk, mk);
    EXPECT_EQ(m.size(), 19u * 4);
    confirm_body out;
    confirm_error e;
    ASSERT_TRUE(open_confirm(m, true, cipher_algo::aes3, hash_algo::s384, zk, mk, out, e)) << e.detail.message;
    EXPECT_EQ(out.h0, b.h0);
    EXPECT_TRUE(out.sas_verified);
    EXPECT_EQ(out.cache_expiration, 0xFFFFFFFFu);
    // The encrypted H0 differs from the clear one.
    EXPECT_EQ(std::search(m.begin(), m.end(), b.h0.begin(), b.h0.end()), m.end());
    auto bad = m;
    bad[50] ^= 1;
    EXPECT_FALSE(open_confirm(bad, true, cipher_algo::aes3, hash_algo::s384, zk, mk, out, e));
    EXPECT_EQ(e.why, confirm_failure::bad_mac);
    EXPECT_FALSE(open_confirm(m, false, cipher_algo::aes3, hash_algo::s384, zk, mk, out, e));
    EXPECT_EQ(e.why, confirm_failure::malformed);
}

TEST(zrtp_error, error_ping_and_ping_ack) {
    auto m = build_error(0x30);
    EXPECT_EQ(*parse_error(m), 0x30u);
    EXPECT_FALSE(parse_error(build_ack(message_type::error_ack)));
    ping p;
    std::memcpy(p.version.data(), "1.10", 4);
    p.endpoint_hash.fill(5);
    auto pm = build_ping(p);
    EXPECT_EQ(pm.size(), 24u);
    EXPECT_EQ(parse_ping(pm)->endpoint_hash, p.endpoint_hash);
    ping_ack a;
    a.received_ssrc = 77;
    auto am = build_ping_ack(a);
    EXPECT_EQ(am.size(), 36u);
    EXPECT_EQ(parse_ping_ack(am)->received_ssrc, 77u);
    EXPECT_FALSE(parse_ping(am));
    EXPECT_EQ(describe(error_code::unsupported_version), "unsupported ZRTP version");
}

} // namespace
} // namespace srtpo::cp::zrtp
