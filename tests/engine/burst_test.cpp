// Burst semantics and per-packet rules: every suite round-trips; failures carry their status and
// leave no trace; a burst gives the same answers as the same packets one at a time; MKI, key
// lifetime, tailroom and malformed input behave as RFC 3711 asks.

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

simple_key random_key(std::mt19937& rng, suite s, bytes mki = {}) {
    const auto& t = engine::traits(s);
    return {random_bytes(rng, t.master_key_len), random_bytes(rng, t.master_salt_len), std::move(mki)};
}

std::vector<engine::backend_kind> backends() {
    std::vector<engine::backend_kind> v;
    for (auto k : {engine::backend_kind::openssl, engine::backend_kind::ipsec_mb})
        if (engine::backend_available(k)) v.push_back(k);
    return v;
}

class every_suite : public ::testing::TestWithParam<std::tuple<suite, engine::backend_kind>> {};

TEST_P(every_suite, round_trip_rtp_and_rtcp) {
    const auto [s, b] = GetParam();
    std::mt19937 rng(static_cast<uint32_t>(s));
    const auto k = random_key(rng, s);
    auto tx = make(s, direction::protect, {k}, b);
    auto rx = make(s, direction::unprotect, {k}, b);
    auto w = make_worker();
    const auto& t = engine::traits(s);
    for (std::size_t len : {0u, 1u, 17u, 160u, 1400u}) {
        rtp_spec spec;
        spec.payload_len = len;
        spec.seq = static_cast<uint16_t>(100 + len);
        spec.csrcs = {1, 2};
        spec.ext_elements = {{1, 3}};
        const auto plain = make_rtp(spec);
        pkt_buf p(plain);
        ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
        EXPECT_EQ(p.ref.len, plain.size() + t.srtp_tag_len);
        if (len >= 16 && t.cipher != engine::cipher_kind::null) {
            EXPECT_NE(to_hex({p.ref.data + 40, 8}), to_hex({plain.data() + 40, 8})) << "payload must be encrypted";
        }
        ASSERT_EQ(unprotect_one(*w, rx.get(), p), status::ok);
        EXPECT_EQ(p.contents(), plain);
        // The same packet again is a replay.
        pkt_buf again(plain);
        ASSERT_EQ(protect_one(*w, tx.get(), again), status::replay_duplicate) << "a sender must never reuse an index";
    }
    const auto rtcp = make_rtcp(0x11223344, 40);
    pkt_buf c(rtcp);
    ASSERT_EQ(protect_one(*w, tx.get(), c, true), status::ok);
    EXPECT_EQ(c.ref.len, rtcp.size() + 4 + t.srtcp_tag_len);
    pkt_buf c2(c.contents());
    ASSERT_EQ(unprotect_one(*w, rx.get(), c, true), status::ok);
    EXPECT_EQ(c.contents(), rtcp);
    EXPECT_EQ(unprotect_one(*w, rx.get(), c2, true), status::replay_duplicate);
}

INSTANTIATE_TEST_SUITE_P(all, every_suite,
                         ::testing::Combine(::testing::Values(suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32,
                                                              suite::aes_192_cm_hmac_sha1_80, suite::aes_192_cm_hmac_sha1_32,
                                                              suite::aes_256_cm_hmac_sha1_80, suite::aes_256_cm_hmac_sha1_32,
                                                              suite::f8_128_hmac_sha1_80, suite::null_hmac_sha1_80,
                                                              suite::null_hmac_sha1_32, suite::aead_aes_128_gcm,
                                                              suite::aead_aes_256_gcm),
                                            ::testing::ValuesIn(backends())),
                         [](const auto& i) {
                             return std::string(engine::traits(std::get<0>(i.param)).name) + "_" +
                                    std::string(engine::to_string(std::get<1>(i.param)) == "openssl" ? "openssl" : "ipsec_mb");
                         });

TEST(burst, mixed_suites_failures_first_middle_last_and_order) {
    std::mt19937 rng(7);
    const std::vector<suite> suites{suite::aes_cm_128_hmac_sha1_80, suite::aead_aes_128_gcm, suite::aes_256_cm_hmac_sha1_32,
                                    suite::null_hmac_sha1_80};
    std::vector<engine::session_ptr> tx, rx;
    for (auto s : suites) {
        const auto k = random_key(rng, s);
        tx.push_back(make(s, direction::protect, {k}));
        rx.push_back(make(s, direction::unprotect, {k}));
    }
    auto w = make_worker();
    // 40 packets round-robin over the four sessions, protected in one burst.
    std::vector<bytes> plain;
    std::vector<pkt_buf> bufs;
    std::vector<engine::op> ops;
    for (int i = 0; i < 40; ++i) {
        rtp_spec spec;
        spec.ssrc = 0x1000u + static_cast<uint32_t>(i % 4);
        spec.seq = static_cast<uint16_t>(65530 + i / 4); // crosses the ROC wrap inside the burst
        spec.payload_len = static_cast<std::size_t>(20 + i);
        plain.push_back(make_rtp(spec));
        bufs.emplace_back(plain.back());
    }
    for (int i = 0; i < 40; ++i) ops.push_back({tx[i % 4].get(), bufs[i].ref, status::ok});
    ASSERT_EQ(engine::protect_rtp(*w, ops), 40u);
    // Corrupt first, a middle one and the last; null session and a truncated one in between.
    std::vector<bytes> wire;
    for (auto& o : ops) wire.push_back(bytes(o.pkt.data, o.pkt.data + o.pkt.len));
    wire[0][15] ^= std::byte{1};
    wire[21][wire[21].size() - 1] ^= std::byte{0x80};
    wire[39][13] ^= std::byte{4};
    std::vector<pkt_buf> in;
    for (auto& b : wire) in.emplace_back(b);
    std::vector<engine::op> rops;
    for (int i = 0; i < 40; ++i) rops.push_back({rx[i % 4].get(), in[i].ref, status::ok});
    rops[10].session = nullptr;
    rops[30].pkt.len = 5;
    EXPECT_EQ(engine::unprotect_rtp(*w, rops), 35u);
    for (int i = 0; i < 40; ++i) {
        if (i == 0 || i == 21 || i == 39) EXPECT_EQ(rops[i].st, status::auth_fail) << i;
        else if (i == 10) EXPECT_EQ(rops[i].st, status::no_session);
        else if (i == 30) EXPECT_EQ(rops[i].st, status::too_short);
        else {
            ASSERT_EQ(rops[i].st, status::ok) << i;
            EXPECT_EQ(bytes(rops[i].pkt.data, rops[i].pkt.data + rops[i].pkt.len), plain[i]) << "order preserved, " << i;
        }
    }
    // AES-CM and NULL check the tag before any keystream runs (RFC 3711 §3.3 receiver steps 5-6):
    // a failed packet is left as it arrived, the ROC written for the HMAC taken back out.
    for (int i : {0, 39}) EXPECT_EQ(bytes(rops[i].pkt.data, rops[i].pkt.data + rops[i].pkt.len), wire[i]) << i;
    // The genuine versions of the failed ones are still accepted afterwards: failures changed nothing.
    for (int i : {0, 21, 39}) {
        pkt_buf g(bytes(ops[i].pkt.data, ops[i].pkt.data + ops[i].pkt.len));
        EXPECT_EQ(unprotect_one(*w, rx[i % 4].get(), g), status::ok) << i;
        EXPECT_EQ(g.contents(), plain[i]);
    }
}

/// Runs the same wire packets through fresh receivers one at a time and as one burst.
void compare_burst_with_sequential(suite s, const std::vector<bytes>& wire, const simple_key& k) {
    auto w = make_worker();
    auto seq_rx = make(s, direction::unprotect, {k});
    auto burst_rx = make(s, direction::unprotect, {k});
    std::vector<status> want;
    std::vector<bytes> want_out;
    for (auto& b : wire) {
        pkt_buf p(b);
        want.push_back(unprotect_one(*w, seq_rx.get(), p));
        want_out.push_back(p.contents());
    }
    std::vector<pkt_buf> bufs;
    for (auto& b : wire) bufs.emplace_back(b);
    std::vector<engine::op> ops;
    for (auto& b : bufs) ops.push_back({burst_rx.get(), b.ref, status::ok});
    engine::unprotect_rtp(*w, ops);
    for (std::size_t i = 0; i < wire.size(); ++i) {
        EXPECT_EQ(engine::to_string(ops[i].st), engine::to_string(want[i])) << "packet " << i;
        if (want[i] == status::ok) {
            EXPECT_EQ(bytes(ops[i].pkt.data, ops[i].pkt.data + ops[i].pkt.len), want_out[i]);
        }
    }
    auto a = engine::session_stream(*seq_rx, 0x5eed), b = engine::session_stream(*burst_rx, 0x5eed);
    ASSERT_EQ(a.has_value(), b.has_value());
    if (a) {
        EXPECT_EQ(a->roc, b->roc);
        EXPECT_EQ(a->highest_seq, b->highest_seq);
        EXPECT_EQ(a->srtp_packets, b->srtp_packets);
    }
}

class burst_equivalence : public ::testing::TestWithParam<suite> {};

TEST_P(burst_equivalence, duplicates_forgeries_and_wrap_inside_one_burst) {
    const suite s = GetParam();
    std::mt19937 rng(11);
    const auto k = random_key(rng, s);
    auto tx = make(s, direction::protect, {k});
    auto w = make_worker();
    std::vector<bytes> sent;
    for (uint16_t q : {uint16_t{40000}, uint16_t{65534}, uint16_t{65535}, uint16_t{0}, uint16_t{1}, uint16_t{2}}) {
        rtp_spec spec;
        spec.ssrc = 0x5eed;
        spec.seq = q;
        pkt_buf p(make_rtp(spec));
        EXPECT_EQ(protect_one(*w, tx.get(), p), status::ok);
        sent.push_back(p.contents());
    }
    auto forged = [](bytes b) { b[b.size() - 1] ^= std::byte{1}; return b; };
    // A forged first packet of a new stream (with a far-away sequence number) followed by the
    // genuine stream: the forged one must not steer the genuine ones' ROC estimate.
    auto bogus = sent[0];
    bogus[2] = std::byte{0x10};
    bogus[3] = std::byte{0x00};
    compare_burst_with_sequential(s, {forged(bogus), sent[1], sent[2], sent[3], sent[3], sent[4], forged(sent[5]), sent[5]}, k);
    // Duplicates and reordering around the wrap.
    compare_burst_with_sequential(s, {sent[2], sent[1], sent[2], sent[4], sent[3], sent[1], sent[0]}, k);
    // A forged packet in the middle that would move the speculative highest index.
    compare_burst_with_sequential(s, {sent[1], forged(sent[4]), sent[2], sent[3], sent[4]}, k);
    // A forged first packet far up the sequence space: under its guess the genuine seq 10 would
    // look like ROC 1; the burst must notice the guess was wrong and run the packet again.
    auto tx2 = make(s, direction::protect, {k});
    std::vector<bytes> early;
    for (uint16_t q : {uint16_t{10}, uint16_t{11}}) {
        rtp_spec spec;
        spec.ssrc = 0x5eed;
        spec.seq = q;
        pkt_buf p(make_rtp(spec));
        EXPECT_EQ(protect_one(*w, tx2.get(), p), status::ok);
        early.push_back(p.contents());
    }
    auto far = early[0];
    far[2] = std::byte{0xea};
    far[3] = std::byte{0x60};
    compare_burst_with_sequential(s, {forged(far), early[0], early[1]}, k);
    compare_burst_with_sequential(s, {forged(far), forged(early[0]), early[1], early[0]}, k);
}

INSTANTIATE_TEST_SUITE_P(suites, burst_equivalence,
                         ::testing::Values(suite::aes_cm_128_hmac_sha1_80, suite::aead_aes_128_gcm, suite::aead_aes_256_gcm),
                         [](const auto& i) { return std::string(engine::traits(i.param).name); });

// The AES-CM path writes the 12 computed HMAC octets straight into the packet when its tailroom
// holds them, and into scratch when it holds only the wire's MKI and tag (ADR 0019): the wire
// bytes must not depend on which, on either backend, with and without MKI.
TEST(burst, tag_placement_does_not_depend_on_tailroom) {
    std::mt19937 rng(21);
    for (const auto b : {engine::backend_kind::openssl, engine::backend_kind::ipsec_mb}) {
        if (!engine::backend_available(b)) continue;
        for (const suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32}) {
            for (const bytes& mki : {bytes{}, bytes{std::byte{7}, std::byte{9}}}) {
                SCOPED_TRACE(std::string(engine::traits(s).name) + " mki " + std::to_string(mki.size()));
                const auto k = random_key(rng, s, mki);
                auto tx_exact = make(s, direction::protect, {k}, b);
                auto tx_roomy = make(s, direction::protect, {k}, b);
                auto rx = make(s, direction::unprotect, {k}, b);
                auto w = make_worker();
                const std::size_t wire_tail = mki.size() + engine::traits(s).srtp_tag_len;
                for (std::size_t len : {0u, 1u, 160u}) {
                    rtp_spec spec;
                    spec.payload_len = len;
                    spec.seq = static_cast<uint16_t>(300 + len);
                    const auto plain = make_rtp(spec);
                    pkt_buf exact(plain, wire_tail), roomy(plain);
                    ASSERT_EQ(protect_one(*w, tx_exact.get(), exact), status::ok);
                    ASSERT_EQ(protect_one(*w, tx_roomy.get(), roomy), status::ok);
                    EXPECT_EQ(exact.contents(), roomy.contents());
                    EXPECT_EQ(exact.contents().size(), plain.size() + wire_tail);
                    ASSERT_EQ(unprotect_one(*w, rx.get(), exact), status::ok);
                    EXPECT_EQ(exact.contents(), plain);
                }
            }
        }
    }
}

TEST(burst, mki_selects_the_key_and_unknown_mki_is_named) {
    std::mt19937 rng(3);
    const suite s = suite::aes_cm_128_hmac_sha1_80;
    std::vector<simple_key> keys{random_key(rng, s, {std::byte{0}, std::byte{1}}), random_key(rng, s, {std::byte{0}, std::byte{2}}),
                                 random_key(rng, s, {std::byte{0}, std::byte{3}})};
    auto tx = make(s, direction::protect, keys);
    auto rx = make(s, direction::unprotect, keys);
    auto w = make_worker();
    for (std::size_t active : {0u, 2u, 1u}) {
        ASSERT_TRUE(engine::session_set_active_key(*tx, active));
        rtp_spec spec;
        spec.seq = static_cast<uint16_t>(10 + active);
        const auto plain = make_rtp(spec);
        pkt_buf p(plain);
        ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
        EXPECT_EQ(static_cast<uint8_t>(p.ref.data[plain.size() + 1]), active + 1) << "MKI precedes the tag (RFC 3711 §3.1)";
        ASSERT_EQ(unprotect_one(*w, rx.get(), p), status::ok);
        EXPECT_EQ(p.contents(), plain);
    }
    EXPECT_FALSE(engine::session_set_active_key(*tx, 3));
    rtp_spec spec;
    spec.seq = 99;
    pkt_buf p(make_rtp(spec));
    ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
    p.ref.data[p.ref.len - 10 - 1] = std::byte{9};
    EXPECT_EQ(unprotect_one(*w, rx.get(), p), status::mki_unknown);
    EXPECT_EQ(engine::session_key_usage(*rx, 1).srtp_packets, 1u);
    EXPECT_EQ(engine::session_key_usage(*rx, 2).srtp_packets, 1u);
}

TEST(burst, key_lifetime_soft_then_hard_limit) {
    std::mt19937 rng(5);
    const suite s = suite::aead_aes_128_gcm;
    auto k = random_key(rng, s);
    k.lifetime = 6;
    auto tweak = [](engine::session_config& c) { c.soft_limit_margin = 2; };
    auto tx = make(s, direction::protect, {k}, engine::backend_kind::openssl, tweak);
    auto rx = make(s, direction::unprotect, {k}, engine::backend_kind::openssl, tweak);
    auto w = make_worker();
    std::vector<bytes> wire;
    for (uint16_t q = 0; q < 7; ++q) {
        rtp_spec spec;
        spec.seq = q;
        pkt_buf p(make_rtp(spec));
        const auto st = protect_one(*w, tx.get(), p);
        if (q < 6) {
            ASSERT_EQ(st, status::ok) << q;
            wire.push_back(p.contents());
        } else {
            EXPECT_EQ(st, status::key_expired);
        }
        EXPECT_EQ(engine::session_key_usage(*tx, 0).soft_limit, q >= 3) << q; // used + margin >= limit
    }
    EXPECT_TRUE(engine::session_key_usage(*tx, 0).expired);
    for (auto& b : wire) {
        pkt_buf p(b);
        EXPECT_EQ(unprotect_one(*w, rx.get(), p), status::ok);
    }
    EXPECT_TRUE(engine::session_key_usage(*rx, 0).expired);
}

TEST(burst, tailroom_direction_and_malformed_input) {
    std::mt19937 rng(9);
    const suite s = suite::aes_cm_128_hmac_sha1_80;
    const auto k = random_key(rng, s);
    auto tx = make(s, direction::protect, {k});
    auto rx = make(s, direction::unprotect, {k});
    auto w = make_worker();
    const auto plain = make_rtp({});
    pkt_buf small(plain, 9);
    EXPECT_EQ(protect_one(*w, tx.get(), small), status::no_tailroom);
    EXPECT_EQ(small.contents(), plain) << "a refused packet is untouched";
    pkt_buf p(plain);
    EXPECT_EQ(protect_one(*w, rx.get(), p), status::wrong_direction);
    EXPECT_EQ(unprotect_one(*w, tx.get(), p), status::wrong_direction);
    auto bad = plain;
    bad[0] = std::byte{0x40};
    pkt_buf b1(bad);
    EXPECT_EQ(protect_one(*w, tx.get(), b1), status::bad_version);
    bad = plain;
    bad[0] = std::byte{0x8f}; // 15 CSRCs do not fit in a 12-octet header + 160
    bad.resize(40);
    pkt_buf b2(bad);
    EXPECT_EQ(protect_one(*w, tx.get(), b2), status::bad_header);
    bad = plain;
    bad[0] |= std::byte{0x20};
    bad.back() = std::byte{200}; // padding count beyond the payload
    pkt_buf b3(bad);
    EXPECT_EQ(protect_one(*w, tx.get(), b3), status::bad_padding);
    pkt_buf tiny(bytes(plain.begin(), plain.begin() + 20));
    EXPECT_EQ(unprotect_one(*w, rx.get(), tiny), status::too_short); // header + tag do not fit
    EXPECT_EQ(engine::session_stream_count(*rx), 0u) << "no stream was created by bad packets";
    pkt_buf rtcp(make_rtcp(1), 3);
    EXPECT_EQ(protect_one(*w, tx.get(), rtcp, true), status::no_tailroom);
}

TEST(burst, forged_packets_of_a_new_ssrc_leave_no_stream) {
    std::mt19937 rng(13);
    const suite s = suite::aes_cm_128_hmac_sha1_32;
    const auto k = random_key(rng, s);
    auto tx = make(s, direction::protect, {k}, engine::backend_kind::openssl,
                   [](engine::session_config& c) { c.max_streams = 64; });
    auto tweak = [](engine::session_config& c) { c.max_streams = 2; };
    auto rx = make(s, direction::unprotect, {k}, engine::backend_kind::openssl, tweak);
    auto w = make_worker();
    for (uint32_t ssrc = 1; ssrc <= 50; ++ssrc) {
        rtp_spec spec;
        spec.ssrc = ssrc;
        pkt_buf p(make_rtp(spec));
        ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
        p.ref.data[20] ^= std::byte{1};
        EXPECT_EQ(unprotect_one(*w, rx.get(), p), status::auth_fail);
    }
    EXPECT_EQ(engine::session_stream_count(*rx), 0u);
    // Two genuine streams fit; the third SSRC is refused with a name.
    for (uint32_t ssrc = 100; ssrc < 103; ++ssrc) {
        rtp_spec spec;
        spec.ssrc = ssrc;
        pkt_buf p(make_rtp(spec));
        ASSERT_EQ(protect_one(*w, tx.get(), p), status::ok);
        EXPECT_EQ(unprotect_one(*w, rx.get(), p), ssrc < 102 ? status::ok : status::stream_limit);
    }
}

TEST(session, configuration_errors_are_precise) {
    std::mt19937 rng(1);
    auto base = [&] {
        engine::session_config c;
        c.s = suite::aes_cm_128_hmac_sha1_80;
        return c;
    };
    static bytes key = random_bytes(rng, 16), salt = random_bytes(rng, 14), m1{std::byte{1}}, m2{std::byte{2}};
    struct bad_case {
        const char* what;
        void (*mutate)(engine::session_config&);
        engine::errc code;
    };
    const bad_case cases[] = {
        {"no keys", [](engine::session_config&) {}, engine::errc::invalid_argument},
        {"unknown suite", [](engine::session_config& c) { c.keys.push_back({key, salt, {}}); c.s = static_cast<suite>(0x77); },
         engine::errc::unknown_suite},
        {"short key", [](engine::session_config& c) { c.keys.push_back({std::span{key}.first(15), salt, {}}); },
         engine::errc::bad_key_length},
        {"short salt", [](engine::session_config& c) { c.keys.push_back({key, std::span{salt}.first(12), {}}); },
         engine::errc::bad_key_length},
        {"window", [](engine::session_config& c) { c.keys.push_back({key, salt, {}}); c.replay_window = 32; },
         engine::errc::invalid_argument},
        {"kdr", [](engine::session_config& c) { c.keys.push_back({key, salt, {}}); c.kdr = 1 << 16; }, engine::errc::unsupported},
        {"two keys without MKI", [](engine::session_config& c) { c.keys.push_back({key, salt, {}}); c.keys.push_back({key, salt, {}}); },
         engine::errc::invalid_argument},
        {"same MKI twice", [](engine::session_config& c) { c.keys.push_back({key, salt, m1}); c.keys.push_back({key, salt, m1}); },
         engine::errc::invalid_argument},
        {"AEAD unauthenticated",
         [](engine::session_config& c) {
             c.s = suite::aead_aes_128_gcm;
             c.keys.push_back({key, std::span{salt}.first(12), {}});
             c.unauthenticated_srtp = true;
         },
         engine::errc::unsupported},
        {"cryptex and RFC 6904", [](engine::session_config& c) { c.keys.push_back({key, salt, {}}); c.cryptex = true; c.encrypted_extension_ids = {1}; },
         engine::errc::invalid_argument},
    };
    for (const auto& bc : cases) {
        auto c = base();
        bc.mutate(c);
        auto r = engine::make_session(c);
        ASSERT_FALSE(r) << bc.what;
        EXPECT_EQ(r.err().code, bc.code) << bc.what << ": " << r.err().message;
        EXPECT_FALSE(r.err().message.empty());
    }
    auto c = base();
    c.keys.push_back({key, salt, m1});
    c.keys.push_back({key, salt, m2});
    EXPECT_TRUE(engine::make_session(c));
}

} // namespace
