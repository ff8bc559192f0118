// build_slot_flow: a session-table slot becomes the pmd's action, sessions and rewrite endpoints;
// make-before-break carries the previous in key only under MKIs it can tell apart (RFC 3711 §3.3).

#include "slot_flow.hpp"

#include <srtpo/engine/kdf.hpp>

#include <gtest/gtest.h>

using namespace srtpo;
using namespace srtpo::pmd;

namespace {

constexpr auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
constexpr auto gcm = engine::suite::aead_aes_128_gcm;

table::leg_crypto leg(engine::suite s, uint8_t fill, uint8_t mki_len = 0, uint8_t mki = 0) {
    const auto& t = engine::traits(s);
    std::vector<std::byte> k(t.master_key_len + t.master_salt_len, std::byte{fill});
    engine::session_keys a, b;
    EXPECT_TRUE(engine::derive_session_keys(t, {k.data(), t.master_key_len}, {k.data() + t.master_key_len, t.master_salt_len}, false, a));
    EXPECT_TRUE(engine::derive_session_keys(t, {k.data(), t.master_key_len}, {k.data() + t.master_key_len, t.master_salt_len}, true, b));
    table::leg_crypto l;
    l.suite = static_cast<uint16_t>(s);
    l.replay_window = 128;
    table::store_keys(t, a, l.srtp);
    table::store_keys(t, b, l.srtcp);
    l.mki_len = mki_len;
    for (uint8_t i = 0; i < mki_len; ++i) l.mki[i] = static_cast<uint8_t>(mki + i);
    return l;
}

table::slot_data unprotect_slot(const table::leg_crypto& in) {
    table::slot_data d;
    d.key.local = table::ip_address::v4(192, 0, 2, 9);
    d.key.port = 5006;
    d.key.proto = table::flow_proto::rtp;
    d.state = table::slot_state::active;
    d.action = table::leg_action::unprotect;
    d.in = in;
    return d;
}

TEST(slot_flow, actions_sessions_and_key) {
    auto d = unprotect_slot(leg(cm80, 1));
    auto f = build_slot_flow(d, nullptr);
    ASSERT_TRUE(f) << f.err().message;
    EXPECT_EQ(f->act, action::unprotect);
    ASSERT_TRUE(f->in);
    EXPECT_FALSE(f->out);
    EXPECT_EQ(engine::session_direction(*f->in), engine::direction::unprotect);
    EXPECT_EQ(f->key.port, 5006);
    EXPECT_EQ(f->key.family, static_cast<uint8_t>(net::ip_family::ipv4));
    EXPECT_EQ(std::to_integer<int>(f->key.addr[0]), 192);
    EXPECT_EQ(std::to_integer<int>(f->key.addr[3]), 9);
    EXPECT_FALSE(f->send_from);

    d.action = table::leg_action::transcrypt;
    d.out = leg(gcm, 2);
    d.out.replay_window = 0;
    d.out_peer.addr = table::ip_address::v4(198, 51, 100, 7);
    d.out_peer.port = 7000;
    f = build_slot_flow(d, nullptr);
    ASSERT_TRUE(f) << f.err().message;
    EXPECT_EQ(f->act, action::transcrypt);
    ASSERT_TRUE(f->out);
    EXPECT_EQ(engine::session_suite(*f->out).id, gcm);
    ASSERT_TRUE(f->send_to);
    EXPECT_EQ(f->send_to->port, 7000);

    d.out_peer.addr = table::ip_address::v6({0x20, 0x01, 0x0d, 0xb8});
    f = build_slot_flow(d, nullptr);
    ASSERT_FALSE(f);
    EXPECT_NE(f.err().message.find("address family"), std::string::npos);
}

TEST(slot_flow, make_before_break_needs_distinct_mkis_of_one_length) {
    const auto prev = leg(cm80, 1, 1, 1);
    struct ex {
        table::leg_crypto now;
        bool two;
        const char* why;
    } cases[] = {
        {leg(cm80, 2, 1, 2), true, "MKI 1 -> 2"},
        {leg(cm80, 2, 0), false, "no MKI on the new key"},
        {leg(cm80, 2, 2, 2), false, "MKI lengths differ"},
        {leg(cm80, 2, 1, 1), false, "same MKI: the packets cannot say which key"},
        {leg(engine::suite::aes_cm_128_hmac_sha1_32, 2, 1, 2), false, "suite changed"},
    };
    for (const auto& c : cases) {
        slot_build_options o;
        o.previous_in = &prev;
        auto f = build_slot_flow(unprotect_slot(c.now), nullptr, o);
        ASSERT_TRUE(f) << c.why << ": " << f.err().message;
        EXPECT_EQ(f->two_in_keys, c.two) << c.why;
        EXPECT_EQ(engine::session_key_count(*f->in), c.two ? 2u : 1u) << c.why;
    }
}

TEST(slot_flow, same_leg_compares_keys) {
    EXPECT_TRUE(same_leg(leg(cm80, 1), leg(cm80, 1)));
    EXPECT_FALSE(same_leg(leg(cm80, 1), leg(cm80, 2)));
    EXPECT_FALSE(same_leg(leg(cm80, 1, 1, 1), leg(cm80, 1, 1, 2)));
}

} // namespace
