// SDES inline key-params (RFC 4568 §6.1): RFC example forms, encode/parse round trips, and every
// rejection, whose messages must never contain the key text.

#include <srtpo/engine/sdes_inline.hpp>

#include <gtest/gtest.h>

#include <new>
#include <string>

namespace srtpo::engine {
namespace {

std::vector<std::byte> hex(std::string_view h) {
    std::vector<std::byte> b;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        b.push_back(std::byte(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return b;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Key text from the RFC 4568 examples (decoded with Python's base64 module).
constexpr std::string_view rfc_key = "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";
constexpr std::string_view rfc_key_hex = "774466766726542b29784737406662356a552c5261417d5c7c7030252a23";

TEST(SdesInline, Rfc4568ExampleWithLifetimeAndMki) {
    auto r = parse_sdes_inline("inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32");
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->key_salt.size(), 30u); // AES_CM_128: 16-byte key + 14-byte salt
    EXPECT_TRUE(same(r->key_salt.bytes(), hex(rfc_key_hex)));
    EXPECT_TRUE(r->key_salt.equals(hex(rfc_key_hex)));
    EXPECT_EQ(r->lifetime, uint64_t{1} << 20);
    ASSERT_TRUE(r->mki);
    EXPECT_EQ(r->mki->value, 1u);
    EXPECT_EQ(r->mki->length, 32);
    ASSERT_EQ(r->mki->bytes.size(), 32u);
    for (std::size_t i = 0; i < 31; ++i) EXPECT_EQ(r->mki->bytes[i], std::byte{0});
    EXPECT_EQ(r->mki->bytes[31], std::byte{1});
}

TEST(SdesInline, OtherRfcExamples) {
    auto a = parse_sdes_inline("inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_TRUE(same(a->key_salt.bytes(), hex("3d2d6e40255e7821426a75667239293f2c2335685c603d265d7b71695051")));
    auto b = parse_sdes_inline("inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4");
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_TRUE(same(b->key_salt.bytes(), hex("59535f5f5f73656d63746c202829207b093232303b7d0a7d0a756e6c6573")));
    ASSERT_TRUE(b->mki);
    EXPECT_EQ(b->mki->bytes, hex("00000001"));
}

TEST(SdesInline, OptionalFields) {
    auto bare = parse_sdes_inline(std::string("inline:") + std::string(rfc_key));
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->lifetime, 0u);
    EXPECT_FALSE(bare->mki);

    auto lt = parse_sdes_inline(std::string(rfc_key) + "|1066"); // no prefix, decimal lifetime
    ASSERT_TRUE(lt) << lt.err().message;
    EXPECT_EQ(lt->lifetime, 1066u);
    EXPECT_FALSE(lt->mki);

    auto mki_only = parse_sdes_inline(std::string(rfc_key) + "|258:2");
    ASSERT_TRUE(mki_only) << mki_only.err().message;
    EXPECT_EQ(mki_only->lifetime, 0u);
    ASSERT_TRUE(mki_only->mki);
    EXPECT_EQ(mki_only->mki->bytes, hex("0102"));

    auto upper = parse_sdes_inline(std::string("INLINE:") + std::string(rfc_key) + "|2^0");
    ASSERT_TRUE(upper) << upper.err().message;
    EXPECT_EQ(upper->lifetime, 1u);
}

TEST(SdesInline, LifetimeAndMkiLimits) {
    const std::string k(rfc_key);
    auto max_pow = parse_sdes_inline(k + "|2^48");
    ASSERT_TRUE(max_pow);
    EXPECT_EQ(max_pow->lifetime, uint64_t{1} << 48);
    auto max_dec = parse_sdes_inline(k + "|281474976710656");
    ASSERT_TRUE(max_dec);
    EXPECT_EQ(max_dec->lifetime, uint64_t{1} << 48);

    auto m255 = parse_sdes_inline(k + "|255:1");
    ASSERT_TRUE(m255);
    EXPECT_EQ(m255->mki->bytes, hex("ff"));
    auto m128 = parse_sdes_inline(k + "|2^31|18446744073709551615:128");
    ASSERT_TRUE(m128) << m128.err().message;
    EXPECT_EQ(m128->mki->length, 128);
    EXPECT_EQ(m128->mki->bytes.size(), 128u);
    EXPECT_EQ(m128->mki->bytes[119], std::byte{0});
    EXPECT_EQ(m128->mki->bytes[120], std::byte{0xff});
    EXPECT_EQ(m128->mki->bytes[127], std::byte{0xff});
    auto m8 = parse_sdes_inline(k + "|18446744073709551615:8");
    ASSERT_TRUE(m8);
    auto m0 = parse_sdes_inline(k + "|0:1");
    ASSERT_TRUE(m0);
    EXPECT_EQ(m0->mki->bytes, hex("00"));
}

TEST(SdesInline, Base64Lengths) {
    // 46 bytes (AES-256 key + salt, RFC 6188) need padding "==".
    std::vector<std::byte> k46(46);
    for (std::size_t i = 0; i < k46.size(); ++i) k46[i] = std::byte(static_cast<uint8_t>(i));
    auto r = parse_sdes_inline("inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==");
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_TRUE(same(r->key_salt.bytes(), k46));
    // The same without padding is tolerated.
    auto u = parse_sdes_inline("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ");
    ASSERT_TRUE(u) << u.err().message;
    EXPECT_TRUE(same(u->key_salt.bytes(), k46));
    // One and two bytes.
    auto one = parse_sdes_inline("AQ==");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->key_salt.size(), 1u);
    auto two = parse_sdes_inline("AQI=");
    ASSERT_TRUE(two);
    EXPECT_EQ(two->key_salt.size(), 2u);
}

TEST(SdesInline, RoundTripEveryLength) {
    for (std::size_t n = 1; n <= sdes_max_key_salt_len; ++n) {
        std::vector<std::byte> k(n);
        for (std::size_t i = 0; i < n; ++i) k[i] = std::byte(static_cast<uint8_t>(0xf0 ^ (i * 37)));
        for (uint64_t lifetime : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, uint64_t{1} << 31, uint64_t{1} << 48}) {
            std::optional<sdes_mki> mki;
            if (n % 3 == 0) mki = *make_sdes_mki(n, 2);
            auto s = encode_sdes_inline(k, lifetime, mki);
            ASSERT_TRUE(s) << s.err().message;
            EXPECT_EQ(s->rfind("inline:", 0), 0u);
            auto p = parse_sdes_inline(*s);
            ASSERT_TRUE(p) << n << " " << p.err().message;
            EXPECT_TRUE(same(p->key_salt.bytes(), k)) << n;
            EXPECT_EQ(p->lifetime, lifetime);
            EXPECT_EQ(p->mki.has_value(), mki.has_value());
            if (mki) {
                EXPECT_EQ(p->mki->value, mki->value);
                EXPECT_EQ(p->mki->bytes, mki->bytes);
            }
            auto again = encode_sdes_inline(*p);
            ASSERT_TRUE(again);
            EXPECT_EQ(*again, *s);
        }
    }
}

TEST(SdesInline, EncoderFormsMatchTheRfc) {
    auto mki = make_sdes_mki(1, 32);
    ASSERT_TRUE(mki);
    auto s = encode_sdes_inline(hex(rfc_key_hex), uint64_t{1} << 20, *mki);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32");
    auto d = encode_sdes_inline(hex(rfc_key_hex), 1066);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, std::string("inline:") + std::string(rfc_key) + "|1066");
    auto one = encode_sdes_inline(hex(rfc_key_hex), 1);
    ASSERT_TRUE(one);
    EXPECT_EQ(*one, std::string("inline:") + std::string(rfc_key) + "|1");
}

TEST(SdesInline, MakeMki) {
    auto m = make_sdes_mki(0x010203, 3);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, hex("010203"));
    EXPECT_FALSE(make_sdes_mki(0x01020304, 3));
    EXPECT_FALSE(make_sdes_mki(256, 1));
    EXPECT_TRUE(make_sdes_mki(255, 1));
    EXPECT_FALSE(make_sdes_mki(1, 0));
    EXPECT_FALSE(make_sdes_mki(1, 129));
    EXPECT_TRUE(make_sdes_mki(1, 128));
}

struct bad_case {
    std::string text;
    errc code;
    std::string_view message_part;
};

TEST(SdesInline, EveryRejection) {
    const std::string k(rfc_key);
    const std::vector<bad_case> cases{
        // key method and key text
        {"uri:" + k, errc::invalid_argument, "key method"},
        {"inline:", errc::invalid_argument, "empty"},
        {"", errc::invalid_argument, "empty"},
        {"inline:|2^20", errc::invalid_argument, "empty"},
        {"inline:====", errc::invalid_argument, "empty"},
        {"inline:" + k.substr(0, 39) + "!", errc::invalid_argument, "not base64"},
        {"inline:" + k.substr(0, 20) + " " + k.substr(21), errc::invalid_argument, "not base64"},
        {"inline:" + k + "\n", errc::invalid_argument, "not base64"},
        {"inline:d0Rm-mcm", errc::invalid_argument, "not base64"},      // base64url is not base64
        {"inline:AQ=I", errc::invalid_argument, "before its end"},
        {"inline:AQ===", errc::invalid_argument, "more than two"},
        {"inline:A", errc::invalid_argument, "impossible"},
        {"inline:AAAAA", errc::invalid_argument, "impossible"},
        {"inline:AQI==", errc::invalid_argument, "wrong base64 padding"},
        {"inline:AQ=", errc::invalid_argument, "wrong base64 padding"},
        {"inline:AR==", errc::invalid_argument, "pad bits"},            // 'R' leaves bits set
        {"inline:AQJ=", errc::invalid_argument, "pad bits"},
        {"inline:" + std::string(64, 'A'), errc::bad_key_length, "longer than 46"},   // 48 bytes
        {"inline:" + std::string(63, 'A') + "=", errc::bad_key_length, "longer than 46"},  // 47 bytes
        {"inline:" + std::string(68, 'A'), errc::bad_key_length, "longer than 46"},
        // lifetime
        {k + "|", errc::invalid_argument, "empty lifetime"},
        {k + "||1:4", errc::invalid_argument, "empty lifetime"},
        {k + "|0", errc::invalid_argument, "lifetime 0"},
        {k + "|2^49", errc::invalid_argument, "exceeds 2^48"},
        {k + "|2^64", errc::invalid_argument, "exceeds 2^48"},
        {k + "|281474976710657", errc::invalid_argument, "exceeds 2^48"},
        {k + "|99999999999999999999999", errc::invalid_argument, "neither decimal"},
        {k + "|2^", errc::invalid_argument, "2^N"},
        {k + "|2^x", errc::invalid_argument, "2^N"},
        {k + "|3^4", errc::invalid_argument, "neither decimal"},
        {k + "|-5", errc::invalid_argument, "neither decimal"},
        {k + "|0x10", errc::invalid_argument, "neither decimal"},
        {k + "| 20", errc::invalid_argument, "neither decimal"},
        // MKI
        {k + "|2^20|1", errc::invalid_argument, "value>:<length"},
        {k + "|2^20|1:2:3", errc::invalid_argument, "value>:<length"},
        {k + "|:4", errc::invalid_argument, "MKI value"},
        {k + "|x:4", errc::invalid_argument, "MKI value"},
        {k + "|18446744073709551616:16", errc::invalid_argument, "MKI value"},
        {k + "|1:", errc::invalid_argument, "MKI length"},
        {k + "|1:x", errc::invalid_argument, "MKI length"},
        {k + "|1:0128", errc::invalid_argument, "MKI length"},
        {k + "|1:0", errc::invalid_argument, "outside 1..128"},
        {k + "|1:129", errc::invalid_argument, "outside 1..128"},
        {k + "|256:1", errc::invalid_argument, "does not fit in 1 byte"},
        {k + "|65536:2", errc::invalid_argument, "does not fit in 2 bytes"},
        // structure
        {k + "|1:4|2^20", errc::invalid_argument, "precede"},
        {k + "|2^20|1:4|5", errc::invalid_argument, "more than three"},
    };
    for (const auto& c : cases) {
        auto r = parse_sdes_inline(c.text);
        ASSERT_FALSE(r) << "accepted: " << c.text;
        EXPECT_EQ(r.err().code, c.code) << c.text << " -> " << r.err().message;
        EXPECT_NE(r.err().message.find(c.message_part), std::string::npos)
            << c.text << " -> " << r.err().message;
        // Never echo key material: neither the base64 text nor a recognisable piece of it.
        EXPECT_EQ(r.err().message.find(k.substr(0, 8)), std::string::npos) << r.err().message;
        EXPECT_EQ(r.err().message.find("AAAAAAAA"), std::string::npos) << r.err().message;
    }
}

TEST(SdesInline, EncoderRejections) {
    std::vector<std::byte> k(30);
    EXPECT_EQ(encode_sdes_inline(std::span<const std::byte>{}).err().code, errc::bad_key_length);
    EXPECT_EQ(encode_sdes_inline(std::vector<std::byte>(47)).err().code, errc::bad_key_length);
    EXPECT_EQ(encode_sdes_inline(k, (uint64_t{1} << 48) + 1).err().code, errc::invalid_argument);
    sdes_mki bad{300, 1, {}};
    EXPECT_EQ(encode_sdes_inline(k, 0, bad).err().code, errc::invalid_argument);
    sdes_mki zero_len{1, 0, {}};
    EXPECT_EQ(encode_sdes_inline(k, 0, zero_len).err().code, errc::invalid_argument);
}

TEST(KeySaltBuffer, CopyMoveClear) {
    auto a = key_salt_buffer::from(hex("00112233"));
    ASSERT_TRUE(a);
    key_salt_buffer b = *a;
    EXPECT_TRUE(b.equals(hex("00112233")));
    EXPECT_FALSE(b.equals(hex("00112234")));
    EXPECT_FALSE(b.equals(hex("001122")));
    key_salt_buffer c = std::move(b);
    EXPECT_TRUE(c.equals(hex("00112233")));
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): moved-from is wiped by contract
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_EQ(key_salt_buffer::from(std::vector<std::byte>(47)).err().code, errc::bad_key_length);
    EXPECT_TRUE(key_salt_buffer::from(std::vector<std::byte>(46)));
}

TEST(KeySaltBuffer, DestructorWipesStorage) {
    alignas(key_salt_buffer) unsigned char storage[sizeof(key_salt_buffer)];
    std::fill(std::begin(storage), std::end(storage), static_cast<unsigned char>(0x5a));
    auto src = key_salt_buffer::from(hex("deadbeefdeadbeefdeadbeef"));
    ASSERT_TRUE(src);
    auto* p = ::new (static_cast<void*>(storage)) key_salt_buffer(*src);
    ASSERT_EQ(p->size(), 12u);
    p->~key_salt_buffer();
    for (std::size_t i = 0; i < sdes_max_key_salt_len; ++i) EXPECT_EQ(storage[i], 0) << i;
}

} // namespace
} // namespace srtpo::engine
