// Two srtpo endpoints against each other: every key agreement (including EC25/EC38, which
// bzrtp lacks), both roles, contention, loss, Multistream, retained secrets, a=zrtp-hash and the
// error paths of §4 and §6.
#include "pair.hpp"

#include <cstring>

#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/error_message.hpp>
#include <srtpo/cp/zrtp/packet.hpp>
#include <srtpo/cp/zrtp/show.hpp>

namespace srtpo::cp::zrtp::test {
namespace {

endpoint_config cfg_for(uint32_t ssrc, bool passive = false) {
    endpoint_config c;
    c.ssrc = ssrc;
    c.passive = passive;
    return c;
}

struct pair_fixture {
    zid_cache ca = zid_cache::in_memory(), cb = zid_cache::in_memory();
    std::shared_ptr<call> calla = std::make_shared<call>(ca), callb = std::make_shared<call>(cb);
    std::vector<event> ea, eb;
};

void expect_mirrored(const endpoint& a, const endpoint& b) {
    ASSERT_EQ(a.current_state(), state::secure);
    ASSERT_EQ(b.current_state(), state::secure);
    auto ka = a.keying(), kb = b.keying();
    ASSERT_TRUE(ka && kb);
    EXPECT_EQ(ka->suite, kb->suite);
    EXPECT_TRUE(ka->local.key_salt.equals(kb->remote.key_salt.bytes()));
    EXPECT_TRUE(ka->remote.key_salt.equals(kb->local.key_salt.bytes()));
    EXPECT_FALSE(ka->local.key_salt.equals(ka->remote.key_salt.bytes()));
    EXPECT_EQ(a.info().sas, b.info().sas);
    EXPECT_FALSE(a.info().sas.empty());
}

struct combo {
    key_agreement ka;
    hash_algo h;
    cipher_algo c;
    auth_tag t;
    sas_type s;
};

class all_algorithms : public ::testing::TestWithParam<combo> {};

TEST_P(all_algorithms, both_sides_agree_on_keys_and_sas) {
    const auto p = GetParam();
    pair_fixture f;
    auto ca = cfg_for(1), cb = cfg_for(2, true);
    for (auto* c : {&ca, &cb}) {
        c->algorithms.key_agreements = {p.ka};
        c->algorithms.hashes = {p.h};
        c->algorithms.ciphers = {p.c};
        c->algorithms.auth_tags = {p.t};
        c->algorithms.sas_types = {p.s};
    }
    auto a = make_endpoint(f.calla, ca), b = make_endpoint(f.callb, cb);
    run_pair(*a, *b, f.ea, f.eb);
    expect_mirrored(*a, *b);
    EXPECT_EQ(a->info().r, role::initiator);
    EXPECT_EQ(b->info().r, role::responder);
    const auto i = a->info();
    EXPECT_EQ(i.algorithms.ka, p.ka);
    EXPECT_EQ(i.algorithms.hash, p.h);
    EXPECT_EQ(a->keying()->suite, srtp_suite(p.c, p.t));
    EXPECT_EQ(i.sas.size(), p.s == sas_type::b32 ? 4u : i.sas.size());
    EXPECT_EQ(i.cache, cache_status::new_peer);
}

INSTANTIATE_TEST_SUITE_P(zrtp, all_algorithms,
                         ::testing::Values(combo{key_agreement::dh3k, hash_algo::s256, cipher_algo::aes1, auth_tag::hs80, sas_type::b32},
                                           combo{key_agreement::dh2k, hash_algo::s384, cipher_algo::aes3, auth_tag::hs32, sas_type::b256},
                                           combo{key_agreement::ec25, hash_algo::s256, cipher_algo::aes1, auth_tag::hs32, sas_type::b32},
                                           combo{key_agreement::ec38, hash_algo::s384, cipher_algo::aes3, auth_tag::hs80, sas_type::b256},
                                           combo{key_agreement::x255, hash_algo::s256, cipher_algo::aes3, auth_tag::hs80, sas_type::b32},
                                           combo{key_agreement::x448, hash_algo::s384, cipher_algo::aes1, auth_tag::hs32, sas_type::b256}));

TEST(zrtp_endpoint, contention_resolves_to_one_initiator) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2));
    run_pair(*a, *b, f.ea, f.eb);
    expect_mirrored(*a, *b);
    EXPECT_NE(a->info().r, b->info().r);
}

TEST(zrtp_endpoint, completes_with_30_percent_loss) {
    pair_fixture f;
    std::mt19937 rng(7);
    std::bernoulli_distribution lose(0.3);
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    run_pair(*a, *b, f.ea, f.eb, [&] { return lose(rng); });
    expect_mirrored(*a, *b);
}

TEST(zrtp_endpoint, total_loss_fails_cleanly_after_t1_retransmissions) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    auto used = run_pair(*a, *b, f.ea, f.eb, [] { return true; });
    EXPECT_EQ(a->current_state(), state::failed);
    EXPECT_NE(a->info().failure.find("Hello"), std::string::npos);
    EXPECT_LT(used, std::chrono::seconds(10)); // 50 + 100 + 18 x 200 ms plus the last wait
    EXPECT_FALSE(a->next_timeout().has_value());
}

// Fires every timer of a peerless endpoint in turn: the gaps between expiries (ms) and how many
// packets the expiries resent.
std::pair<std::vector<long>, int> run_timers(endpoint& ep, time_point t0) {
    std::vector<long> gaps;
    time_point last = t0;
    int resends = 0;
    while (auto d = ep.next_timeout()) {
        gaps.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(*d - last).count()));
        last = *d;
        ep.on_timer(*d);
        resends += static_cast<int>(ep.take_outgoing().size());
        if (gaps.size() > 40) break;
    }
    return {gaps, resends};
}

TEST(zrtp_endpoint, t1_doubles_from_50_ms_caps_at_200_ms_and_gives_up_after_20_resends) {
    auto cache = zid_cache::in_memory();
    auto ep = make_endpoint(std::make_shared<call>(cache), cfg_for(1));
    const time_point t0{};
    ep->start(t0);
    ASSERT_EQ(ep->take_outgoing().size(), 1u);
    const auto [gaps, resends] = run_timers(*ep, t0);
    ASSERT_GE(gaps.size(), 4u);
    EXPECT_EQ(gaps[0], 50);
    EXPECT_EQ(gaps[1], 100);
    EXPECT_EQ(gaps[2], 200);
    EXPECT_EQ(gaps[3], 200);
    EXPECT_EQ(resends, 20);
    EXPECT_EQ(ep->current_state(), state::failed);
    EXPECT_NE(ep->info().failure.find("T1"), std::string::npos);
}

TEST(zrtp_endpoint, t2_resends_commit_from_150_ms_capped_at_1200_ms_then_fails) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    const time_point t0{};
    a->start(t0);
    b->start(t0);
    auto hello_a = a->take_outgoing(), hello_b = b->take_outgoing();
    b->receive(hello_a.at(0), t0);            // B acknowledges A's Hello
    for (auto& p : b->take_outgoing()) a->receive(p, t0);
    a->receive(hello_b.at(0), t0);            // A commits; from now on everything is lost
    ASSERT_EQ(a->current_state(), state::commit_sent);
    ASSERT_EQ(a->take_outgoing().size(), 1u);
    const auto [gaps, resends] = run_timers(*a, t0);
    ASSERT_GE(gaps.size(), 5u);
    EXPECT_EQ(gaps[0], 150);
    EXPECT_EQ(gaps[1], 300);
    EXPECT_EQ(gaps[2], 600);
    EXPECT_EQ(gaps[3], 1200);
    EXPECT_EQ(gaps[4], 1200);
    EXPECT_EQ(resends, 10);
    EXPECT_EQ(a->current_state(), state::failed);
    EXPECT_NE(a->info().failure.find("T2"), std::string::npos);
    EXPECT_EQ(a->info().last_error, 0xB0u);
}

TEST(zrtp_endpoint, two_passive_endpoints_time_out_cleanly) {
    pair_fixture f;
    auto ca = cfg_for(1, true), cb = cfg_for(2, true);
    ca.handshake_timeout = cb.handshake_timeout = std::chrono::seconds(2);
    auto a = make_endpoint(f.calla, ca), b = make_endpoint(f.callb, cb);
    auto used = run_pair(*a, *b, f.ea, f.eb);
    EXPECT_EQ(a->current_state(), state::failed);
    EXPECT_EQ(b->current_state(), state::failed);
    EXPECT_EQ(a->info().last_error, 0xB0u); // protocol timeout (§5.9), reported, not sent
    EXPECT_GE(used, std::chrono::seconds(2));
    EXPECT_LT(used, std::chrono::seconds(3));
    EXPECT_FALSE(a->next_timeout().has_value());
}

TEST(zrtp_endpoint, retained_secret_matches_on_second_call_and_mismatch_is_reported) {
    pair_fixture f;
    {
        auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
        run_pair(*a, *b, f.ea, f.eb);
        expect_mirrored(*a, *b);
        EXPECT_EQ(a->info().cache, cache_status::new_peer);
        ASSERT_TRUE(a->verify_sas());
        ASSERT_TRUE(b->verify_sas());
        EXPECT_TRUE(a->info().sas_verified);
        // What operators see: no key material, the SAS and the verification.
        const auto text = show(a->info());
        EXPECT_NE(text.find("state: secure\n"), std::string::npos) << text;
        EXPECT_NE(text.find("sas: " + a->info().sas + "\n"), std::string::npos) << text;
        EXPECT_NE(text.find("sas_verified: yes\n"), std::string::npos) << text;
        EXPECT_NE(text.find("cache: new_peer\n"), std::string::npos) << text;
        EXPECT_NE(text.find("key_agreement: X255\n"), std::string::npos) << text;
        EXPECT_NE(text.find("role: initiator\n"), std::string::npos) << text;
    }
    {
        auto calla = std::make_shared<call>(f.ca), callb = std::make_shared<call>(f.cb);
        auto a = make_endpoint(calla, cfg_for(1)), b = make_endpoint(callb, cfg_for(2, true));
        run_pair(*a, *b, f.ea, f.eb);
        expect_mirrored(*a, *b);
        EXPECT_EQ(a->info().cache, cache_status::match);
        EXPECT_EQ(b->info().cache, cache_status::match);
        EXPECT_TRUE(a->info().sas_verified);
        EXPECT_TRUE(a->info().peer_sas_verified); // V flag in the peer's Confirm (§5.7)
    }
    // B forgets A: A still has secrets, B's IDs are random -> A reports a mismatch.
    auto zid_a = f.ca.self_zid();
    ASSERT_TRUE(f.cb.erase(zid_a));
    f.ea.clear();
    auto calla = std::make_shared<call>(f.ca), callb = std::make_shared<call>(f.cb);
    auto a = make_endpoint(calla, cfg_for(1)), b = make_endpoint(callb, cfg_for(2, true));
    run_pair(*a, *b, f.ea, f.eb);
    expect_mirrored(*a, *b);
    EXPECT_EQ(a->info().cache, cache_status::mismatch);
    EXPECT_EQ(b->info().cache, cache_status::new_peer);
    EXPECT_FALSE(a->info().sas_verified);
    bool reported = false;
    for (const auto& e : f.ea) reported |= e.kind == event_kind::cache_mismatch;
    EXPECT_TRUE(reported);
}

TEST(zrtp_endpoint, multistream_second_stream_uses_zrtpsess) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    run_pair(*a, *b, f.ea, f.eb);
    expect_mirrored(*a, *b);
    auto a2 = make_endpoint(f.calla, cfg_for(3)), b2 = make_endpoint(f.callb, cfg_for(4, true));
    run_pair(*a2, *b2, f.ea, f.eb);
    expect_mirrored(*a2, *b2);
    EXPECT_TRUE(a2->info().multistream);
    EXPECT_EQ(a2->info().algorithms.ka, key_agreement::mult);
    EXPECT_EQ(a2->info().sas, a->info().sas);
    EXPECT_FALSE(a2->keying()->local.key_salt.equals(a->keying()->local.key_salt.bytes()));
}

TEST(zrtp_endpoint, zrtp_hash_binding_accepts_right_and_rejects_wrong) {
    {
        pair_fixture f;
        auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
        ASSERT_TRUE(b->set_peer_zrtp_hash(a->zrtp_hash()));
        ASSERT_TRUE(a->set_peer_zrtp_hash(b->zrtp_hash()));
        run_pair(*a, *b, f.ea, f.eb);
        expect_mirrored(*a, *b);
    }
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    ASSERT_TRUE(b->set_peer_zrtp_hash("1.10 " + std::string(64, '0')));
    run_pair(*a, *b, f.ea, f.eb, [] { return false; }, std::chrono::seconds(10));
    EXPECT_EQ(b->current_state(), state::failed);
    EXPECT_NE(b->info().failure.find("zrtp-hash"), std::string::npos);
    EXPECT_NE(a->current_state(), state::secure);
    EXPECT_FALSE(b->set_peer_zrtp_hash("1.10 xyz"));
    EXPECT_FALSE(b->set_peer_zrtp_hash("1.00 " + std::string(64, '0')));
}

TEST(zrtp_endpoint, older_version_gets_error_0x30) {
    pair_fixture f;
    auto old = cfg_for(1);
    old.version = "1.00";
    auto a = make_endpoint(f.calla, old), b = make_endpoint(f.callb, cfg_for(2, true));
    run_pair(*a, *b, f.ea, f.eb, [] { return false; }, std::chrono::seconds(5));
    EXPECT_EQ(b->current_state(), state::failed);
    EXPECT_EQ(b->info().last_error, 0x30u);
    EXPECT_EQ(a->current_state(), state::failed); // it received the Error
    EXPECT_EQ(a->info().last_error, 0x30u);
}

TEST(zrtp_endpoint, corrupted_packets_are_discarded_not_fatal) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    int n = 0;
    run_pair(*a, *b, f.ea, f.eb, [] { return false; }, std::chrono::seconds(30), [&](std::vector<uint8_t>& p) {
        if (n++ % 3 == 1) p[p.size() / 2] ^= 0x40; // every third packet: CRC fails, retransmission recovers
    });
    expect_mirrored(*a, *b);
    bool discarded = false;
    for (const auto& e : f.eb) discarded |= e.kind == event_kind::discarded;
    EXPECT_TRUE(discarded);
}

TEST(zrtp_endpoint, no_common_hash_fails_with_error_0x40) {
    pair_fixture f;
    auto ca = cfg_for(1), cb = cfg_for(2, true);
    ca.algorithms.hashes = {hash_algo::s384}; // a misconfigured A that dropped mandatory S256
    cb.algorithms.hashes = {hash_algo::s256};
    auto a = make_endpoint(f.calla, ca), b = make_endpoint(f.callb, cb);
    run_pair(*a, *b, f.ea, f.eb, [] { return false; }, std::chrono::seconds(5));
    EXPECT_EQ(a->current_state(), state::failed);
    EXPECT_EQ(a->info().last_error, 0x40u);
    EXPECT_EQ(b->current_state(), state::failed); // it received A's Error
    EXPECT_EQ(b->info().last_error, 0x40u);
}

TEST(zrtp_endpoint, goclear_refused_sasrelay_ignored_ping_answered_while_secure) {
    pair_fixture f;
    auto a = make_endpoint(f.calla, cfg_for(1)), b = make_endpoint(f.callb, cfg_for(2, true));
    run_pair(*a, *b, f.ea, f.eb);
    ASSERT_EQ(a->current_state(), state::secure);
    const time_point t{};
    // GoClear (§5.11): 3 words + clear_mac; we answer Error 0x100 and stay secure.
    std::vector<uint8_t> go_clear;
    put_message_header(go_clear, message_type::go_clear, 20);
    go_clear.resize(20, 0);
    a->receive(frame_packet(1, 2, go_clear), t);
    auto out = a->take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    auto v = parse_packet(out[0]);
    ASSERT_TRUE(v);
    EXPECT_EQ(*parse_error(v->message), 0x100u);
    EXPECT_EQ(a->current_state(), state::secure);
    // SASrelay: ignored (we trust no PBX), reported.
    std::vector<uint8_t> relay;
    put_message_header(relay, message_type::sas_relay, 12);
    a->receive(frame_packet(2, 2, relay), t);
    EXPECT_TRUE(a->take_outgoing().empty());
    auto ev = a->take_events();
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].kind, event_kind::refused);
    EXPECT_EQ(ev[1].kind, event_kind::refused);
    // Ping (§5.15) gets a PingACK echoing the endpoint hash and our SSRC field.
    ping pg;
    std::memcpy(pg.version.data(), "1.10", 4);
    pg.endpoint_hash.fill(0x5c);
    a->receive(frame_packet(3, 0x1234, build_ping(pg)), t);
    out = a->take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    auto pa = parse_ping_ack(parse_packet(out[0])->message);
    ASSERT_TRUE(pa);
    EXPECT_EQ(pa->received_endpoint_hash, pg.endpoint_hash);
    EXPECT_EQ(pa->received_ssrc, 0x1234u);
    // Error from the peer: ErrorACK, then failed with the peer's code.
    a->receive(frame_packet(4, 2, build_error(0x70)), t);
    out = a->take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(parse_ack(parse_packet(out[0])->message, message_type::error_ack));
    EXPECT_EQ(a->current_state(), state::failed);
    EXPECT_EQ(a->info().last_error, 0x70u);
    EXPECT_FALSE(a->keying()); // keys are gone once failed
}

TEST(zrtp_endpoint, create_rejects_bad_configs) {
    auto cache = zid_cache::in_memory();
    auto c = std::make_shared<call>(cache);
    endpoint_config e;
    e.algorithms.hashes.clear();
    EXPECT_FALSE(endpoint::create(c, e));
    endpoint_config m;
    m.algorithms.key_agreements = {key_agreement::mult};
    EXPECT_FALSE(endpoint::create(c, m));
    EXPECT_FALSE(endpoint::create(nullptr, endpoint_config{}));
    endpoint_config h;
    h.peer_zrtp_hash = "nonsense";
    EXPECT_FALSE(endpoint::create(c, h));
}

TEST(zrtp_endpoint, keying_and_verify_refused_before_secure) {
    auto cache = zid_cache::in_memory();
    auto ep = make_endpoint(std::make_shared<call>(cache), cfg_for(1));
    EXPECT_FALSE(ep->keying());
    EXPECT_FALSE(ep->verify_sas());
    EXPECT_EQ(ep->current_state(), state::idle);
    ep->start(time_point{});
    EXPECT_EQ(ep->take_outgoing().size(), 1u);
    EXPECT_TRUE(ep->next_timeout().has_value());
}

} // namespace
} // namespace srtpo::cp::zrtp::test
