// call_engine over a real flow_registry on a temporary shared-memory table: the test plays both
// peers (A, the caller, and B, the callee) with hand-written SDP, and checks the SDP the engine
// generates for each leg and the flows it installs (keys per leg, never forwarded), re-offers
// (same key: nothing changes; new key: rekey in place), hold, refusals that leave nothing
// behind, port exhaustion, and remove. The JSON API (call.*) is exercised at the end.
#include <srtpo/cp/call/call_api.hpp>
#include <srtpo/cp/call/call_engine.hpp>

#include "../mikey/test_pki.hpp"
#include "flow_registry.hpp"
#include "port_pool.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sdp/session_description.hpp>
#include <srtpo/engine/sdes_inline.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>

using namespace srtpo;
using namespace srtpo::cp;
using namespace srtpo::cp::call;
using nlohmann::json;

namespace {

// Keys the peers use (key||salt, base64): A offers AES_CM_128 (30 octets), B answers GCM-128 (28).
const std::string key_a1 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e";
const std::string key_a2 = "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGC";
const std::string key_b_gcm = "MjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTQ==";

std::string unique_name() {
    static std::atomic<int> n{0};
    return "srtpo-call-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

std::string sdp_of(const std::string& addr, uint16_t port, const std::string& proto, const std::string& extra,
                   unsigned version = 1) {
    return "v=0\r\no=peer 42 " + std::to_string(version) + " IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " " + proto + " 0 8\r\na=rtpmap:0 PCMU/8000\r\n" + extra;
}

std::string crypto(unsigned tag, const std::string& suite, const std::string& key) {
    return "a=crypto:" + std::to_string(tag) + " " + suite + " inline:" + key + "\r\n";
}

std::vector<std::byte> bytes_of(const std::string& b64) {
    auto k = engine::parse_sdes_inline(b64);
    EXPECT_TRUE(k) << b64;
    auto s = k->key_salt.bytes();
    return {s.begin(), s.end()};
}

std::vector<std::byte> bytes_of(const engine::key_salt_buffer& k) { return {k.bytes().begin(), k.bytes().end()}; }

/// The one a=crypto of media section 0, parsed.
sdes::crypto_attribute only_crypto(const std::string& body, std::size_t expect = 1) {
    auto sd = sdp::parse(body);
    EXPECT_TRUE(sd) << body;
    auto a = sdes::crypto_attributes(sd->media.at(0));
    EXPECT_TRUE(a);
    EXPECT_EQ(a->size(), expect) << body;
    return a->empty() ? sdes::crypto_attribute{} : std::move(a->front());
}

std::string b64_of(const sdes::crypto_attribute& a) {
    auto s = engine::encode_sdes_inline(a.keys.at(0).key_salt.bytes());
    EXPECT_TRUE(s);
    auto t = *s;
    return t.rfind("inline:", 0) == 0 ? t.substr(7) : t;
}

struct engine_fixture : ::testing::Test {
    std::string name = unique_name();
    std::optional<table::sessions_mapping> t;
    std::optional<flow_registry> reg;
    std::optional<port_pool> pool;
    std::optional<call_engine> eng;
    media_config cfg;

    void SetUp() override { make(31000, 31099); }
    void make(uint16_t lo, uint16_t hi) {
        eng.reset();
        reg.reset();
        if (t) {
            t.reset();
            (void)table::unlink_shm(name);
        }
        auto m = table::sessions_mapping::create(name, 16);
        ASSERT_TRUE(m) << m.err().message;
        t = std::move(m.value());
        reg.emplace(*t, 2000);
        auto p = port_pool::create(lo, hi);
        ASSERT_TRUE(p);
        pool = std::move(*p);
        cfg.enabled = true;
        cfg.address = "203.0.113.10";
        eng.emplace(*reg, *pool, cfg);
    }
    void TearDown() override {
        eng.reset();
        reg.reset();
        t.reset();
        (void)table::unlink_shm(name);
    }
    leg_policy sdes_to(std::vector<std::string> suites) {
        leg_policy p;
        p.method = keying_method::sdes;
        p.suites = std::move(suites);
        return p;
    }
    /// Media port of section 0 and its c= address.
    static uint16_t port_of(const std::string& body) { return sdp::parse(body)->media.at(0).port; }
    table::endpoint ep(const std::string& text) { return *api::parse_endpoint(text, "t"); }
};

TEST_F(engine_fixture, sdes_cm80_to_sdes_gcm_keys_each_leg_afresh) {
    const auto offer_a = sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1) + "a=rtcp-mux\r\n");
    auto o = eng->offer("c1", side::a, offer_a, sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    // The offer towards B: our address and port, SRTP, one fresh GCM key, nothing of A's.
    auto sd = sdp::parse(o->sdp);
    ASSERT_TRUE(sd);
    EXPECT_EQ(sd->media[0].proto, "RTP/SAVP");
    EXPECT_EQ(sdp::effective_connection(*sd, 0)->address, "203.0.113.10");
    const uint16_t port_b = sd->media[0].port;
    EXPECT_GE(port_b, 31000);
    EXPECT_EQ(port_b % 2, 0);
    EXPECT_EQ(o->sdp.find(key_a1), std::string::npos) << "A's key was forwarded to B";
    EXPECT_EQ(o->sdp.find("192.0.2.1"), std::string::npos) << "A's address leaked to B";
    auto ours_b = only_crypto(o->sdp);
    EXPECT_EQ(ours_b.suite_name, "AEAD_AES_128_GCM");
    EXPECT_EQ(reg->size(), 0u) << "no flow before the answer";

    const auto answer_b = sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(ours_b.tag, "AEAD_AES_128_GCM", key_b_gcm));
    auto a = eng->answer("c1", side::b, answer_b);
    ASSERT_TRUE(a) << a.err().message;
    auto ours_a = only_crypto(a->sdp);
    EXPECT_EQ(ours_a.suite_name, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(ours_a.tag, 1u);
    EXPECT_EQ(a->sdp.find(key_b_gcm), std::string::npos) << "B's key was forwarded to A";
    EXPECT_EQ(a->sdp.find("a=rtcp-mux"), std::string::npos) << "B declined rtcp-mux, so A's leg does not multiplex either";
    const uint16_t port_a = port_of(a->sdp);
    EXPECT_NE(port_a, port_b);

    ASSERT_EQ(reg->size(), 2u);
    auto fa = reg->get(ep("203.0.113.10:" + std::to_string(port_a)));
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_b)));
    ASSERT_TRUE(fa && fb);
    // Flow A: in = A's key, out = our GCM key for B, to B's peer, from B's port.
    EXPECT_EQ(fa->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(bytes_of(fa->spec.in->key_salt), bytes_of(key_a1));
    EXPECT_EQ(fa->spec.out->suite, engine::suite::aead_aes_128_gcm);
    EXPECT_EQ(bytes_of(fa->spec.out->key_salt), bytes_of(b64_of(ours_b)));
    EXPECT_EQ(api::to_string(*fa->spec.send_to), "198.51.100.7:6000");
    EXPECT_EQ(fa->spec.send_from->port, port_b);
    EXPECT_FALSE(fa->spec.rtcp_mux);
    // Flow B: in = B's key, out = our key for A.
    EXPECT_EQ(bytes_of(fb->spec.in->key_salt), bytes_of(key_b_gcm));
    EXPECT_EQ(bytes_of(fb->spec.out->key_salt), bytes_of(b64_of(ours_a)));
    EXPECT_EQ(api::to_string(*fb->spec.send_to), "192.0.2.1:4000");
    EXPECT_FALSE(fb->spec.rtcp_mux) << "B did not accept rtcp-mux";
    EXPECT_NE(o->sdp.find("a=rtcp-mux"), std::string::npos) << "A offered rtcp-mux: offered on to B";
    EXPECT_NE(bytes_of(fa->spec.out->key_salt), bytes_of(fb->spec.out->key_salt));

    // call.get: state per leg, never a key.
    auto d = eng->describe("c1");
    ASSERT_TRUE(d);
    const auto text = d->dump();
    EXPECT_EQ((*d)["streams"][0]["legs"]["a"]["suite"], "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ((*d)["streams"][0]["legs"]["b"]["suite"], "AEAD_AES_128_GCM");
    EXPECT_EQ((*d)["streams"][0]["legs"]["b"]["peer"], "198.51.100.7:6000");
    for (const auto& k : {key_a1, key_b_gcm, b64_of(ours_a), b64_of(ours_b)}) EXPECT_EQ(text.find(k), std::string::npos);

    eng->remove("c1");
    EXPECT_EQ(reg->size(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
    EXPECT_EQ(eng->calls(), 0u);
}

TEST_F(engine_fixture, plain_rtp_to_sdes) {
    auto o = eng->offer("c2", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", ""), sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_NE(o->sdp.find("RTP/SAVP"), std::string::npos);
    auto ours_b = only_crypto(o->sdp);
    auto a = eng->answer("c2", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a2)));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_NE(a->sdp.find("RTP/AVP"), std::string::npos);
    EXPECT_EQ(a->sdp.find("a=crypto"), std::string::npos) << "A's leg is plain";
    auto fa = reg->get(ep("203.0.113.10:" + std::to_string(port_of(a->sdp))));
    ASSERT_TRUE(fa);
    EXPECT_FALSE(fa->spec.in) << "RTP arrives from A";
    ASSERT_TRUE(fa->spec.out);
    EXPECT_EQ(bytes_of(fa->spec.out->key_salt), bytes_of(b64_of(ours_b)));
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_of(o->sdp))));
    ASSERT_TRUE(fb);
    EXPECT_EQ(bytes_of(fb->spec.in->key_salt), bytes_of(key_a2));
    EXPECT_FALSE(fb->spec.out) << "RTP leaves towards A";
}

TEST_F(engine_fixture, rtcp_mux_only_when_both_legs_multiplex) {
    auto o = eng->offer("mx", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", "a=rtcp-mux\r\n"), leg_policy{});
    ASSERT_TRUE(o);
    ASSERT_NE(o->sdp.find("a=rtcp-mux"), std::string::npos);
    auto a = eng->answer("mx", side::b, sdp_of("198.51.100.7", 6000, "RTP/AVP", "a=rtcp-mux\r\n"));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_NE(a->sdp.find("a=rtcp-mux"), std::string::npos);
    for (const auto& f : reg->list()) EXPECT_TRUE(f.spec.rtcp_mux);
    // A caller without mux: B is not offered mux even though its policy allows it.
    o = eng->offer("nm", side::a, sdp_of("192.0.2.2", 4000, "RTP/AVP", ""), leg_policy{});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->sdp.find("a=rtcp-mux"), std::string::npos);
}

TEST_F(engine_fixture, same_method_passes_plain_through) {
    auto o = eng->offer("c3", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", ""), leg_policy{});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->sdp.find("a=crypto"), std::string::npos);
    auto a = eng->answer("c3", side::b, sdp_of("198.51.100.7", 6000, "RTP/AVP", ""));
    ASSERT_TRUE(a) << a.err().message;
    ASSERT_EQ(reg->size(), 2u);
    for (const auto& f : reg->list()) EXPECT_TRUE(!f.spec.in && !f.spec.out);
}

class established : public engine_fixture {
protected:
    std::string offer_b, answer_a;
    uint16_t port_a = 0, port_b = 0;
    void SetUp() override {
        engine_fixture::SetUp();
        auto o = eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1)),
                            sdes_to({"AEAD_AES_128_GCM"}));
        ASSERT_TRUE(o) << o.err().message;
        offer_b = o->sdp;
        auto a = eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm)));
        ASSERT_TRUE(a) << a.err().message;
        answer_a = a->sdp;
        port_a = port_of(answer_a);
        port_b = port_of(offer_b);
    }
    flow_view flow(uint16_t port) { return *reg->get(ep("203.0.113.10:" + std::to_string(port))); }
};

TEST_F(established, reoffer_with_the_same_key_changes_nothing) {
    const auto ga = flow(port_a).generation, gb = flow(port_b).generation;
    auto o = eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1), 2),
                        sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(b64_of(only_crypto(o->sdp)), b64_of(only_crypto(offer_b))) << "our key towards B is repeated (RFC 4568 §7.1.4)";
    EXPECT_EQ(port_of(o->sdp), port_b);
    auto a = eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 2));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(b64_of(only_crypto(a->sdp)), b64_of(only_crypto(answer_a))) << "our key towards A is repeated";
    EXPECT_EQ(flow(port_a).generation, ga) << "flows untouched";
    EXPECT_EQ(flow(port_b).generation, gb);
    // o= version grows with every SDP sent on a leg (RFC 3264 §8).
    EXPECT_NE(a->sdp.find("o=peer 42 2 IN IP4 203.0.113.10"), std::string::npos) << a->sdp;
}

TEST_F(established, reoffer_with_a_new_key_rekeys_in_place) {
    const auto ga = flow(port_a).generation;
    const auto slot_a = flow(port_a).slot;
    auto o = eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a2), 2),
                        sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    auto ours_b = only_crypto(o->sdp);
    EXPECT_NE(b64_of(ours_b), b64_of(only_crypto(offer_b))) << "a new key from A gets fresh keys on B too";
    auto a = eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 2));
    ASSERT_TRUE(a) << a.err().message;
    auto fa = flow(port_a);
    EXPECT_EQ(fa.slot, slot_a) << "same flow (ROC and replay state kept by the table)";
    EXPECT_GT(fa.generation, ga);
    EXPECT_EQ(bytes_of(fa.spec.in->key_salt), bytes_of(key_a2));
    EXPECT_EQ(bytes_of(fa.spec.out->key_salt), bytes_of(b64_of(ours_b)));
    EXPECT_EQ(reg->size(), 2u);
}

TEST_F(established, reoffer_from_b_moves_b_and_keeps_a) {
    // B re-INVITEs from a new address (target refresh): the engine answers B, re-offers to A.
    auto o = eng->offer("c", side::b, sdp_of("198.51.100.8", 6100, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 2),
                        sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(port_of(o->sdp), port_a);
    auto ours = only_crypto(o->sdp);
    auto a = eng->answer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(ours.tag, "AES_CM_128_HMAC_SHA1_80", key_a1), 2));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(api::to_string(*flow(port_a).spec.send_to), "198.51.100.8:6100");
}

TEST_F(established, hold_keeps_flows_and_port_zero_removes_them) {
    auto o = eng->offer("c", side::a,
                        sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1) + "a=sendonly\r\n", 2),
                        sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_NE(o->sdp.find("a=sendonly"), std::string::npos) << "direction passes through";
    auto a = eng->answer("c", side::b,
                         sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm) + "a=recvonly\r\n", 2));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(reg->size(), 2u) << "held media keeps its flows (resume needs no rekey)";
    // Old-style hold, c=0.0.0.0 (RFC 3264 §8.4): the peer address stays.
    o = eng->offer("c", side::a, sdp_of("0.0.0.0", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1), 3),
                   sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    ASSERT_TRUE(eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 3)));
    EXPECT_EQ(api::to_string(*flow(port_b).spec.send_to), "192.0.2.1:4000");
    // Port 0: the stream is disabled, its flows and ports go.
    o = eng->offer("c", side::a, sdp_of("192.0.2.1", 0, "RTP/SAVP", "", 4), sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(port_of(o->sdp), 0);
    a = eng->answer("c", side::b, sdp_of("198.51.100.7", 0, "RTP/SAVP", "", 4));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(port_of(a->sdp), 0);
    EXPECT_EQ(reg->size(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(established, failed_reanswer_keeps_the_call) {
    const auto before = flow(port_a);
    auto o = eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a2), 2),
                        sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o);
    // B answers with a tag we never offered.
    auto a = eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(7, "AEAD_AES_128_GCM", key_b_gcm), 2));
    ASSERT_FALSE(a);
    EXPECT_EQ(a.err().code, api::api_errc::invalid_argument) << a.err().message;
    EXPECT_NE(a.err().message.find("tag 7"), std::string::npos) << a.err().message;
    auto after = flow(port_a);
    EXPECT_EQ(after.generation, before.generation);
    EXPECT_EQ(bytes_of(after.spec.in->key_salt), bytes_of(key_a1)) << "the failed exchange changed nothing";
    EXPECT_EQ(pool->in_use(), 2u);
    // The pending offer is gone: a second answer finds none.
    auto again = eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 2));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.err().code, api::api_errc::not_found);
}

TEST_F(established, glare_is_refused) {
    ASSERT_TRUE(eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", "", 2), leg_policy{}));
    auto o2 = eng->offer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/AVP", "", 2), leg_policy{});
    ASSERT_FALSE(o2);
    EXPECT_NE(o2.err().message.find("491"), std::string::npos) << o2.err().message;
    eng->reject_offer("c", side::b);
    EXPECT_EQ(reg->size(), 2u) << "rejecting a re-offer keeps the call";
    EXPECT_EQ(eng->calls(), 1u);
}

TEST_F(engine_fixture, refused_offers_leave_nothing_behind) {
    struct bad_case {
        std::string sdp;
        leg_policy pol;
        api::api_errc code;
        std::string says;
    };
    const std::vector<bad_case> cases{
        {"not sdp", leg_policy{}, api::api_errc::invalid_argument, "line 1"},
        {sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "F8_128_HMAC_SHA1_80", key_a1)), leg_policy{}, api::api_errc::unsupported,
         "crypto"},
        {sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1 + " KDR=4")), leg_policy{},
         api::api_errc::unsupported, "KDR"},
        {sdp_of("192.0.2.1", 4000, "RTP/SAVP", ""), leg_policy{}, api::api_errc::unsupported, "without a=crypto"},
        {sdp_of("192.0.2.1", 4000, "UDP/TLS/RTP/SAVP", "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"), leg_policy{},
         api::api_errc::unsupported, "dtls-srtp"},
        {sdp_of("192.0.2.1", 4000, "RTP/AVP", ""), sdes_to({"NOT_A_SUITE"}), api::api_errc::invalid_argument, "NOT_A_SUITE"},
        {sdp_of("192.0.2.1", 4000, "RTP/AVP", "") , [] { leg_policy p; p.method = keying_method::zrtp; return p; }(),
         api::api_errc::unsupported, "zrtp"},
    };
    for (const auto& c : cases) {
        auto o = eng->offer("bad", side::a, c.sdp, c.pol);
        ASSERT_FALSE(o) << c.sdp;
        EXPECT_EQ(o.err().code, c.code) << o.err().message;
        EXPECT_NE(o.err().message.find(c.says), std::string::npos) << o.err().message;
        EXPECT_EQ(o.err().message.find(key_a1), std::string::npos) << "a key in an error message";
        EXPECT_EQ(eng->calls(), 0u);
        EXPECT_EQ(pool->in_use(), 0u);
        EXPECT_EQ(reg->size(), 0u);
    }
}

TEST_F(engine_fixture, ports_exhausted_is_table_full_and_leaves_nothing) {
    make(31000, 31003); // two pairs: one call with one stream
    ASSERT_TRUE(eng->offer("one", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", ""), leg_policy{}));
    EXPECT_EQ(pool->in_use(), 2u);
    auto o = eng->offer("two", side::a, sdp_of("192.0.2.2", 4000, "RTP/AVP", ""), leg_policy{});
    ASSERT_FALSE(o);
    EXPECT_EQ(o.err().code, api::api_errc::table_full);
    EXPECT_NE(o.err().message.find("media ports exhausted"), std::string::npos);
    EXPECT_EQ(eng->calls(), 1u);
    EXPECT_EQ(pool->in_use(), 2u);
    eng->reject_offer("one", side::b);
    EXPECT_EQ(eng->calls(), 0u) << "a rejected first offer ends the call";
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(engine_fixture, two_streams_and_a_non_rtp_one) {
    const std::string offer = sdp_of("192.0.2.1", 4000, "RTP/AVP", "") + "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n" +
                              "m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    auto o = eng->offer("m", side::a, offer, sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_TRUE(o) << o.err().message;
    auto sd = sdp::parse(o->sdp);
    ASSERT_EQ(sd->media.size(), 3u);
    EXPECT_EQ(sd->media[2].port, 0) << "non-RTP media is not anchored";
    EXPECT_FALSE(o->notes.empty());
    auto ca = sdes::crypto_attributes(sd->media[0]), cv = sdes::crypto_attributes(sd->media[1]);
    const std::string answer = sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1)) +
                               "m=video 6002 RTP/SAVP 96\r\n" + crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a2) +
                               "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    auto a = eng->answer("m", side::b, answer);
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(reg->size(), 4u);
    EXPECT_EQ(pool->in_use(), 4u);
    eng->remove("m");
    EXPECT_EQ(reg->size(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(engine_fixture, api_ops) {
    json offer{{"op", "call.offer"}, {"call_id", "x"},
               {"sdp", sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1))},
               {"policy", {{"method", "plain"}}}};
    auto r = handle_call_op(*eng, offer);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ((*r)["sdp"].get<std::string>().find("a=crypto"), std::string::npos);
    r = handle_call_op(*eng, json{{"op", "call.answer"}, {"call_id", "x"}, {"sdp", sdp_of("198.51.100.7", 6000, "RTP/AVP", "")}});
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_NE((*r)["sdp"].get<std::string>().find("a=crypto:1 AES_CM_128_HMAC_SHA1_80"), std::string::npos);
    r = handle_call_op(*eng, json{{"op", "call.list"}});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["count"], 1);
    EXPECT_EQ((*r)["calls"][0]["flows"], 2);
    r = handle_call_op(*eng, json{{"op", "call.get"}, {"call_id", "x"}});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["streams"][0]["legs"]["a"]["method"], "sdes");
    EXPECT_EQ((*r)["streams"][0]["legs"]["b"]["method"], "plain");
    EXPECT_EQ(r->dump().find(key_a1), std::string::npos);
    r = handle_call_op(*eng, json{{"op", "call.offer"}, {"call_id", "y"}, {"sdp", "v=0"}, {"policy", {{"method", "carrier-pigeon"}}}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().field, "policy.method");
    r = handle_call_op(*eng, json{{"op", "call.offer"}, {"call_id", 5}, {"sdp", "v=0"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, api::api_errc::bad_request);
    r = handle_call_op(*eng, json{{"op", "call.delete"}, {"call_id", "x"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(reg->size(), 0u);
    r = handle_call_op(*eng, json{{"op", "call.delete"}, {"call_id", "x"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, api::api_errc::not_found);
}

// MIKEY (RFC 3830 PSK mode in SDP, RFC 4567). The test's peer side uses the MIKEY library's own
// initiator/responder (a unit test of the engine's plumbing; GStreamer and tshark, the
// third-party checks, are in the end-to-end test).
class mikey_fixture : public engine_fixture {
protected:
    const std::vector<uint8_t> psk_bytes = std::vector<uint8_t>(20, 0x5a);
    void SetUp() override {
        cfg.mikey_psk = mikey::secret_bytes(std::span<const uint8_t>(psk_bytes));
        engine_fixture::SetUp();
    }
    mikey::credentials peer_cred(uint8_t fill = 0x5a) {
        mikey::credentials c;
        std::vector<uint8_t> k(20, fill);
        c.psk = mikey::secret_bytes(std::span<const uint8_t>(k));
        return c;
    }
    /// A's I_MESSAGE for two streams (SSRC 0x1111 = A's own, 0x2222), TGK transport (a TEK each).
    mikey::initiator a_initiator(uint8_t fill = 0x5a) {
        mikey::initiator_config ic;
        ic.m = mikey::mode::psk;
        ic.cred = peer_cred(fill);
        ic.streams = {{0x1111, 0}, {0x2222, 0}};
        ic.policy.suite = engine::suite::aes_cm_128_hmac_sha1_80;
        auto i = mikey::initiator::start(std::move(ic), std::chrono::system_clock::now());
        EXPECT_TRUE(i) << i.err().message;
        return std::move(*i);
    }
    static std::string with_key_mgmt(const std::vector<uint8_t>& msg, unsigned version = 1) {
        return sdp_of("192.0.2.1", 4000, "RTP/SAVP", "a=ssrc:4369 cname:a\r\na=key-mgmt:" + mikey::key_mgmt_value(msg) + "\r\n", version);
    }
    static std::optional<std::vector<uint8_t>> key_mgmt_of(const std::string& body) {
        auto sd = sdp::parse(body);
        if (!sd) return std::nullopt;
        auto v = sd->media.at(0).attribute("key-mgmt");
        if (!v) return std::nullopt;
        auto m = mikey::parse_key_mgmt(*v);
        if (!m) return std::nullopt;
        return *m;
    }
};

TEST_F(mikey_fixture, mikey_offer_answered_and_transcrypted_to_sdes) {
    auto ai = a_initiator();
    auto o = eng->offer("mk", side::a, with_key_mgmt(ai.i_message()), sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(o->sdp.find("key-mgmt"), std::string::npos) << "A's MIKEY message was forwarded to B";
    auto ours_b = only_crypto(o->sdp);
    auto a = eng->answer("mk", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(ours_b.tag, "AEAD_AES_128_GCM", key_b_gcm)));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_NE(a->sdp.find("RTP/SAVP"), std::string::npos);
    EXPECT_EQ(a->sdp.find("a=crypto"), std::string::npos);
    // The R_MESSAGE (V asked) in our answer completes A's exchange, with the same keys.
    auto r_msg = key_mgmt_of(a->sdp);
    ASSERT_TRUE(r_msg) << a->sdp;
    auto done = ai.handle_response(*r_msg, std::chrono::system_clock::now());
    ASSERT_TRUE(done.ok()) << (done.error ? done.error->message : "");
    ASSERT_EQ(done.sessions.size(), 2u);
    const auto& own = done.sessions[0].ssrc == 0x1111u ? done.sessions[0] : done.sessions[1];
    const auto& other_cs = done.sessions[0].ssrc == 0x1111u ? done.sessions[1] : done.sessions[0];
    auto fa = reg->get(ep("203.0.113.10:" + std::to_string(port_of(a->sdp))));
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_of(o->sdp))));
    ASSERT_TRUE(fa && fb);
    // A sends SSRC 0x1111 (a=ssrc:4369): its TEK unprotects; what goes to A uses the other TEK.
    EXPECT_EQ(bytes_of(fa->spec.in->key_salt), bytes_of(own.keying.remote.key_salt));
    EXPECT_EQ(bytes_of(fb->spec.out->key_salt), bytes_of(other_cs.keying.local.key_salt));
    EXPECT_EQ(fa->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(bytes_of(fa->spec.out->key_salt), bytes_of(b64_of(ours_b)));
    auto d = eng->describe("mk");
    EXPECT_EQ((*d)["streams"][0]["legs"]["a"]["method"], "mikey");

    // The same I_MESSAGE again (a hold re-INVITE repeating the SDP): nothing changes.
    const auto gen = fa->generation;
    o = eng->offer("mk", side::a, with_key_mgmt(ai.i_message(), 2), sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_TRUE(o) << o.err().message;
    a = eng->answer("mk", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AEAD_AES_128_GCM", key_b_gcm), 2));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(reg->get(fa->spec.match)->generation, gen);
    // ... but the same message in another call is a replay (RFC 3830 §5.4).
    auto replay = eng->offer("mk2", side::a, with_key_mgmt(ai.i_message()), sdes_to({"AEAD_AES_128_GCM"}));
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.err().code, api::api_errc::unsupported);
    EXPECT_NE(replay.err().message.find("MIKEY ERR"), std::string::npos) << replay.err().message;
    EXPECT_EQ(eng->calls(), 1u);
}

TEST_F(mikey_fixture, wrong_psk_is_refused_and_leaves_nothing) {
    auto ai = a_initiator(0x33);
    auto o = eng->offer("mk", side::a, with_key_mgmt(ai.i_message()), leg_policy{});
    ASSERT_FALSE(o);
    EXPECT_EQ(o.err().code, api::api_errc::unsupported);
    EXPECT_NE(o.err().message.find("MIKEY"), std::string::npos) << o.err().message;
    EXPECT_EQ(eng->calls(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(mikey_fixture, sdes_to_mikey_offer) {
    auto o = eng->offer("km", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1) + "a=ssrc:4369\r\n"),
                        [] { leg_policy p; p.method = keying_method::mikey; p.suites = {"AES_CM_128_HMAC_SHA1_32"}; return p; }());
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(o->sdp.find("a=crypto"), std::string::npos);
    auto i_msg = key_mgmt_of(o->sdp);
    ASSERT_TRUE(i_msg) << o->sdp;
    // B's MIKEY responder (same PSK) accepts our I_MESSAGE.
    mikey::replay_cache cache;
    mikey::responder_config rc;
    rc.cred = peer_cred();
    rc.replay = &cache;
    auto res = mikey::responder(std::move(rc)).handle(*i_msg, std::chrono::system_clock::now());
    ASSERT_TRUE(res.ok()) << (res.error ? res.error->message : "");
    ASSERT_EQ(res.sessions.size(), 1u);
    EXPECT_EQ(res.sessions[0].ssrc, 4369u) << "the CS map names the SSRC the other leg's peer sends";
    EXPECT_EQ(res.sessions[0].keying.suite, engine::suite::aes_cm_128_hmac_sha1_32);
    ASSERT_FALSE(res.reply.empty()) << "we asked for the verification message";
    // An answer without it is refused; the call keeps no half state.
    auto bad = eng->answer("km", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", ""));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("verification"), std::string::npos) << bad.err().message;
    EXPECT_EQ(eng->calls(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
    // Again, answered properly this time.
    o = eng->offer("km", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1) + "a=ssrc:4369\r\n"),
                   [] { leg_policy p; p.method = keying_method::mikey; p.suites = {"AES_CM_128_HMAC_SHA1_32"}; return p; }());
    ASSERT_TRUE(o) << o.err().message;
    rc = {};
    rc.cred = peer_cred();
    rc.replay = &cache;
    res = mikey::responder(std::move(rc)).handle(*key_mgmt_of(o->sdp), std::chrono::system_clock::now());
    ASSERT_TRUE(res.ok());
    auto a = eng->answer("km", side::b,
                         sdp_of("198.51.100.7", 6000, "RTP/SAVP", "a=key-mgmt:" + mikey::key_mgmt_value(res.reply) + "\r\n"));
    ASSERT_TRUE(a) << a.err().message;
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_of(o->sdp))));
    ASSERT_TRUE(fb);
    EXPECT_EQ(fb->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_32);
    EXPECT_EQ(bytes_of(fb->spec.in->key_salt), bytes_of(res.sessions[0].keying.remote.key_salt));
    auto fa = reg->get(ep("203.0.113.10:" + std::to_string(port_of(a->sdp))));
    EXPECT_EQ(bytes_of(fa->spec.out->key_salt), bytes_of(res.sessions[0].keying.local.key_salt));
}

TEST_F(engine_fixture, mikey_offer_needs_a_psk) {
    auto o = eng->offer("x", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", ""),
                        [] { leg_policy p; p.method = keying_method::mikey; return p; }());
    ASSERT_FALSE(o);
    EXPECT_EQ(o.err().code, api::api_errc::unsupported);
    EXPECT_NE(o.err().message.find("mikey_psk_file"), std::string::npos);
}

// The media-path plumbing (DTLS-SRTP, ZRTP) with a TEST DOUBLE keyer: it stands for the real
// DTLS-SRTP / ZRTP keyers of control-plane/media (another developer's, joined at merge). It
// records what the engine tells it and lets the test fire on_keyed / on_failed as a finished
// or failed handshake would.
struct fake_keyer : media_path_keying {
    keying_method m;
    table::endpoint local;
    media_path_events ev;
    std::vector<bool> remotes; ///< is_offer of each set_remote
    fake_keyer(keying_method mm, const table::endpoint& l, media_path_events e) : m(mm), local(l), ev(std::move(e)) {}
    keying_method method() const noexcept override { return m; }
    std::vector<std::pair<std::string, std::string>> local_attributes() const override {
        if (m == keying_method::zrtp) return {{"zrtp-hash", "1.10 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}};
        return {{"fingerprint", "sha-256 AA:BB:CC"}, {"setup", "actpass"}, {"ice-ufrag", "fake"}};
    }
    std::vector<std::pair<std::string, std::string>> session_attributes() const override {
        if (m == keying_method::dtls_srtp) return {{"ice-lite", ""}};
        return {};
    }
    api::api_status set_remote(const sdp::session_description& sd, std::size_t i, bool is_offer) override {
        if (m == keying_method::dtls_srtp && !sd.media.at(i).attribute("fingerprint"))
            return api::make_api_error(api::api_errc::invalid_argument, "sdp", "no a=fingerprint");
        remotes.push_back(is_offer);
        return api::ok();
    }
    nlohmann::json status() const override { return {{"state", "fake"}}; }
};

class path_fixture : public engine_fixture {
protected:
    std::vector<fake_keyer*> made;
    void SetUp() override {
        engine_fixture::SetUp();
        eng->set_media_path_factory([this](keying_method m, const table::endpoint& local, media_path_events ev, const std::string&)
                                        -> api::api_result<std::unique_ptr<media_path_keying>> {
            auto k = std::make_unique<fake_keyer>(m, local, std::move(ev));
            made.push_back(k.get());
            return std::unique_ptr<media_path_keying>(std::move(k));
        });
    }
    static srtp_keying keys(engine::suite s, uint8_t fill) {
        srtp_keying k;
        k.suite = s;
        std::vector<std::byte> ks(engine::traits(s).key_salt_len(), std::byte{fill});
        k.local.key_salt = *engine::key_salt_buffer::from(ks);
        std::vector<std::byte> kr(engine::traits(s).key_salt_len(), std::byte(fill + 1));
        k.remote.key_salt = *engine::key_salt_buffer::from(kr);
        k.protocol = "dtls-srtp";
        return k;
    }
};

TEST_F(path_fixture, dtls_leg_installs_flows_when_keyed_rekeys_and_fails) {
    const std::string offer_a = sdp_of("192.0.2.1", 4000, "UDP/TLS/RTP/SAVPF", "a=fingerprint:sha-256 11:22\r\na=setup:actpass\r\n");
    auto o = eng->offer("d", side::a, offer_a, sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_TRUE(o) << o.err().message;
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0]->remotes, std::vector<bool>{true});
    EXPECT_EQ(o->sdp.find("fingerprint"), std::string::npos) << "A's DTLS attributes do not cross to B";
    EXPECT_NE(o->sdp.find("RTP/SAVPF"), std::string::npos);
    auto a = eng->answer("d", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVPF", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1)));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_NE(a->sdp.find("UDP/TLS/RTP/SAVPF"), std::string::npos) << a->sdp;
    EXPECT_NE(a->sdp.find("a=fingerprint:sha-256 AA:BB:CC"), std::string::npos) << a->sdp;
    EXPECT_NE(a->sdp.find("a=ice-lite"), std::string::npos) << a->sdp;
    EXPECT_EQ(made[0]->local.port, port_of(a->sdp)) << "the keyer sits on A's media port";
    EXPECT_EQ(reg->size(), 0u) << "no flows before the handshake";

    // The handshake completes: the flows go in, with the peer address learnt on the port.
    made[0]->ev.on_keyed(keys(engine::suite::aead_aes_128_gcm, 7), ep("192.0.2.99:4444"));
    ASSERT_EQ(reg->size(), 2u);
    auto fa = reg->get(ep("203.0.113.10:" + std::to_string(port_of(a->sdp))));
    ASSERT_TRUE(fa);
    EXPECT_EQ(fa->spec.in->suite, engine::suite::aead_aes_128_gcm);
    EXPECT_EQ(bytes_of(fa->spec.in->key_salt), std::vector<std::byte>(28, std::byte{8}));
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_of(o->sdp))));
    EXPECT_EQ(api::to_string(*fb->spec.send_to), "192.0.2.99:4444");
    EXPECT_EQ(bytes_of(fb->spec.out->key_salt), std::vector<std::byte>(28, std::byte{7}));
    auto d = eng->describe("d");
    EXPECT_EQ((*d)["streams"][0]["legs"]["a"]["media_path"]["state"], "fake");
    // A rekey (RFC 8842 new handshake): same flows, new keys.
    made[0]->ev.on_keyed(keys(engine::suite::aead_aes_128_gcm, 20), ep("192.0.2.99:4444"));
    auto fa2 = reg->get(fa->spec.match);
    EXPECT_EQ(fa2->slot, fa->slot);
    EXPECT_GT(fa2->generation, fa->generation);
    EXPECT_EQ(bytes_of(fa2->spec.in->key_salt), std::vector<std::byte>(28, std::byte{21}));
    // A re-offer keeps the keyer (set_remote again) and the keys.
    o = eng->offer("d", side::a, sdp_of("192.0.2.1", 4000, "UDP/TLS/RTP/SAVPF", "a=fingerprint:sha-256 11:22\r\n", 2),
                   sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_TRUE(o) << o.err().message;
    ASSERT_TRUE(eng->answer("d", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVPF", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1), 2)));
    EXPECT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0]->remotes.size(), 2u);
    EXPECT_EQ(reg->size(), 2u);
    // The handshake fails later (e.g. a bad fingerprint on a rekey): the stream's flows go.
    made[0]->ev.on_failed("fingerprint mismatch");
    EXPECT_EQ(reg->size(), 0u);
    eng->remove("d");
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(path_fixture, zrtp_towards_b_keyed_before_the_answer) {
    auto o = eng->offer("z", side::a, sdp_of("192.0.2.1", 4000, "RTP/AVP", ""),
                        [] { leg_policy p; p.method = keying_method::zrtp; return p; }());
    ASSERT_TRUE(o) << o.err().message;
    ASSERT_EQ(made.size(), 1u);
    EXPECT_NE(o->sdp.find("a=zrtp-hash:1.10"), std::string::npos);
    EXPECT_NE(o->sdp.find("RTP/AVP"), std::string::npos);
    // B starts ZRTP as soon as it has our offer: keys may come before its answer.
    made[0]->ev.on_keyed(keys(engine::suite::aes_cm_128_hmac_sha1_32, 3), ep("198.51.100.7:6000"));
    EXPECT_EQ(reg->size(), 0u);
    auto a = eng->answer("z", side::b, sdp_of("198.51.100.7", 6000, "RTP/AVP", ""));
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(made[0]->remotes, std::vector<bool>{false});
    ASSERT_EQ(reg->size(), 2u) << "the keys that came early are kept at the commit";
    auto fb = reg->get(ep("203.0.113.10:" + std::to_string(port_of(o->sdp))));
    EXPECT_EQ(fb->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_32);
    EXPECT_FALSE(fb->spec.out) << "A is plain";
}

TEST_F(path_fixture, a_keyer_refusing_the_peer_sdp_leaves_nothing_behind) {
    auto o = eng->offer("x", side::a, sdp_of("192.0.2.1", 4000, "UDP/TLS/RTP/SAVP", "a=setup:actpass\r\n"),
                        sdes_to({"AES_CM_128_HMAC_SHA1_80"}));
    ASSERT_FALSE(o);
    EXPECT_EQ(o.err().code, api::api_errc::invalid_argument);
    EXPECT_NE(o.err().message.find("no a=fingerprint"), std::string::npos) << o.err().message;
    EXPECT_EQ(eng->calls(), 0u);
    EXPECT_EQ(pool->in_use(), 0u);
}

TEST(media_config, parses_and_refuses) {
    auto c = parse_media_config("[media]\naddress = \"2001:db8::10\"\nport_min = 40000\nport_max = 40099\nsuites = [\"AEAD_AES_128_GCM\"]\n",
                                "t.toml");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->enabled);
    EXPECT_EQ(c->addrtype, "IP6");
    EXPECT_EQ(c->suites.size(), 1u);
    EXPECT_FALSE(parse_media_config("[table]\nname = \"x\"\n", "t")->enabled);
    for (const char* bad : {"[media]\naddress = \"nope\"\n", "[media]\nsuites = [\"X\"]\n", "[media]\nport_min = 5000\nport_max = 5000\n",
                            "[media]\ntypo = 1\n"}) {
        auto r = parse_media_config(bad, "t.toml");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.err().message.find("media."), std::string::npos) << r.err().message;
    }
}

// MIKEY's DH-based and signed modes in SDP (RFC 3830 §3.3 DH, §3.2 public-key envelope, RFC 4650
// DHHMAC): srtpo-cp X offers its leg B a MIKEY DH, PK or DHHMAC message (mikey_mode, its RSA key and certificate from 0600 files);
// srtpo-cp Y, configured from files too, receives that SDP as its leg A's offer and answers with
// the R_MESSAGE. No third-party SIP peer speaks these modes (GStreamer carries PSK/NULL only), so
// the peer is a second call engine; the modes' crypto is checked against the Python reference in
// tests/mikey.
class signed_mikey : public ::testing::Test {
protected:
    struct sbc {
        std::string name = unique_name();
        std::optional<table::sessions_mapping> t;
        std::optional<flow_registry> reg;
        std::optional<port_pool> pool;
        std::optional<call_engine> eng;
        void start(const media_config& c, uint16_t lo) {
            auto m = table::sessions_mapping::create(name, 16);
            ASSERT_TRUE(m) << m.err().message;
            t = std::move(m.value());
            reg.emplace(*t, 2000);
            pool = std::move(*port_pool::create(lo, static_cast<uint16_t>(lo + 99)));
            eng.emplace(*reg, *pool, c);
        }
        ~sbc() {
            eng.reset();
            reg.reset();
            t.reset();
            (void)table::unlink_shm(name);
        }
    };
    std::filesystem::path dir = std::filesystem::temp_directory_path() / unique_name();
    void SetUp() override {
        std::filesystem::create_directories(dir);
        for (const char* who : {"x", "y", "z"}) {
            auto [key, cert] = mikey_test::make_rsa_identity(who);
            write(std::string(who) + ".key", key, 0600);
            write(std::string(who) + ".crt", cert, 0644);
        }
        write("psk", "00112233445566778899aabbccddeeff", 0600);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    void write(const std::string& file, const std::string& text, mode_t mode) {
        std::ofstream(dir / file) << text;
        ::chmod((dir / file).c_str(), mode);
    }
    /// [media] of srtpo-cp `who` (x, y) trusting `trusts`, with extra lines.
    media_config config(const std::string& who, const std::string& trusts, const std::string& address, const std::string& extra) {
        const auto f = [&](const std::string& n) { return "\"" + (dir / n).string() + "\"\n"; };
        auto c = parse_media_config("[media]\naddress = \"" + address + "\"\nmikey_key_file = " + f(who + ".key") +
                                        "mikey_cert_file = " + f(who + ".crt") + "mikey_trust_file = " + f(trusts + ".crt") + extra,
                                    "t.toml");
        EXPECT_TRUE(c) << c.err().message;
        return c ? std::move(*c) : media_config{};
    }
    static leg_policy mikey_to() {
        leg_policy p;
        p.method = keying_method::mikey;
        p.suites = {"AES_CM_128_HMAC_SHA1_80"};
        return p;
    }
    /// X (offering `mode`) -> Y -> answer back to X; checks both ends hold the same key.
    void exchange(const std::string& mode, const std::string& y_trusts) {
        sbc x, y;
        const std::string psk = "mikey_psk_file = \"" + (dir / "psk").string() + "\"\n";
        x.start(config("x", "y", "203.0.113.10",
                       "mikey_mode = \"" + mode + "\"\nmikey_peer_cert_file = \"" + (dir / "y.crt").string() + "\"\n" + psk),
                31000);
        y.start(config("y", y_trusts, "198.51.100.20", psk), 32000);
        ASSERT_TRUE(x.eng && y.eng);
        auto ox = x.eng->offer("c", side::a, sdp_of("192.0.2.1", 4000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a1)), mikey_to());
        ASSERT_TRUE(ox) << ox.err().message;
        ASSERT_NE(ox->sdp.find("a=key-mgmt:mikey "), std::string::npos) << ox->sdp;
        auto oy = y.eng->offer("c", side::a, ox->sdp, sdes_policy());
        if (y_trusts != "x") { // Y does not trust X's certificate: refused with the MIKEY ERR, nothing kept
            ASSERT_FALSE(oy);
            EXPECT_NE(oy.err().message.find("MIKEY"), std::string::npos) << oy.err().message;
            EXPECT_EQ(y.eng->calls(), 0u);
            EXPECT_EQ(y.reg->size(), 0u);
            return;
        }
        ASSERT_TRUE(oy) << oy.err().message;
        auto ay = y.eng->answer("c", side::b, sdp_of("198.51.100.7", 6000, "RTP/SAVP", crypto(1, "AES_CM_128_HMAC_SHA1_80", key_a2)));
        ASSERT_TRUE(ay) << ay.err().message;
        ASSERT_NE(ay->sdp.find("a=key-mgmt:mikey "), std::string::npos) << "no R_MESSAGE in Y's answer: " << ay->sdp;
        auto ax = x.eng->answer("c", side::b, ay->sdp);
        ASSERT_TRUE(ax) << ax.err().message;
        // A single-key bundle: the one MIKEY key protects both directions between X and Y.
        // X's B-side flow (from Y) and Y's A-side flow (from X) unprotect with it; X's A-side flow
        // (towards Y) and Y's B-side flow (towards X) protect with it.
        const auto flow = [](sbc& s, const std::string& addr, const std::string& body) {
            return s.reg->get(*api::parse_endpoint(addr + ":" + std::to_string(sdp::parse(body)->media.at(0).port), "t"));
        };
        auto fx = flow(x, "203.0.113.10", ox->sdp), fxa = flow(x, "203.0.113.10", ax->sdp);
        auto fy = flow(y, "198.51.100.20", ay->sdp), fyb = flow(y, "198.51.100.20", oy->sdp);
        ASSERT_TRUE(fx && fxa && fy && fyb);
        ASSERT_TRUE(fx->spec.in && fy->spec.in && fxa->spec.out && fyb->spec.out);
        EXPECT_EQ(bytes_of(fx->spec.in->key_salt), bytes_of(fy->spec.in->key_salt));
        EXPECT_EQ(bytes_of(fxa->spec.out->key_salt), bytes_of(fy->spec.in->key_salt));
        EXPECT_EQ(bytes_of(fyb->spec.out->key_salt), bytes_of(fx->spec.in->key_salt));
        EXPECT_EQ(fx->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_80);
        EXPECT_EQ((*x.eng->describe("c"))["streams"][0]["legs"]["b"]["method"], "mikey");
        EXPECT_EQ((*y.eng->describe("c"))["streams"][0]["legs"]["a"]["method"], "mikey");
    }
    static leg_policy sdes_policy() {
        leg_policy p;
        p.method = keying_method::sdes;
        p.suites = {"AES_CM_128_HMAC_SHA1_80"};
        return p;
    }
};

TEST_F(signed_mikey, dh_mode_offer_answered_by_a_second_engine) { exchange("dh", "x"); }
TEST_F(signed_mikey, pk_mode_offer_answered_by_a_second_engine) { exchange("pk", "x"); }
TEST_F(signed_mikey, dhhmac_mode_offer_answered_by_a_second_engine) { exchange("dhhmac", "x"); }
TEST_F(signed_mikey, dh_offer_from_an_untrusted_certificate_is_refused) { exchange("dh", "z"); }
TEST_F(signed_mikey, pk_offer_from_an_untrusted_certificate_is_refused) { exchange("pk", "z"); }

TEST_F(signed_mikey, config_names_what_a_mode_lacks) {
    const auto k = "mikey_key_file = \"" + (dir / "x.key").string() + "\"\n";
    const auto c = "mikey_cert_file = \"" + (dir / "x.crt").string() + "\"\n";
    const std::pair<std::string, std::string> cases[] = {
        {"mikey_mode = \"dh\"\n", "dh needs mikey_key_file"},
        {"mikey_mode = \"pk\"\n" + k + c, "pk needs mikey_key_file, mikey_cert_file and mikey_peer_cert_file"},
        {"mikey_mode = \"rsa\"\n", "mikey_mode: 'rsa' is not psk, dhhmac, dh or pk"},
        {k, "mikey_key_file/mikey_cert_file: give both or neither"},
        {"mikey_dh_group = 14\n", "mikey_dh_group: must be 5, 1 or 2"},
        {"mikey_trust_file = \"/nonexistent\"\n", "media.mikey_trust_file"},
    };
    for (const auto& [extra, want] : cases) {
        auto r = parse_media_config("[media]\naddress = \"192.0.2.1\"\n" + extra, "t.toml");
        ASSERT_FALSE(r) << extra;
        EXPECT_NE(r.err().message.find(want), std::string::npos) << r.err().message;
    }
    // The key file must be 0600 (secrets in files).
    ::chmod((dir / "x.key").c_str(), 0644);
    auto r = parse_media_config("[media]\naddress = \"192.0.2.1\"\n" + k + c, "t.toml");
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("media.mikey_key_file"), std::string::npos) << r.err().message;
}

} // namespace
