// srtpo-cp's registry over a real shared-memory table: slot images carry the derived keys
// (checked against the engine's KDF), requests are all-or-nothing, the table-full and duplicate
// refusals, rekey keeps the slot and says whether it is make-before-break, delete zeroizes, and a
// restarted registry recovers every flow from the table.
#include "flow_registry.hpp"
#include "slot_image.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>

#include <srtpo/engine/kdf.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>

using namespace srtpo;
using namespace srtpo::cp;
using nlohmann::json;

namespace {

std::string unique_name() {
    static std::atomic<int> n{0};
    return "srtpo-cp-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

struct table_fixture : ::testing::Test {
    std::string name = unique_name();
    std::optional<table::sessions_mapping> t;
    void SetUp() override {
        auto m = table::sessions_mapping::create(name, 8);
        ASSERT_TRUE(m) << m.err().message;
        t = std::move(m.value());
    }
    void TearDown() override {
        t.reset();
        (void)table::unlink_shm(name);
    }
};

std::string key_b64(int seed, std::size_t n) {
    std::string raw(n, '\0');
    for (std::size_t i = 0; i < n; ++i) raw[i] = static_cast<char>(seed * 31 + static_cast<int>(i));
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < n; i += 3) {
        const unsigned v = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8) | uint8_t(raw[i + 2]);
        for (int k = 3; k >= 0; --k) out += a[(v >> (6 * k)) & 63];
    }
    if (n - i == 1) {
        const unsigned v = uint8_t(raw[i]) << 16;
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += "==";
    } else if (n - i == 2) {
        const unsigned v = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8);
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += a[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

api::flow_spec flow(int port, int seed = 1, const char* mki = nullptr) {
    std::string k = "inline:" + key_b64(seed, 30);
    if (mki) k += std::string("|") + mki;
    json j{{"match", "192.0.2.1:" + std::to_string(port)},
           {"in", {{"suite", "AES_CM_128_HMAC_SHA1_80"}, {"key", k}}},
           {"out", {{"suite", "AEAD_AES_256_GCM"}, {"key", key_b64(seed + 100, 44)}}},
           {"send_to", "198.51.100.9:7000"}};
    auto f = api::parse_flow(j, "flow");
    EXPECT_TRUE(f) << f.err().message;
    return std::move(f.value());
}

/// A refused request left the table as it was: one flow, and no other slot ever written.
void expect_only_one_flow_written(const table::sessions_mapping& t, const flow_registry& reg) {
    EXPECT_EQ(reg.size(), 1u);
    const auto kept = reg.list().at(0).slot;
    for (uint32_t i = 0; i < t.capacity(); ++i)
        if (i != kept) {
            EXPECT_EQ(t.peek_generation(i), 0u) << "slot " << i << " was written";
        }
}

table::slot_data read_slot(const table::sessions_mapping& t, uint32_t id) {
    table::slot_data d{};
    EXPECT_EQ(t.read(id, d), table::read_outcome::ok);
    return d;
}

} // namespace

TEST_F(table_fixture, SlotCarriesDerivedKeysNotMasterKeys) {
    flow_registry reg(*t, 1500);
    auto f = flow(5004);
    auto r = reg.add({flow(5004)});
    ASSERT_TRUE(r) << r.err().message;
    const auto d = read_slot(*t, (*r)[0].slot);
    EXPECT_EQ(d.action, table::leg_action::transcrypt);
    EXPECT_EQ(d.key.proto, table::flow_proto::rtp);
    EXPECT_EQ(d.key.port, 5004);
    EXPECT_EQ(d.in.replay_window, 128);
    EXPECT_EQ(d.rekey_grace_ms, 1500);
    // The RFC 3711 §4.3 session keys, as the engine derives them.
    const auto& t80 = engine::traits(engine::suite::aes_cm_128_hmac_sha1_80);
    const auto ks = f.in->key_salt.bytes();
    engine::session_keys sk;
    ASSERT_TRUE(engine::derive_session_keys(t80, ks.first(16), ks.subspan(16, 14), false, sk));
    EXPECT_TRUE(std::equal(sk.k_e.begin(), sk.k_e.begin() + 16, d.in.srtp.k_e.begin()));
    EXPECT_TRUE(std::equal(sk.k_a.begin(), sk.k_a.end(), d.in.srtp.k_a.begin()));
    ASSERT_TRUE(engine::derive_session_keys(t80, ks.first(16), ks.subspan(16, 14), true, sk));
    EXPECT_TRUE(std::equal(sk.k_s.begin(), sk.k_s.begin() + 14, d.in.srtcp.k_s.begin()));
    // The master key itself is nowhere in the slot's bytes.
    const auto* raw = reinterpret_cast<const std::byte*>(&t->slot((*r)[0].slot));
    EXPECT_EQ(std::search(raw, raw + sizeof(table::session_slot), ks.begin(), ks.begin() + 16), raw + sizeof(table::session_slot));
}

TEST_F(table_fixture, BatchIsAllOrNothing) {
    flow_registry reg(*t, 0);
    ASSERT_TRUE(reg.add({flow(6000)}));
    // A duplicate inside the batch, against the table, and a bad flow: nothing is written.
    std::vector<api::flow_spec> dup_inside;
    dup_inside.push_back(flow(5000));
    dup_inside.push_back(flow(5000));
    auto e = reg.add(std::move(dup_inside));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().code, api::api_errc::duplicate);
    EXPECT_EQ(e.err().field, "flows[1].match");
    std::vector<api::flow_spec> dup_table;
    dup_table.push_back(flow(5002));
    dup_table.push_back(flow(6000));
    e = reg.add(std::move(dup_table));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().code, api::api_errc::duplicate);
    expect_only_one_flow_written(*t, reg);
}

TEST_F(table_fixture, TableFullRefusesTheWholeBatch) {
    flow_registry reg(*t, 0);
    std::vector<api::flow_spec> six;
    for (int i = 0; i < 6; ++i) six.push_back(flow(7000 + 2 * i, i));
    ASSERT_TRUE(reg.add(std::move(six)));
    std::vector<api::flow_spec> three;
    for (int i = 0; i < 3; ++i) three.push_back(flow(8000 + 2 * i, i));
    auto e = reg.add(std::move(three));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().code, api::api_errc::table_full);
    EXPECT_NE(e.err().message.find("6 of 8"), std::string::npos) << e.err().message;
    EXPECT_EQ(reg.size(), 6u);
    std::vector<api::flow_spec> two;
    for (int i = 0; i < 2; ++i) two.push_back(flow(9000 + 2 * i, i));
    EXPECT_TRUE(reg.add(std::move(two)));
    EXPECT_EQ(reg.size(), 8u);
}

TEST_F(table_fixture, RekeyKeepsSlotAndTellsMakeBeforeBreak) {
    flow_registry reg(*t, 2000);
    auto a = reg.add({flow(5004, 1, "1:4")});
    ASSERT_TRUE(a);
    const auto before = read_slot(*t, (*a)[0].slot);
    bool mbb = false;
    rekey_request r;
    r.match = (*a)[0].match;
    r.in = flow(5004, 2, "2:4").in;
    auto v = reg.rekey(std::move(r), mbb);
    ASSERT_TRUE(v) << v.err().message;
    EXPECT_TRUE(mbb);
    EXPECT_EQ(v->slot, (*a)[0].slot);
    EXPECT_GT(v->generation, (*a)[0].generation);
    const auto after = read_slot(*t, v->slot);
    EXPECT_EQ(after.rekey_grace_ms, 2000);
    EXPECT_EQ(after.in.mki[3], 2);
    EXPECT_NE(0, std::memcmp(after.in.srtp.k_e.data(), before.in.srtp.k_e.data(), 16));
    EXPECT_EQ(0, std::memcmp(after.out.srtp.k_e.data(), before.out.srtp.k_e.data(), 32)) << "out leg kept its key";
    // Same MKI (or none): an immediate switch, and the slot says so with grace 0.
    rekey_request same;
    same.match = r.match;
    same.in = flow(5004, 3, "2:4").in;
    ASSERT_TRUE(reg.rekey(std::move(same), mbb));
    EXPECT_FALSE(mbb);
    EXPECT_EQ(read_slot(*t, v->slot).rekey_grace_ms, 0);
    rekey_request missing;
    missing.match = api::parse_endpoint("192.0.2.1:9", "m").value();
    missing.in = flow(9).in;
    EXPECT_EQ(reg.rekey(std::move(missing), mbb).err().code, api::api_errc::not_found);
}

TEST_F(table_fixture, UpdateKeepsKeysWhenNoneGiven) {
    flow_registry reg(*t, 0);
    auto a = reg.add({flow(5004)});
    ASSERT_TRUE(a);
    const auto before = read_slot(*t, (*a)[0].slot);
    auto f = flow(5004);
    f.in->key_salt.clear();
    f.out->key_salt.clear();
    f.send_to = api::parse_endpoint("198.51.100.10:7002", "x").value();
    auto u = reg.update(std::move(f));
    ASSERT_TRUE(u) << u.err().message;
    const auto after = read_slot(*t, (*a)[0].slot);
    EXPECT_EQ(after.out_peer.port, 7002);
    EXPECT_EQ(0, std::memcmp(&after.in, &before.in, sizeof after.in));
    EXPECT_EQ(0, std::memcmp(&after.out, &before.out, sizeof after.out));
    EXPECT_FALSE(u->spec.in->key_salt.empty()) << "srtpo-cp still holds the master key";
}

TEST_F(table_fixture, DeleteZeroizesAndRecoverRebuilds) {
    std::vector<uint32_t> slots;
    {
        flow_registry reg(*t, 0);
        std::vector<api::flow_spec> v;
        for (int i = 0; i < 4; ++i) v.push_back(flow(5000 + 2 * i, i));
        auto a = reg.add(std::move(v));
        ASSERT_TRUE(a);
        ASSERT_TRUE(reg.remove(api::parse_endpoint("192.0.2.1:5002", "m").value()));
        EXPECT_EQ(reg.remove(api::parse_endpoint("192.0.2.1:5002", "m").value()).err().code, api::api_errc::not_found);
        const auto& s = t->slot((*a)[1].slot);
        EXPECT_NE(s.words[0], 0u) << "a deleted slot keeps a fresh generation";
        for (std::size_t i = 1; i < table::slot_payload_words; ++i) EXPECT_EQ(s.words[i], 0u) << "word " << i;
    }
    // A new registry (srtpo-cp restarted) sees the three remaining flows, without master keys.
    flow_registry again(*t, 0);
    EXPECT_EQ(again.recover(), 3u);
    auto g = again.get(api::parse_endpoint("192.0.2.1:5004", "m").value());
    ASSERT_TRUE(g);
    EXPECT_EQ(g->spec.in->suite, engine::suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(g->spec.out->suite, engine::suite::aead_aes_256_gcm);
    EXPECT_TRUE(g->spec.in->key_salt.empty());
    EXPECT_EQ(api::to_string(*g->spec.send_to), "198.51.100.9:7000");
    EXPECT_FALSE(again.get(api::parse_endpoint("192.0.2.1:5002", "m").value()));
    // Recovered flows stay usable: an update without keys keeps the table's derived keys.
    auto f = flow(5004);
    f.in->key_salt.clear();
    f.out->key_salt.clear();
    EXPECT_TRUE(again.update(std::move(f)));
    // And a new flow takes a free slot, not a used one.
    auto n = again.add({flow(5100)});
    ASSERT_TRUE(n);
    EXPECT_EQ(again.size(), 4u);
}

TEST_F(table_fixture, DuplicateReportedIsTheFirstInRequestOrder) {
    flow_registry reg(*t, 0);
    ASSERT_TRUE(reg.add({flow(6000)}));
    const auto batch = [](std::initializer_list<int> ports) {
        std::vector<api::flow_spec> v;
        for (int p : ports) v.push_back(flow(p));
        return v;
    };
    // A repeat inside the batch: the later occurrence is the one reported.
    auto e = reg.add(batch({5000, 5002, 5004, 5002, 5000}));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().field, "flows[3].match");
    EXPECT_EQ(e.err().message, "192.0.2.1:5002 is already a flow");
    // A flow of the table before a repeat: the earlier problem wins.
    e = reg.add(batch({5000, 6000, 5000}));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().field, "flows[1].match");
    EXPECT_EQ(e.err().message, "192.0.2.1:6000 is already a flow");
    // A repeat before a flow of the table.
    e = reg.add(batch({5000, 5000, 6000}));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().field, "flows[1].match");
    expect_only_one_flow_written(*t, reg);
}

TEST_F(table_fixture, ChurnKeepsEveryFlowFindable) {
    // Adds and deletes in varying order over the 8-slot table: the flat index (ADR 0016) must keep
    // get(), list() and size() consistent with what was added and not deleted.
    flow_registry reg(*t, 0);
    std::vector<int> live;
    for (int round = 0; round < 40; ++round) {
        const int port = 5000 + 2 * ((round * 7) % 23);
        const auto m = api::parse_endpoint("192.0.2.1:" + std::to_string(port), "m").value();
        const bool present = std::find(live.begin(), live.end(), port) != live.end();
        if (present) {
            ASSERT_TRUE(reg.remove(m));
            live.erase(std::find(live.begin(), live.end(), port));
        } else if (live.size() < t->capacity()) {
            ASSERT_TRUE(reg.add({flow(port)}));
            live.push_back(port);
        } else {
            EXPECT_EQ(reg.add({flow(port)}).err().code, api::api_errc::table_full);
        }
        ASSERT_EQ(reg.size(), live.size());
        for (int p : live) ASSERT_TRUE(reg.get(api::parse_endpoint("192.0.2.1:" + std::to_string(p), "m").value())) << p;
        const auto l = reg.list();
        ASSERT_EQ(l.size(), live.size());
        for (std::size_t i = 1; i < l.size(); ++i) EXPECT_LT(l[i - 1].slot, l[i].slot) << "list() is in slot order";
    }
}
