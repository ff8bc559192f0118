// SDES (RFC 4568): the RFC's example attributes, offer/answer (§7.1) and every rejection, whose
// messages must never contain key text.

#include <srtpo/cp/sdes/negotiation.hpp>
#include <srtpo/cp/sdes/sdp_crypto.hpp>

#include <gtest/gtest.h>

namespace srtpo::cp::sdes {
namespace {

using engine::suite;

// RFC 4568 §8.1 offer (two attributes, the second with two keys told apart by MKI) and answer.
constexpr std::string_view offer1 =
    "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP";
constexpr std::string_view offer2 =
    "2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;"
    "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP";
constexpr std::string_view answer1 =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4";

std::span<const std::byte> bytes(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

std::vector<crypto_attribute> parse_all(std::initializer_list<std::string_view> lines) {
    std::vector<crypto_attribute> out;
    for (auto l : lines) {
        auto a = parse_crypto(l);
        EXPECT_TRUE(a) << a.err().message;
        if (a) out.push_back(std::move(*a));
    }
    return out;
}

TEST(CryptoAttribute, Rfc4568Examples) {
    auto a = parse_crypto(offer1);
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->tag, 1u);
    EXPECT_EQ(a->suite, suite::aes_cm_128_hmac_sha1_80);
    ASSERT_EQ(a->keys.size(), 1u);
    // base64 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" is the text "YS___semctl () {\t220;}\n}\nunles".
    EXPECT_TRUE(a->keys[0].key_salt.equals(bytes("YS___semctl () {\t220;}\n}\nunles")));
    EXPECT_EQ(a->keys[0].lifetime, uint64_t{1} << 20);
    ASSERT_TRUE(a->keys[0].mki);
    EXPECT_EQ(a->keys[0].mki->value, 1u);
    EXPECT_EQ(a->keys[0].mki->length, 4u);
    EXPECT_EQ(a->params.fec, fec_order::fec_srtp);

    auto b = parse_crypto(offer2);
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_EQ(b->suite, suite::f8_128_hmac_sha1_80);
    ASSERT_EQ(b->keys.size(), 2u);
    EXPECT_TRUE(b->keys[0].key_salt.equals(bytes("123456789ABCDE0123456789ABcdef")));
    EXPECT_TRUE(b->keys[1].key_salt.equals(bytes("ABcdef123456789ABCDE0123456789")));
    EXPECT_EQ(b->keys[1].mki->value, 2u);

    // Serialize and parse again: same tag, suite, keys, parameters.
    auto s = serialize_crypto(*b);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(*s, offer2);
    auto again = parse_crypto(*s);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->keys[1].key_salt.equals(b->keys[1].key_salt.bytes()));
}

TEST(CryptoAttribute, AllSessionParameters) {
    auto a = parse_crypto("7 AES_256_CM_HMAC_SHA1_32 "
                          "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVmMTIzNDU2Nzg5MA=="
                          "\tKDR=0 UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP FEC_ORDER=SRTP_FEC "
                          "FEC_KEY=inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVmMTIzNDU2Nzg5MA==|2^10 WSH=128 -x-ignore X-MUST");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->tag, 7u);
    EXPECT_EQ(a->keys[0].key_salt.size(), 46u);
    EXPECT_EQ(a->params.kdr, 0u);
    EXPECT_TRUE(a->params.unencrypted_srtp && a->params.unencrypted_srtcp && a->params.unauthenticated_srtp);
    EXPECT_EQ(a->params.fec, fec_order::srtp_fec);
    ASSERT_EQ(a->params.fec_keys.size(), 1u);
    EXPECT_EQ(a->params.fec_keys[0].lifetime, 1024u);
    EXPECT_EQ(a->params.wsh, 128u);
    EXPECT_EQ(a->params.ignorable_extensions, std::vector<std::string>{"-x-ignore"});
    EXPECT_EQ(a->params.mandatory_extensions, std::vector<std::string>{"X-MUST"});
    auto s = serialize_crypto(*a);
    ASSERT_TRUE(s);
    auto b = parse_crypto(*s);
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_EQ(b->params.wsh, 128u);
    EXPECT_EQ(b->params.fec_keys.size(), 1u);

    auto unknown = parse_crypto("3 FANCY_NEW_SUITE whatever:this-is|opaque");
    ASSERT_TRUE(unknown) << unknown.err().message;
    EXPECT_FALSE(unknown->suite);
    EXPECT_EQ(unknown->suite_name, "FANCY_NEW_SUITE");
}

TEST(CryptoAttribute, BadInputEachWithItsError) {
    const std::string k = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    const std::string s = "AES_CM_128_HMAC_SHA1_80 ";
    struct c { std::string in; engine::errc code; std::string err; };
    const std::vector<c> cases{
        {"1 " + s, engine::errc::invalid_argument, "needs a tag"},
        {"1234567890 " + s + "inline:" + k, engine::errc::invalid_argument, "tag is not 1 to 9 digits"},
        {"x " + s + "inline:" + k, engine::errc::invalid_argument, "tag is not"},
        {"1 AES-CM inline:" + k, engine::errc::invalid_argument, "crypto-suite name is malformed"},
        {"1 " + s + "uri:http://x", engine::errc::invalid_argument, "key 1"},
        {"1 " + s + "inline:" + k.substr(0, 20) + "!!!!", engine::errc::invalid_argument, "key 1"},
        {"1 AES_256_CM_HMAC_SHA1_80 inline:" + k, engine::errc::bad_key_length, "needs 46"},
        {"1 " + s + "inline:" + k + ";inline:" + k, engine::errc::invalid_argument, "not each with an MKI"},
        {"1 " + s + "inline:" + k + "|1:4;inline:" + k + "|2:2", engine::errc::invalid_argument, "MKI lengths differ"},
        {"1 " + s + "inline:" + k + "|1:4;inline:" + k + "|1:4", engine::errc::invalid_argument, "same MKI value"},
        {"1 " + s + "inline:" + k + "|2^49", engine::errc::invalid_argument, "key 1"},
        {"1 " + s + "inline:" + k + " KDR=25", engine::errc::invalid_argument, "KDR is not 0..24"},
        {"1 " + s + "inline:" + k + " KDR=x", engine::errc::invalid_argument, "KDR is not"},
        {"1 " + s + "inline:" + k + " WSH=32", engine::errc::invalid_argument, "WSH is not a number >= 64"},
        {"1 " + s + "inline:" + k + " FEC_ORDER=LATER", engine::errc::invalid_argument, "FEC_ORDER"},
        {"1 " + s + "inline:" + k + " FEC_KEY=inline:AAAA", engine::errc::bad_key_length, "FEC_KEY key 1"},
        {"1 " + s + "inline:" + k + " UNENCRYPTED_SRTP UNENCRYPTED_SRTP", engine::errc::invalid_argument, "given twice"},
    };
    for (const auto& t : cases) {
        SCOPED_TRACE(t.in);
        auto a = parse_crypto(t.in);
        ASSERT_FALSE(a);
        EXPECT_EQ(a.err().code, t.code) << a.err().message;
        EXPECT_NE(a.err().message.find(t.err), std::string::npos) << a.err().message;
        EXPECT_EQ(a.err().message.find(k.substr(0, 12)), std::string::npos) << "key text leaked";
    }
}

TEST(Negotiation, AnswersRfc4568OfferByPreferenceWithFreshKeys) {
    auto offered = parse_all({offer1, offer2});
    policy pol;
    pol.preference = {suite::aes_cm_128_hmac_sha1_80, suite::f8_128_hmac_sha1_80};
    auto r = answer_offer(offered, pol);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->answer.tag, 1u); // §7.1.2: the answer reuses the accepted offer's tag
    EXPECT_EQ(r->keying.suite, suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(r->keying.protocol, "sdes");
    EXPECT_TRUE(r->keying.remote.key_salt.equals(offered[0].keys[0].key_salt.bytes()));
    EXPECT_EQ(r->keying.remote.lifetime, uint64_t{1} << 20);
    EXPECT_EQ(r->keying.remote.mki, (std::vector<std::byte>{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}}));
    EXPECT_EQ(r->keying.local.key_salt.size(), 30u);
    EXPECT_FALSE(r->keying.local.key_salt.equals(r->keying.remote.key_salt.bytes())); // never forwarded
    EXPECT_TRUE(r->keying.local.mki.empty());
    EXPECT_FALSE(r->answer.params.fec); // FEC_ORDER is moot without FEC, not echoed
    ASSERT_EQ(r->answer.keys.size(), 1u);
    EXPECT_TRUE(r->answer.keys[0].key_salt.equals(r->keying.local.key_salt.bytes()));

    // Another answer to the same offer gets another key.
    auto r2 = answer_offer(offered, pol);
    ASSERT_TRUE(r2);
    EXPECT_FALSE(r2->keying.local.key_salt.equals(r->keying.local.key_salt.bytes()));

    // With F8 preferred, tag 2 and its first key (MKI 1) are used; our key carries lifetime and MKI.
    pol.preference = {suite::f8_128_hmac_sha1_80};
    pol.lifetime = uint64_t{1} << 31;
    pol.mki_length = 2;
    auto f8 = answer_offer(offered, pol);
    ASSERT_TRUE(f8) << f8.err().message;
    EXPECT_EQ(f8->answer.tag, 2u);
    EXPECT_TRUE(f8->keying.remote.key_salt.equals(bytes("123456789ABCDE0123456789ABcdef")));
    EXPECT_EQ(f8->keying.local.lifetime, uint64_t{1} << 31);
    EXPECT_EQ(f8->keying.local.mki, (std::vector<std::byte>{std::byte{0}, std::byte{1}}));
    auto line = serialize_crypto(f8->answer);
    ASSERT_TRUE(line);
    EXPECT_TRUE(line->starts_with("2 F8_128_HMAC_SHA1_80 inline:"));
    EXPECT_TRUE(line->ends_with("|2^31|1:2"));
}

TEST(Negotiation, RefusalsMapToWarnCodes) {
    const std::string k = "|2^20 ";
    const std::string key = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    policy pol;
    struct c { std::string line; engine::errc code; std::string err; uint16_t warn; };
    for (const auto& t : std::vector<c>{
             {"1 AES_CM_128_HMAC_SHA1_80 " + key + " KDR=10", engine::errc::unsupported, "KDR=10 not supported", 306},
             {"1 AES_CM_128_HMAC_SHA1_80 " + key + " UNENCRYPTED_SRTP", engine::errc::unsupported, "UNENCRYPTED_SRTP refused", 306},
             {"1 AES_CM_128_HMAC_SHA1_80 " + key + " UNAUTHENTICATED_SRTP", engine::errc::unsupported, "UNAUTHENTICATED_SRTP refused", 306},
             {"1 AES_CM_128_HMAC_SHA1_80 " + key + " FEC_KEY=" + key, engine::errc::unsupported, "FEC_KEY not supported", 306},
             {"1 AES_CM_128_HMAC_SHA1_80 " + key + " X_NEW", engine::errc::unsupported, "not understood: X_NEW", 306},
             {"1 NULL_HMAC_SHA1_80 " + key, engine::errc::unknown_suite, "no offered SRTP crypto-suite", 305},
             {"1 SOME_FUTURE_SUITE opaque", engine::errc::unknown_suite, "no offered SRTP crypto-suite", 305},
         }) {
        SCOPED_TRACE(t.line);
        auto offered = parse_all({t.line});
        auto r = answer_offer(offered, pol);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.err().code, t.code);
        EXPECT_NE(r.err().message.find(t.err), std::string::npos) << r.err().message;
        EXPECT_EQ(warn_code_for(r.err()), t.warn);
    }
    EXPECT_EQ(warn_code_for(answer_offer({}, pol).err()), 305);
    // KDR=0 (derive once) and ignorable extensions are fine; a refused attribute is skipped
    // in favour of a later acceptable one.
    auto ok = parse_all({"1 AES_CM_128_HMAC_SHA1_80 " + key + " KDR=10",
                         "2 AES_CM_128_HMAC_SHA1_80 " + key + " KDR=0 -ignorable WSH=256"});
    auto r = answer_offer(ok, pol);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->answer.tag, 2u);
    // Policy may allow the weakening parameters: they reach srtp_params and are echoed.
    pol.allow_unencrypted = true;
    auto un = parse_all({"1 AES_CM_128_HMAC_SHA1_80 " + key + " UNENCRYPTED_SRTCP"});
    auto ur = answer_offer(un, pol);
    ASSERT_TRUE(ur) << ur.err().message;
    EXPECT_TRUE(ur->keying.params.unencrypted_srtcp);
    EXPECT_TRUE(ur->answer.params.unencrypted_srtcp);
}

TEST(Negotiation, ReofferWithSameKeyKeepsOursNewKeyRekeys) {
    policy pol;
    pol.preference = {suite::aes_cm_128_hmac_sha1_80, suite::f8_128_hmac_sha1_80};
    auto first = answer_offer(parse_all({offer1, offer2}), pol);
    ASSERT_TRUE(first);
    // Hold/resume re-INVITE repeating the same crypto (tags may be renumbered): same keys.
    auto again = parse_all({offer1});
    again[0].tag = 5;
    auto same = answer_reoffer(again, pol, *first);
    ASSERT_TRUE(same) << same.err().message;
    EXPECT_EQ(same->answer.tag, 5u);
    EXPECT_TRUE(same->keying.local.key_salt.equals(first->keying.local.key_salt.bytes()));
    // The peer rekeys (RFC 4568 §7.1.4): we answer with a new key of our own as well.
    auto rekey = answer_reoffer(parse_all({answer1}), pol, *first);
    ASSERT_TRUE(rekey) << rekey.err().message;
    EXPECT_FALSE(rekey->keying.local.key_salt.equals(first->keying.local.key_salt.bytes()));
    EXPECT_TRUE(rekey->keying.remote.key_salt.equals(parse_all({answer1})[0].keys[0].key_salt.bytes()));
    // Same key but another suite chosen: a different transform, so a fresh key.
    pol.preference = {suite::f8_128_hmac_sha1_80};
    auto other = answer_reoffer(parse_all({offer1, offer2}), pol, *first);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->keying.suite, suite::f8_128_hmac_sha1_80);
    EXPECT_FALSE(other->keying.local.key_salt.equals(first->keying.local.key_salt.bytes()));
    EXPECT_FALSE(answer_reoffer({}, pol, *first));
}

TEST(Negotiation, OfferAndAnswerCheck) {
    policy pol;
    pol.preference = {suite::aead_aes_256_gcm, suite::aes_cm_128_hmac_sha1_80};
    auto offer = make_offer(pol);
    ASSERT_TRUE(offer) << offer.err().message;
    ASSERT_EQ(offer->offered.size(), 2u);
    EXPECT_EQ(offer->offered[0].tag, 1u);
    EXPECT_EQ(offer->offered[0].keys[0].key_salt.size(), 44u); // AEAD_AES_256_GCM: 32 + 12
    EXPECT_EQ(offer->offered[1].keys[0].key_salt.size(), 30u);

    // The peer answers tag 2 with its own key (written here as the peer would send it).
    auto peer = parse_all({answer1});
    peer[0].tag = 2;
    auto k = accept_answer(*offer, peer, pol);
    ASSERT_TRUE(k) << k.err().message;
    EXPECT_EQ(k->suite, suite::aes_cm_128_hmac_sha1_80);
    EXPECT_TRUE(k->local.key_salt.equals(offer->offered[1].keys[0].key_salt.bytes()));
    EXPECT_TRUE(k->remote.key_salt.equals(peer[0].keys[0].key_salt.bytes()));
    EXPECT_EQ(k->remote.mki.size(), 4u);

    auto wrong_tag = parse_all({answer1});
    wrong_tag[0].tag = 9;
    EXPECT_NE(accept_answer(*offer, wrong_tag, pol).err().message.find("was not offered"), std::string::npos);
    auto changed = parse_all({answer1}); // tag 1 was offered as AEAD_AES_256_GCM
    EXPECT_NE(accept_answer(*offer, changed, pol).err().message.find("changed the crypto-suite"), std::string::npos);
    EXPECT_NE(accept_answer(*offer, {}, pol).err().message.find("no a=crypto"), std::string::npos);
    auto two = parse_all({answer1, answer1});
    EXPECT_NE(accept_answer(*offer, two, pol).err().message.find("more than one"), std::string::npos);
    auto weak = parse_all({std::string(answer1) + " UNENCRYPTED_SRTP"});
    weak[0].tag = 2;
    EXPECT_EQ(accept_answer(*offer, weak, pol).err().code, engine::errc::unsupported);
    EXPECT_FALSE(make_offer(policy{.preference = {}}));
}

TEST(SdpCrypto, ReplaceLinesInAMediaSection) {
    sdp::media_description m;
    m.media = "audio";
    m.proto = "RTP/SAVP";
    m.formats = {"0"};
    m.add_attribute("rtpmap", "0 PCMU/8000");
    m.add_attribute("crypto", offer1);
    m.add_attribute("crypto", offer2);
    auto attrs = crypto_attributes(m);
    ASSERT_TRUE(attrs) << attrs.err().message;
    ASSERT_EQ(attrs->size(), 2u);
    auto r = answer_offer(*attrs, policy{});
    ASSERT_TRUE(r);
    ASSERT_TRUE(set_crypto_attributes(m, std::span(&r->answer, 1)));
    auto now = m.attributes("crypto");
    ASSERT_EQ(now.size(), 1u);
    EXPECT_TRUE(now[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
    EXPECT_EQ(m.lines.front().value, "rtpmap:0 PCMU/8000");
    m.add_attribute("crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:@@@");
    auto bad = crypto_attributes(m);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("a=crypto line 2"), std::string::npos);
}

} // namespace
} // namespace srtpo::cp::sdes
