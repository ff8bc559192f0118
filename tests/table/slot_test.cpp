// Slots: install / read / update / retire / erase round trips (with zeroization), validation
// errors, header-extension records, and the point of it all — a pmd-side engine session built
// from a slot's derived keys interoperates with one built from the master key.

#include "table_test_util.hpp"

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>
#include <srtpo/table/mapping.hpp>
#include <srtpo/table/slot.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <functional>
#include <vector>

namespace srtpo::table {
namespace {

using test::shm_name;
namespace eng = srtpo::engine;

std::vector<std::byte> bytes(std::size_t n, uint8_t seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(seed + i * 7);
    return v;
}

/// An unprotect flow whose in leg carries keys derived from a master key, as srtpo-cp will do.
slot_data unprotect_slot(eng::suite s, std::span<const std::byte> mk, std::span<const std::byte> ms,
                         std::span<const uint8_t> mki) {
    const auto& t = eng::traits(s);
    slot_data d{};
    d.key.local = ip_address::v4(192, 0, 2, 1);
    d.key.port = 5004;
    d.key.proto = flow_proto::mux;
    d.state = slot_state::active;
    d.action = leg_action::unprotect;
    d.in_peer = {ip_address::v4(198, 51, 100, 7), 40000};
    d.out_peer = {ip_address::v4(10, 0, 0, 2), 6000};
    d.in.suite = static_cast<uint16_t>(s);
    d.in.replay_window = 128;
    d.in.initial_roc = 0;
    d.in.mki_len = static_cast<uint8_t>(mki.size());
    std::copy(mki.begin(), mki.end(), d.in.mki.begin());
    eng::session_keys k;
    EXPECT_TRUE(eng::derive_session_keys(t, mk, ms, false, k));
    store_keys(t, k, d.in.srtp);
    EXPECT_TRUE(eng::derive_session_keys(t, mk, ms, true, k));
    store_keys(t, k, d.in.srtcp);
    return d;
}

TEST(Slot, InstallReadUpdateEraseRoundTrip) {
    shm_name n("roundtrip");
    auto w = sessions_mapping::create(n, 64);
    ASSERT_TRUE(w);
    auto r = sessions_mapping::attach(n, {64});
    ASSERT_TRUE(r);

    const auto mk = bytes(32, 1), ms = bytes(14, 2);
    const std::array<uint8_t, 4> mki{0xde, 0xad, 0xbe, 0xef};
    slot_data d = unprotect_slot(eng::suite::aes_256_cm_hmac_sha1_80, mk, ms, mki);
    auto g1 = w->install(17, d);
    ASSERT_TRUE(g1) << g1.err().message;
    EXPECT_EQ(*g1, 1u);
    EXPECT_EQ(r->peek_generation(17), 1u);

    slot_data got;
    ASSERT_EQ(r->read(17, got), read_outcome::ok);
    d.generation = *g1;
    EXPECT_EQ(std::memcmp(&got, &d, sizeof d), 0);
    EXPECT_EQ(got.key, d.key);
    EXPECT_EQ(r->slot(17).seq, 2u); // one write section: 0 -> 1 -> 2

    // Update (a rekey): new keys, new generation, same slot.
    const auto mk2 = bytes(32, 9);
    slot_data d2 = unprotect_slot(eng::suite::aes_256_cm_hmac_sha1_80, mk2, ms, mki);
    d2.in.mki[3] = 0xf0;
    auto g2 = w->install(17, d2);
    ASSERT_TRUE(g2);
    EXPECT_EQ(*g2, 2u);
    ASSERT_EQ(r->read(17, got), read_outcome::ok);
    EXPECT_EQ(got.generation, 2u);
    EXPECT_EQ(got.in.srtp.k_e, d2.in.srtp.k_e);
    EXPECT_NE(got.in.srtp.k_e, d.in.srtp.k_e);
    EXPECT_EQ(got.in.mki[3], 0xf0);

    // Retire: state changes, the keys stay (in-flight packets still decrypt).
    auto g3 = w->retire(17);
    ASSERT_TRUE(g3);
    ASSERT_EQ(r->read(17, got), read_outcome::ok);
    EXPECT_EQ(got.state, slot_state::retiring);
    EXPECT_EQ(got.generation, *g3);
    EXPECT_EQ(got.in.srtp.k_e, d2.in.srtp.k_e);

    // Erase: every payload word but the generation is zero in shared memory.
    auto g4 = w->erase(17);
    ASSERT_TRUE(g4);
    EXPECT_EQ(*g4, 4u);
    const session_slot& raw = r->slot(17);
    EXPECT_EQ(raw.seq % 2, 0u);
    EXPECT_EQ(raw.words[0], *g4);
    for (std::size_t i = 1; i < slot_payload_words; ++i) EXPECT_EQ(raw.words[i], 0u) << "word " << i;
    ASSERT_EQ(r->read(17, got), read_outcome::ok);
    EXPECT_EQ(got.state, slot_state::empty);
    EXPECT_FALSE(w->retire(17)); // nothing to retire
    wipe(got);
    EXPECT_EQ(got.generation, 0u);

    // Neighbours were never touched.
    for (uint32_t id : {16u, 18u}) {
        EXPECT_EQ(r->slot(id).seq, 0u);
        EXPECT_EQ(r->peek_generation(id), 0u);
    }
}

TEST(Slot, WriterErrors) {
    shm_name n("errors");
    auto w = sessions_mapping::create(n, 8);
    ASSERT_TRUE(w);
    auto r = sessions_mapping::attach(n);
    ASSERT_TRUE(r);
    const slot_data d = test::pattern_slot(1);
    auto e1 = r->install(0, d);
    ASSERT_FALSE(e1);
    EXPECT_NE(e1.err().message.find("mapped read-only"), std::string::npos);
    EXPECT_FALSE(r->erase(0));
    auto e2 = w->install(8, d);
    ASSERT_FALSE(e2);
    EXPECT_NE(e2.err().message.find("slot id 8 is out of range (capacity 8)"), std::string::npos);
    slot_data bad = d;
    bad.action = leg_action::none;
    auto e3 = w->install(0, bad);
    ASSERT_FALSE(e3);
    EXPECT_NE(e3.err().message.find("action 0 is not a leg_action"), std::string::npos);
    EXPECT_EQ(r->peek_generation(0), 0u) << "a refused install wrote nothing";
    EXPECT_EQ(r->slot(0).seq, 0u);
    hdrext_record hx{};
    auto e4 = w->install(0, d, &hx);
    ASSERT_FALSE(e4);
    EXPECT_NE(e4.err().message.find("has none"), std::string::npos);
}

TEST(Slot, ReadBusyWhileWriteInProgressAndOutOfRange) {
    shm_name n("busy");
    auto w = sessions_mapping::create(n, 4);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->install(1, test::pattern_slot(1)));
    auto* s = reinterpret_cast<session_slot*>(w->file().data() + w->header().slots_offset) + 1;
    const uint64_t odd = seqlock_write_begin(s->seq);
    slot_data d;
    EXPECT_EQ(w->read(1, d, nullptr, 100), read_outcome::busy);
    seqlock_write_end(s->seq, odd);
    EXPECT_EQ(w->read(1, d, nullptr, 1), read_outcome::ok);
    EXPECT_TRUE(test::is_pattern(d));
    EXPECT_EQ(w->read(4, d), read_outcome::out_of_range);
}

// Each invalid slot is refused with a message that names what is wrong.
TEST(Slot, Validation) {
    struct bad_case {
        const char* needle;
        std::function<void(slot_data&)> mutate;
    };
    const std::vector<bad_case> cases{
        {"state is empty", [](slot_data& d) { d.state = slot_state::empty; }},
        {"state 9 is not a slot_state", [](slot_data& d) { d.state = static_cast<slot_state>(9); }},
        {"action 6 is not a leg_action", [](slot_data& d) { d.action = static_cast<leg_action>(6); }},
        {"key.proto 0 is not rtp", [](slot_data& d) { d.key.proto = flow_proto::none; }},
        {"key.port is 0", [](slot_data& d) { d.key.port = 0; }},
        {"reserved bytes", [](slot_data& d) { d.key.reserved = 1; }},
        {"out_peer has an address but port 0", [](slot_data& d) { d.out_peer.port = 0; }},
        {"in.suite 0x1234 is not a known SRTP suite", [](slot_data& d) { d.in.suite = 0x1234; }},
        {"in.suite is 0 but action transcrypt needs keys", [](slot_data& d) { d.in = {}; }},
        {"out.suite is 0x0003 but action unprotect does not use the out leg",
         [](slot_data& d) {
             d.action = leg_action::unprotect;
             d.out.suite = 3;
         }},
        {"out leg is unused by action unprotect and must be all zero",
         [](slot_data& d) {
             d.action = leg_action::unprotect;
             d.out.suite = 0;
         }},
        {"in.replay_window 32 is outside 64..32768", [](slot_data& d) { d.in.replay_window = 32; }},
        {"out.replay_window must be 0", [](slot_data& d) { d.out.replay_window = 64; }},
        {"in.lifetime 281474976710657 exceeds", [](slot_data& d) { d.in.lifetime = (uint64_t{1} << 48) + 1; }},
        {"out.initial_srtcp_index 2147483648 does not fit", [](slot_data& d) { d.out.initial_srtcp_index = 0x80000000u; }},
        {"in.initial_srtcp_index must be 0", [](slot_data& d) { d.in.initial_srtcp_index = 1; }},
        {"in.mki_len 17 exceeds 16", [](slot_data& d) { d.in.mki_len = 17; }},
        {"in.mki has non-zero bytes beyond mki_len",
         [](slot_data& d) {
             d.in.mki_len = 2;
             d.in.mki[5] = 1;
         }},
        {"in.flags has unknown bits 0x0080", [](slot_data& d) { d.in.flags = 0x80; }},
        {"header-extension records", [](slot_data& d) { d.out.flags = leg_flag::header_ext; }},
        {"in.reserved is not zero", [](slot_data& d) { d.in.reserved[0] = 1; }},
        {"in.srtp.k_e has non-zero bytes beyond the 16 octets of AES_CM_128_HMAC_SHA1_80",
         [](slot_data& d) { d.in.suite = static_cast<uint16_t>(eng::suite::aes_cm_128_hmac_sha1_80); }},
        {"out.srtcp.k_a has non-zero bytes beyond the 0 octets of AEAD_AES_256_GCM",
         [](slot_data& d) {
             d.out.suite = static_cast<uint16_t>(eng::suite::aead_aes_256_gcm);
             d.out.srtp.k_a = {};
             d.out.srtp.k_s[12] = d.out.srtp.k_s[13] = std::byte{0};
         }},
        {"unauthenticated SRTP is not possible with AEAD",
         [](slot_data& d) {
             d.in.suite = static_cast<uint16_t>(eng::suite::aead_aes_128_gcm);
             d.in.flags = leg_flag::unauthenticated_srtp;
         }},
    };
    const slot_data good = test::pattern_slot(2);
    ASSERT_TRUE(validate(good, false)) << validate(good, false).err().message;
    for (const auto& c : cases) {
        slot_data d = good;
        c.mutate(d);
        auto r = validate(d, false);
        ASSERT_FALSE(r) << "accepted, expected: " << c.needle;
        EXPECT_EQ(r.err().code, errc::invalid_argument);
        EXPECT_NE(r.err().message.find(c.needle), std::string::npos)
            << "message '" << r.err().message << "' lacks '" << c.needle << "'";
    }
}

TEST(Slot, EveryActionHasAValidShape) {
    slot_data d{};
    d.state = slot_state::active;
    d.key.port = 5004;
    d.key.proto = flow_proto::rtp;
    const auto keyed = test::pattern_slot(2).in;
    leg_crypto out = test::pattern_slot(2).out;
    for (auto a : {leg_action::protect, leg_action::unprotect, leg_action::transcrypt, leg_action::auth_only,
                   leg_action::tap}) {
        d.action = a;
        d.in = in_leg_keyed(a) ? keyed : leg_crypto{};
        d.out = out_leg_keyed(a) ? out : leg_crypto{};
        auto r = validate(d, false);
        EXPECT_TRUE(r) << to_string(a) << ": " << r.err().message;
    }
}

TEST(Slot, HeaderExtensionRecordRoundTripAndZeroization) {
    shm_name n("hdrext");
    sessions_options o;
    o.capacity = 8;
    o.header_ext_keys = true;
    auto w = sessions_mapping::create(n, o);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_TRUE(w->has_header_ext_keys());
    auto r = sessions_mapping::attach(n);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header().hdrext_size, 160u);
    EXPECT_EQ(r->header().hdrext_offset, layout_of(8, default_doorbell_size, true).hdrext_offset);

    const auto mk = bytes(16, 3), ms = bytes(14, 4);
    const auto& t = eng::traits(eng::suite::aes_cm_128_hmac_sha1_80);
    slot_data d = unprotect_slot(eng::suite::aes_cm_128_hmac_sha1_80, mk, ms, {});
    d.in.flags = leg_flag::header_ext;
    eng::session_keys k;
    ASSERT_TRUE(eng::derive_session_keys(t, mk, ms, false, k));
    hdrext_record hx{};
    store_header_keys(t, k, hx.in);
    hx.in.set_encrypted(3);
    ASSERT_TRUE(w->install(2, d, &hx));

    slot_data got;
    hdrext_record hgot;
    ASSERT_EQ(r->read(2, got, &hgot), read_outcome::ok);
    EXPECT_EQ(std::memcmp(&hgot, &hx, sizeof hx), 0);
    eng::session_keys back;
    load_header_keys(hgot.in, back);
    EXPECT_EQ(std::memcmp(back.k_he.data(), k.k_he.data(), 16), 0);
    EXPECT_EQ(std::memcmp(back.k_hs.data(), k.k_hs.data(), 14), 0);
    EXPECT_TRUE(hgot.in.encrypted(3));

    // Reinstalling without a record clears the old one: no stale RFC 6904 key survives.
    d.in.flags = 0;
    ASSERT_TRUE(w->install(2, d));
    ASSERT_EQ(r->read(2, got, &hgot), read_outcome::ok);
    hdrext_record zero{};
    EXPECT_EQ(std::memcmp(&hgot, &zero, sizeof zero), 0);

    ASSERT_TRUE(w->install(2, d, &hx));
    ASSERT_TRUE(w->erase(2));
    const auto* rec = reinterpret_cast<const hdrext_slot*>(r->file().data() + r->header().hdrext_offset) + 2;
    for (auto word : rec->words) EXPECT_EQ(word, 0u);
}

TEST(Slot, KeyPackingUsesOnlyTheSuiteLengths) {
    const auto& t = eng::traits(eng::suite::aead_aes_128_gcm);
    eng::session_keys k;
    k.k_e.fill(std::byte{0xaa});
    k.k_a.fill(std::byte{0xbb});
    k.k_s.fill(std::byte{0xcc});
    key_material m;
    store_keys(t, k, m);
    for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(m.k_e[i], i < 16 ? std::byte{0xaa} : std::byte{0}) << i;
    for (auto b : m.k_a) EXPECT_EQ(b, std::byte{0});
    for (std::size_t i = 0; i < 14; ++i) EXPECT_EQ(m.k_s[i], i < 12 ? std::byte{0xcc} : std::byte{0}) << i;
}

// What the pmd will do: build an unprotect session from a slot's derived keys (no master key),
// and check it opens what a session keyed with the master key protected.
TEST(Slot, EngineSessionFromSlotKeysInteroperates) {
    shm_name n("engine");
    auto w = sessions_mapping::create(n, 4);
    ASSERT_TRUE(w);
    auto r = sessions_mapping::attach(n);
    ASSERT_TRUE(r);

    for (auto s : {eng::suite::aes_cm_128_hmac_sha1_80, eng::suite::aes_256_cm_hmac_sha1_32, eng::suite::aead_aes_128_gcm,
                   eng::suite::aead_aes_256_gcm}) {
        const auto& t = eng::traits(s);
        SCOPED_TRACE(std::string(t.name));
        const auto mk = bytes(t.master_key_len, 5), ms = bytes(t.master_salt_len, 6);
        const std::array<uint8_t, 2> mki{0x01, 0x02};
        ASSERT_TRUE(w->install(1, unprotect_slot(s, mk, ms, mki)));

        slot_data d;
        ASSERT_EQ(r->read(1, d), read_outcome::ok);
        ASSERT_TRUE(validate(d, r->has_header_ext_keys()));
        eng::session_keys srtp, srtcp;
        load_keys(d.in.srtp, srtp);
        load_keys(d.in.srtcp, srtcp);
        const std::span<const std::byte> mki_bytes(reinterpret_cast<const std::byte*>(d.in.mki.data()), d.in.mki_len);

        eng::session_config rx;
        rx.s = static_cast<eng::suite>(d.in.suite);
        rx.dir = eng::direction::unprotect;
        rx.replay_window = d.in.replay_window;
        rx.keys.push_back({{}, {}, mki_bytes, d.in.lifetime, &srtp, &srtcp});
        auto rx_s = eng::make_session(rx);
        ASSERT_TRUE(rx_s) << rx_s.err().message;
        wipe(d);

        eng::session_config tx;
        tx.s = s;
        tx.dir = eng::direction::protect;
        const auto mki_tx = std::as_bytes(std::span(mki));
        tx.keys.push_back({mk, ms, mki_tx});
        auto tx_s = eng::make_session(tx);
        ASSERT_TRUE(tx_s) << tx_s.err().message;

        auto ctx = eng::worker_ctx::create();
        ASSERT_TRUE(ctx);
        std::array<std::byte, 128> pkt{};
        const uint8_t hdr[12] = {0x80, 0x60, 0x12, 0x34, 0, 0, 0, 1, 0xca, 0xfe, 0xba, 0xbe};
        std::memcpy(pkt.data(), hdr, 12);
        for (int i = 0; i < 40; ++i) pkt[12 + i] = static_cast<std::byte>(i);
        const auto plain = pkt;
        eng::op o{tx_s->get(), {pkt.data(), 52, static_cast<uint16_t>(pkt.size())}, eng::status::ok};
        ASSERT_EQ(eng::protect_rtp(**ctx, std::span(&o, 1)), 1u) << to_string(o.st);
        EXPECT_GT(o.pkt.len, 52);
        o.session = rx_s->get();
        o.st = eng::status::ok;
        ASSERT_EQ(eng::unprotect_rtp(**ctx, std::span(&o, 1)), 1u) << to_string(o.st);
        EXPECT_EQ(o.pkt.len, 52);
        EXPECT_EQ(std::memcmp(pkt.data(), plain.data(), 52), 0);
    }
}

} // namespace
} // namespace srtpo::table
