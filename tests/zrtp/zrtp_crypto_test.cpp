// Primitives: the §4.5.1 KDF against OpenSSL's independent SP 800-108 KBKDF, key agreements
// against published values (RFC 7748 §6.1 for X25519; the SEC 2 / FIPS 186-4 generators and
// their doubles for EC25/EC38), DH public value checks (§4.4.1.4), and SAS rendering (§5.1.6).
#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/key_exchange.hpp>
#include <srtpo/cp/zrtp/sas.hpp>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace srtpo::cp::zrtp {
namespace {

std::vector<uint8_t> hx(std::string_view s) {
    std::vector<uint8_t> v;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
    return v;
}

std::vector<uint8_t> kbkdf(const char* md, std::span<const uint8_t> key, std::string_view label, std::span<const uint8_t> ctx,
                           std::size_t n) {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, "KBKDF", nullptr);
    EVP_KDF_CTX* c = EVP_KDF_CTX_new(k);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, const_cast<char*>("COUNTER"), 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(key.data()), key.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(label.data()), label.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(ctx.data()), ctx.size()),
        OSSL_PARAM_construct_end()};
    std::vector<uint8_t> out(n);
    EXPECT_EQ(EVP_KDF_derive(c, out.data(), out.size(), p), 1);
    EVP_KDF_CTX_free(c);
    EVP_KDF_free(k);
    return out;
}

TEST(zrtp_kdf, equals_sp800_108_counter_mode) {
    std::vector<uint8_t> s0(32), ctx(12 + 12 + 32);
    for (std::size_t i = 0; i < s0.size(); ++i) s0[i] = static_cast<uint8_t>(i * 7);
    for (std::size_t i = 0; i < ctx.size(); ++i) ctx[i] = static_cast<uint8_t>(255 - i);
    for (auto [label, n] : {std::pair{"Initiator SRTP master key", 16}, {"Responder SRTP master salt", 14}, {"SAS", 32}}) {
        auto ours = kdf(hash_algo::s256, s0, label, ctx, static_cast<std::size_t>(n));
        auto ref = kbkdf("SHA256", s0, label, ctx, static_cast<std::size_t>(n));
        EXPECT_TRUE(ours.equals(ref)) << label;
    }
    std::vector<uint8_t> s0_384(48, 0x33), ctx384(12 + 12 + 48, 0x44);
    auto ours = kdf(hash_algo::s384, s0_384, "Initiator HMAC key", ctx384, 48);
    EXPECT_TRUE(ours.equals(kbkdf("SHA384", s0_384, "Initiator HMAC key", ctx384, 48)));
    // L is part of the input: a 16-octet output is not a prefix of the 32-octet one.
    auto a = kdf(hash_algo::s256, s0, "x", ctx, 16), b = kdf(hash_algo::s256, s0, "x", ctx, 32);
    EXPECT_FALSE(a.equals(b.view().first(16)));
}

TEST(zrtp_key_exchange, x25519_rfc7748_6_1) {
    auto a = key_exchange::from_private(key_agreement::x255, hx("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    auto b = key_exchange::from_private(key_agreement::x255, hx("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->public_value(), hx("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    EXPECT_EQ(b->public_value(), hx("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    auto k = a->derive(b->public_value());
    ASSERT_TRUE(k);
    EXPECT_TRUE(k->equals(hx("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")));
    // The all-zero point gives an all-zero secret: refused (RFC 7748 §6.1 check).
    EXPECT_FALSE(a->derive(std::vector<uint8_t>(32, 0)));
}

TEST(zrtp_key_exchange, ec25_generator_and_double) {
    const auto g = hx("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                      "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
    const auto g2 = hx("7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
                       "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1");
    std::vector<uint8_t> one(32, 0), two(32, 0);
    one[31] = 1;
    two[31] = 2;
    auto k1 = key_exchange::from_private(key_agreement::ec25, one), k2 = key_exchange::from_private(key_agreement::ec25, two);
    ASSERT_TRUE(k1 && k2);
    EXPECT_EQ(k1->public_value(), g);  // pv = x || y (§5.1.5)
    EXPECT_EQ(k2->public_value(), g2);
    auto s = k1->derive(g2); // DHResult = x of 1 * 2G
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->equals(std::span(g2).first(32)));
    auto s2 = k2->derive(g);
    ASSERT_TRUE(s2);
    EXPECT_TRUE(s2->equals(std::span(g2).first(32)));
    auto off = g;
    off[63] ^= 1; // not on the curve
    EXPECT_FALSE(k1->derive(off));
    EXPECT_FALSE(k1->derive(std::span(g).first(32)));
}

TEST(zrtp_key_exchange, ec38_generator) {
    const auto g = hx("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"
                      "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f");
    std::vector<uint8_t> one(48, 0);
    one[47] = 1;
    auto k = key_exchange::from_private(key_agreement::ec38, one);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->public_value(), g);
    auto peer = key_exchange::generate(key_agreement::ec38);
    ASSERT_TRUE(peer);
    auto s = k->derive(peer->public_value()); // 1 * Q = Q
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->equals(std::span(peer->public_value()).first(48)));
}

TEST(zrtp_key_exchange, dh_rejects_degenerate_public_values) {
    for (auto ka : {key_agreement::dh2k, key_agreement::dh3k}) {
        auto a = key_exchange::generate(ka);
        ASSERT_TRUE(a);
        EXPECT_EQ(a->public_value().size(), pv_length(ka));
        std::vector<uint8_t> v(pv_length(ka), 0);
        EXPECT_FALSE(a->derive(v)); // 0
        v.back() = 1;
        EXPECT_FALSE(a->derive(v)); // 1
        std::vector<uint8_t> ff(pv_length(ka), 0xff);
        EXPECT_FALSE(a->derive(ff)); // >= p - 1 (the MODP primes start and end with 64 one bits)
        auto b = key_exchange::generate(ka);
        auto s1 = a->derive(b->public_value()), s2 = b->derive(a->public_value());
        ASSERT_TRUE(s1 && s2);
        EXPECT_EQ(s1->size(), pv_length(ka)); // padded to the prime length
        EXPECT_TRUE(s1->equals(s2->view()));
    }
}

TEST(zrtp_key_exchange, all_pairs_agree) {
    for (auto ka : {key_agreement::ec25, key_agreement::ec38, key_agreement::x255, key_agreement::x448}) {
        auto a = key_exchange::generate(ka), b = key_exchange::generate(ka);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->public_value().size(), pv_length(ka));
        auto s1 = a->derive(b->public_value()), s2 = b->derive(a->public_value());
        ASSERT_TRUE(s1 && s2);
        EXPECT_TRUE(s1->equals(s2->view()));
    }
    EXPECT_FALSE(key_exchange::generate(key_agreement::mult));
}

TEST(zrtp_sas, b32_renders_leftmost_20_bits_in_z_base_32) {
    EXPECT_EQ(render_b32(0x00000000), "yyyy");
    EXPECT_EQ(render_b32(0xFFFFF000), "9999");
    EXPECT_EQ(render_b32(0x00000FFF), "yyyy"); // the low 12 bits are not shown
    EXPECT_EQ(render_b32(0x08421000), "bbbb"); // 00001 x 4
    EXPECT_EQ(render_b32(0xF8000000), "9yyy"); // 11111 first
    EXPECT_EQ(render_b32(0x7C000000), "xoyy"); // 01111 10000
}

TEST(zrtp_sas, b256_uses_even_then_odd_pgp_words) {
    EXPECT_EQ(render_b256(0x00000000), "aardvark:adroitness");
    EXPECT_EQ(render_b256(0xFFFF0000), "Zulu:Yucatan");
    EXPECT_EQ(render_b256(0x0102ABCD), "absurd:aftermath");
    EXPECT_EQ(render_sas(sas_type::b32, 0), "yyyy");
}

TEST(zrtp_algorithms, negotiation_follows_section_4_1_2) {
    algorithm_prefs ours;
    offered_algorithms peer;
    peer.key_agreements = {key_agreement::dh3k, key_agreement::x255};
    peer.hashes = {hash_algo::s384};
    peer.ciphers = {cipher_algo::aes3};
    auto c = negotiate(ours, peer, false);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->ka, key_agreement::x255);     // first choices differ (X255 vs DH3k): the faster one
    EXPECT_EQ(c->hash, hash_algo::s256);       // mandatory, implied in every Hello
    EXPECT_EQ(c->cipher, cipher_algo::aes1);   // our first choice, mandatory
    EXPECT_EQ(c->sas, sas_type::b32);
    ours.ciphers = {cipher_algo::aes3};
    EXPECT_EQ(negotiate(ours, peer, false)->cipher, cipher_algo::aes3);
    EXPECT_EQ(negotiate(ours, peer, true)->ka, key_agreement::mult);
    ours.hashes = {hash_algo::s384};
    peer.hashes = {};
    EXPECT_FALSE(negotiate(ours, peer, false)); // S384 only vs S256 only
    EXPECT_EQ(srtp_suite(cipher_algo::aes3, auth_tag::hs32), engine::suite::aes_256_cm_hmac_sha1_32);
    EXPECT_EQ(srtp_suite(cipher_algo::aes1, auth_tag::hs80), engine::suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(*ka_from_word(word_of("EC38")), key_agreement::ec38);
    EXPECT_FALSE(ka_from_word(word_of("EC52")));
}

} // namespace
} // namespace srtpo::cp::zrtp
