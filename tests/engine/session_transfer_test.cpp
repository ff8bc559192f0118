// session_transfer_streams: a rekey keeps ROC, s_l, replay windows, SRTCP index and key usage
// (RFC 3711 §3.3.1, §3.3.2, §3.4, §9.2), so that a flow's new keys take over where the old ones
// stopped, across a SEQ wrap too.

#include "test_util.hpp"

#include <srtpo/engine/suite.hpp>

#include <gtest/gtest.h>

#include <random>

using namespace srtpo;
using namespace srtpo::test;
using engine::direction;
using engine::status;
using engine::suite;

namespace {

constexpr auto cm80 = suite::aes_cm_128_hmac_sha1_80;
constexpr uint32_t ssrc = 0x11223344;

simple_key key_of(uint32_t seed, bytes mki = {}) {
    std::mt19937 rng(seed);
    return {random_bytes(rng, 16), random_bytes(rng, 14), std::move(mki)};
}

bytes rtp(uint16_t seq) {
    rtp_spec s;
    s.ssrc = ssrc;
    s.seq = seq;
    s.payload_len = 40;
    s.fill_seed = seq;
    return make_rtp(s);
}

/// Protects `seq` with tx and unprotects it with rx; returns rx's status.
status round_trip(engine::worker_ctx& w, engine::session_rt* tx, engine::session_rt* rx, uint16_t seq) {
    const auto plain = rtp(seq);
    pkt_buf p(plain);
    if (auto st = protect_one(w, tx, p); st != status::ok) return st;
    const auto st = unprotect_one(w, rx, p);
    if (st == status::ok) {
        EXPECT_EQ(p.contents(), plain) << seq;
    }
    return st;
}

// The rekey falls in the middle of a SEQ wrap: the new sessions must use ROC 1 after it, which
// they can only know from the transferred state.
TEST(session_transfer, rekey_across_seq_wrap_keeps_roc_and_replay) {
    auto w = make_worker();
    const auto a = key_of(1), b = key_of(2);
    auto tx_a = make(cm80, direction::protect, {a}), rx_a = make(cm80, direction::unprotect, {a});
    for (uint16_t seq = 65530; seq != 3; ++seq) ASSERT_EQ(round_trip(*w, tx_a.get(), rx_a.get(), seq), status::ok) << seq;
    ASSERT_EQ(engine::session_stream(*rx_a, ssrc)->roc, 1u);

    auto tx_b = make(cm80, direction::protect, {b}), rx_b = make(cm80, direction::unprotect, {b});
    const auto t1 = engine::session_transfer_streams(*tx_a, *tx_b);
    const auto t2 = engine::session_transfer_streams(*rx_a, *rx_b);
    EXPECT_TRUE(t1.ok && t2.ok);
    EXPECT_EQ(t1.moved, 1u);
    EXPECT_EQ(t2.moved, 1u);
    EXPECT_EQ(t1.keys_matched, 0u); // a different key keeps its own (zero) usage
    for (uint16_t seq = 3; seq != 40; ++seq) ASSERT_EQ(round_trip(*w, tx_b.get(), rx_b.get(), seq), status::ok) << seq;
    const auto st = engine::session_stream(*rx_b, ssrc);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->roc, 1u);
    EXPECT_EQ(st->highest_seq, 39u);
    EXPECT_EQ(st->srtp_packets, 9u + 37u); // the counters moved too

    // An index the old session accepted is a replay for the new one, even under the new key.
    auto tx_b2 = make(cm80, direction::protect, {b});
    ASSERT_TRUE(engine::session_set_roc(*tx_b2, ssrc, 1));
    EXPECT_EQ(round_trip(*w, tx_b2.get(), rx_b.get(), 1), status::replay_duplicate);

    // Without the transfer a fresh receiver guesses ROC 0 and the tag does not verify.
    auto rx_fresh = make(cm80, direction::unprotect, {b});
    auto tx_c = make(cm80, direction::protect, {b});
    ASSERT_TRUE(engine::session_set_roc(*tx_c, ssrc, 1));
    EXPECT_EQ(round_trip(*w, tx_c.get(), rx_fresh.get(), 40), status::auth_fail);
}

TEST(session_transfer, srtcp_index_continues) {
    auto w = make_worker();
    const auto a = key_of(3), b = key_of(4);
    auto tx_a = make(cm80, direction::protect, {a}), rx_a = make(cm80, direction::unprotect, {a});
    for (int i = 0; i < 3; ++i) {
        pkt_buf p(make_rtcp(ssrc));
        ASSERT_EQ(protect_one(*w, tx_a.get(), p, true), status::ok);
        ASSERT_EQ(unprotect_one(*w, rx_a.get(), p, true), status::ok);
    }
    auto tx_b = make(cm80, direction::protect, {b}), rx_b = make(cm80, direction::unprotect, {b});
    ASSERT_TRUE(engine::session_transfer_streams(*tx_a, *tx_b).ok);
    ASSERT_TRUE(engine::session_transfer_streams(*rx_a, *rx_b).ok);
    EXPECT_EQ(engine::session_stream(*tx_b, ssrc)->srtcp_index, 3u); // next index to send
    pkt_buf p(make_rtcp(ssrc));
    ASSERT_EQ(protect_one(*w, tx_b.get(), p, true), status::ok);
    ASSERT_EQ(unprotect_one(*w, rx_b.get(), p, true), status::ok);
    EXPECT_EQ(engine::session_stream(*rx_b, ssrc)->srtcp_index, 3u); // highest received
    // Index 2 was received under the old key: a replay now.
    auto tx_old_index = make(cm80, direction::protect, {b}, engine::backend_kind::openssl,
                             [](engine::session_config& c) { c.initial_srtcp_index = 2; });
    pkt_buf q(make_rtcp(ssrc));
    ASSERT_EQ(protect_one(*w, tx_old_index.get(), q, true), status::ok);
    EXPECT_EQ(unprotect_one(*w, rx_b.get(), q, true), status::replay_duplicate);
}

// Make-before-break: {new, old} under MKIs, then rebuilt with {new} only. The new key's usage
// count survives the rebuild (RFC 3711 §9.2 lifetime); the old key's does not matter any more.
TEST(session_transfer, key_usage_follows_the_same_key) {
    auto w = make_worker();
    const auto old_k = key_of(5, {std::byte{1}}), new_k = key_of(6, {std::byte{2}});
    auto tx = make(cm80, direction::protect, {new_k});
    auto both = make(cm80, direction::unprotect, {new_k, old_k});
    for (uint16_t seq = 1; seq <= 5; ++seq) ASSERT_EQ(round_trip(*w, tx.get(), both.get(), seq), status::ok);
    ASSERT_EQ(engine::session_key_usage(*both, 0).srtp_packets, 5u);
    auto only_new = make(cm80, direction::unprotect, {new_k});
    const auto t = engine::session_transfer_streams(*both, *only_new);
    EXPECT_TRUE(t.ok);
    EXPECT_EQ(t.keys_matched, 1u);
    EXPECT_EQ(engine::session_key_usage(*only_new, 0).srtp_packets, 5u);
    ASSERT_EQ(round_trip(*w, tx.get(), only_new.get(), 6), status::ok);
    // The old key is gone: a packet under it no longer has a key (unknown MKI).
    auto tx_old = make(cm80, direction::protect, {old_k});
    EXPECT_NE(round_trip(*w, tx_old.get(), only_new.get(), 7), status::ok);
}

TEST(session_transfer, refuses_other_direction_and_self) {
    const auto a = key_of(7);
    auto tx = make(cm80, direction::protect, {a}), rx = make(cm80, direction::unprotect, {a});
    auto w = make_worker();
    ASSERT_EQ(round_trip(*w, tx.get(), rx.get(), 9), status::ok);
    auto t = engine::session_transfer_streams(*tx, *rx);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.moved, 0u);
    EXPECT_FALSE(engine::session_transfer_streams(*rx, *rx).ok);
    EXPECT_EQ(engine::session_stream(*rx, ssrc)->highest_seq, 9u);
}

// A larger window treats what the smaller one had already let go of as seen; a smaller one keeps
// the newest part. Either way nothing the old window refused becomes acceptable.
TEST(session_transfer, window_sizes_differ) {
    auto w = make_worker();
    const auto a = key_of(8);
    auto tx = make(cm80, direction::protect, {a});
    auto rx64 = make(cm80, direction::unprotect, {a}, engine::backend_kind::openssl,
                     [](engine::session_config& c) { c.replay_window = 64; });
    std::vector<bytes> sent;
    for (uint16_t seq = 100; seq < 300; ++seq) {
        pkt_buf p(rtp(seq));
        ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
        sent.push_back(p.contents());
        if (seq % 2 == 0 || seq > 290) {
            pkt_buf q(sent.back());
            ASSERT_EQ(unprotect_one(*w, rx64.get(), q), status::ok);
        }
    }
    auto rx1024 = make(cm80, direction::unprotect, {a}, engine::backend_kind::openssl,
                       [](engine::session_config& c) { c.replay_window = 1024; });
    ASSERT_EQ(engine::session_transfer_streams(*rx64, *rx1024).moved, 1u);
    auto again = [&](uint16_t seq) {
        pkt_buf q(sent[seq - 100u]);
        return unprotect_one(*w, rx1024.get(), q);
    };
    EXPECT_EQ(again(281), status::ok);                 // inside the old window, never received
    EXPECT_EQ(again(282), status::replay_duplicate);   // received
    EXPECT_EQ(again(101), status::replay_duplicate);   // older than the old window: treated as seen
    EXPECT_EQ(again(299), status::replay_duplicate);
}

} // namespace
