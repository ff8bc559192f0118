// The media anchor: whatever keyed each leg, the two flows carry a packet from one leg's peer to
// the other's with the right keys. Checked with real engine sessions built from the flows' keys:
// A's peer protects with its write key, the flow unprotects and re-protects, and B's peer
// unprotects with the key srtpo-cp gave leg B. Plus the port pool.
#include "media_anchor.hpp"
#include "port_pool.hpp"

#include "../engine/test_util.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>

#include <gtest/gtest.h>

#include <openssl/rand.h>

using namespace srtpo;
using namespace srtpo::cp;
using test::bytes;

namespace {

srtp_master random_master(engine::suite s) {
    std::vector<std::byte> k(engine::traits(s).key_salt_len());
    RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size()));
    srtp_master m;
    m.key_salt = engine::key_salt_buffer::from(k).value();
    return m;
}

srtp_keying keying(engine::suite s) {
    srtp_keying k;
    k.suite = s;
    k.local = random_master(s);
    k.remote = random_master(s);
    k.protocol = "test";
    return k;
}

test::simple_key split(engine::suite s, const srtp_master& m) {
    const auto& t = engine::traits(s);
    const auto b = m.key_salt.bytes();
    return {bytes(b.begin(), b.begin() + t.master_key_len), bytes(b.begin() + t.master_key_len, b.end()), {}};
}
test::simple_key split(const api::leg_spec& l) {
    const auto& t = engine::traits(l.suite);
    const auto b = l.key_salt.bytes();
    return {bytes(b.begin(), b.begin() + t.master_key_len), bytes(b.begin() + t.master_key_len, b.end()), {}};
}

table::endpoint ep(const char* s) { return api::parse_endpoint(s, "x").value(); }

/// Sends one RTP packet from A's peer through flow f to B's peer. `a_peer_key`: what A's peer
/// protects with (null: plain); `b_peer_key`: what B's peer unprotects with (null: plain).
void through(const api::flow_spec& f, std::optional<std::pair<engine::suite, test::simple_key>> a_peer_key,
             std::optional<std::pair<engine::suite, test::simple_key>> b_peer_key) {
    auto w = test::make_worker();
    const bytes plain = test::make_rtp({});
    test::pkt_buf p(plain);
    if (a_peer_key) {
        auto s = test::make(a_peer_key->first, engine::direction::protect, {a_peer_key->second});
        ASSERT_EQ(test::protect_one(*w, s.get(), p), engine::status::ok);
    }
    ASSERT_EQ(f.in.has_value(), a_peer_key.has_value());
    if (f.in) {
        auto s = test::make(f.in->suite, engine::direction::unprotect, {split(*f.in)});
        ASSERT_EQ(test::unprotect_one(*w, s.get(), p), engine::status::ok) << "the flow's in key is A's peer's write key";
    }
    ASSERT_EQ(p.contents(), plain);
    ASSERT_EQ(f.out.has_value(), b_peer_key.has_value());
    if (f.out) {
        auto s = test::make(f.out->suite, engine::direction::protect, {split(*f.out)});
        ASSERT_EQ(test::protect_one(*w, s.get(), p), engine::status::ok);
        auto r = test::make(b_peer_key->first, engine::direction::unprotect, {b_peer_key->second});
        ASSERT_EQ(test::unprotect_one(*w, r.get(), p), engine::status::ok) << "B's peer reads it with the key srtpo-cp gave leg B";
    }
    EXPECT_EQ(p.contents(), plain);
}

} // namespace

TEST(MediaAnchor, SrtpToSrtpWithDifferentSuites) {
    const auto ka = keying(engine::suite::aes_cm_128_hmac_sha1_80);
    const auto kb = keying(engine::suite::aead_aes_256_gcm);
    anchor_leg a{ep("192.0.2.1:20000"), ep("198.51.100.1:4000"), &ka, false, 256};
    anchor_leg b{ep("192.0.2.1:20002"), ep("203.0.113.9:5000"), &kb, true};
    const auto f = anchor_flows(a, b);
    EXPECT_EQ(api::to_string(f[0].match), "192.0.2.1:20000");
    EXPECT_EQ(api::to_string(*f[0].send_from), "192.0.2.1:20002");
    EXPECT_EQ(api::to_string(*f[0].send_to), "203.0.113.9:5000");
    EXPECT_FALSE(f[0].rtcp_mux);
    EXPECT_TRUE(f[1].rtcp_mux);
    EXPECT_EQ(f[0].in->window, 256);
    EXPECT_EQ(api::action_of(f[0]), table::leg_action::transcrypt);
    // A -> B: A's peer writes with A.remote; B's peer reads with B.local.
    through(f[0], std::pair{ka.suite, split(ka.suite, ka.remote)}, std::pair{kb.suite, split(kb.suite, kb.local)});
    // B -> A: B's peer writes with B.remote; A's peer reads with A.local.
    through(f[1], std::pair{kb.suite, split(kb.suite, kb.remote)}, std::pair{ka.suite, split(ka.suite, ka.local)});
}

TEST(MediaAnchor, RtpToSrtp) {
    const auto kb = keying(engine::suite::aes_cm_128_hmac_sha1_32);
    anchor_leg a{ep("192.0.2.1:20000"), ep("198.51.100.1:4000"), nullptr};
    anchor_leg b{ep("[2001:db8::1]:20002"), ep("[2001:db8::9]:5000"), &kb};
    const auto f = anchor_flows(a, b);
    EXPECT_EQ(api::action_of(f[0]), table::leg_action::protect);
    EXPECT_EQ(api::action_of(f[1]), table::leg_action::unprotect);
    through(f[0], std::nullopt, std::pair{kb.suite, split(kb.suite, kb.local)});
    through(f[1], std::pair{kb.suite, split(kb.suite, kb.remote)}, std::nullopt);
}

TEST(MediaAnchor, ParamsAndMkiCarryOver) {
    auto k = keying(engine::suite::aes_cm_128_hmac_sha1_80);
    k.remote.mki = {std::byte{0}, std::byte{3}};
    k.remote.lifetime = uint64_t{1} << 31;
    k.params.initial_roc = 9;
    k.params.unencrypted_srtcp = true;
    const auto l = to_leg(k.suite, k.remote, k.params, 128);
    EXPECT_EQ(l.mki_value, 3u);
    EXPECT_EQ(l.mki.size(), 2u);
    EXPECT_EQ(l.lifetime, uint64_t{1} << 31);
    EXPECT_EQ(l.roc, 9u);
    EXPECT_TRUE(l.unencrypted_srtcp);
    EXPECT_TRUE(l.key_salt.equals(k.remote.key_salt.bytes()));
}

TEST(PortPool, PairsRoundRobinAndExhaustion) {
    auto p = port_pool::create(20001, 20008); // pairs 20002, 20004, 20006 (20008's partner is outside)
    ASSERT_TRUE(p);
    EXPECT_EQ(p->available(), 3u);
    EXPECT_EQ(*p->allocate(), 20002);
    EXPECT_EQ(*p->allocate(), 20004);
    p->release(20002);
    EXPECT_EQ(*p->allocate(), 20006) << "a port just released is reused last";
    EXPECT_EQ(*p->allocate(), 20002);
    auto none = p->allocate();
    ASSERT_FALSE(none);
    EXPECT_NE(none.err().message.find("exhausted"), std::string::npos);
    p->release(20003);
    p->release(30000);
    EXPECT_EQ(p->bad_releases(), 2u);
    EXPECT_FALSE(port_pool::create(5000, 5000));
    EXPECT_FALSE(port_pool::create(0, 10));
}
