// Doorbell: SPSC order across wrap-around, overflow -> resync epoch, the resync handshake,
// connecting a consumer to a new table instance, and robustness against bad indices and ids.

#include "table_test_util.hpp"

#include <srtpo/table/doorbell.hpp>
#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace srtpo::table {
namespace {

using test::shm_name;

struct pair_fixture : ::testing::Test {
    shm_name sn{"db-sessions"};
    shm_name stn{"db-status"};
    sessions_mapping w;        // srtpo-cp: writes sessions
    status_mapping st_ro;      // srtpo-cp's read-only view of status
    status_mapping pmd_st;     // pmd: writes status
    sessions_mapping pmd_ro;   // pmd: read-only view of sessions
    doorbell_consumer c;

    void open(uint32_t capacity, uint32_t ring) {
        sessions_options o;
        o.capacity = capacity;
        o.doorbell_size = ring;
        auto a = sessions_mapping::create(sn, o);
        ASSERT_TRUE(a) << a.err().message;
        w = std::move(*a);
        auto b = status_mapping::create(stn, capacity);
        ASSERT_TRUE(b);
        pmd_st = std::move(*b);
        auto cc = status_mapping::attach(stn);
        ASSERT_TRUE(cc);
        st_ro = std::move(*cc);
        auto d = sessions_mapping::attach(sn);
        ASSERT_TRUE(d);
        pmd_ro = std::move(*d);
        auto e = pmd_ro.make_consumer(pmd_st);
        ASSERT_TRUE(e) << e.err().message;
        c = *e;
        // A fresh consumer always starts with a rescan.
        uint64_t epoch;
        ASSERT_TRUE(c.resync_needed(epoch));
        c.end_resync(c.begin_resync());
        ASSERT_FALSE(c.resync_needed(epoch));
        w.connect_consumer(st_ro);
    }
    std::vector<uint32_t> drain() {
        std::vector<uint32_t> out;
        std::array<uint32_t, 7> buf; // small on purpose: several polls per drain
        for (;;) {
            bool overrun = false;
            const auto k = c.poll(buf, overrun);
            EXPECT_FALSE(overrun);
            if (k == 0) break;
            out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
        }
        return out;
    }
};

TEST_F(pair_fixture, InstallsRingInOrderAcrossWrapAround) {
    open(64, 16);
    uint32_t next = 0;
    for (int round = 0; round < 10; ++round) { // 10 x 12 ids through a 16-entry ring
        std::vector<uint32_t> want;
        for (int i = 0; i < 12; ++i) {
            const uint32_t id = next++ % 64;
            ASSERT_TRUE(w.install(id, test::pattern_slot(w.header().next_generation + 1)));
            want.push_back(id);
        }
        EXPECT_EQ(w.producer().pending(), 12u);
        EXPECT_EQ(drain(), want);
    }
    uint64_t epoch;
    EXPECT_FALSE(c.resync_needed(epoch)) << "no overflow happened";
    EXPECT_EQ(w.producer().pending(), 0u);
    ASSERT_TRUE(w.erase(5));
    EXPECT_EQ(drain(), std::vector<uint32_t>{5});
}

TEST_F(pair_fixture, OverflowSetsResyncAndRescanClearsIt) {
    open(64, 16);
    const uint64_t e0 = w.resync_epoch();
    for (uint32_t id = 0; id < 16; ++id) ASSERT_TRUE(w.producer().pending() == id && w.install(id, test::pattern_slot(id + 1)));
    EXPECT_EQ(w.resync_epoch(), e0) << "16 fit in a 16-entry ring";
    ASSERT_TRUE(w.install(16, test::pattern_slot(17))); // the 17th overflows: not an error
    ASSERT_TRUE(w.install(17, test::pattern_slot(18)));
    EXPECT_EQ(w.resync_epoch(), e0 + 2);

    uint64_t epoch;
    ASSERT_TRUE(c.resync_needed(epoch));
    EXPECT_EQ(epoch, e0 + 2);
    // The pmd's resync: note the epoch, drop the queue, compare every generation, acknowledge.
    const uint64_t seen = c.begin_resync();
    EXPECT_EQ(drain(), std::vector<uint32_t>{}) << "begin_resync drops queued ids";
    std::vector<uint32_t> changed;
    for (uint32_t id = 0; id < pmd_ro.capacity(); ++id)
        if (pmd_ro.peek_generation(id) != 0) changed.push_back(id);
    EXPECT_EQ(changed.size(), 18u) << "the rescan finds the ids the ring could not hold";
    // An overflow while the rescan runs must trigger another one.
    for (uint32_t id = 0; id < 17; ++id) ASSERT_TRUE(w.install(20 + id, test::pattern_slot(w.header().next_generation + 1)));
    c.end_resync(seen);
    ASSERT_TRUE(c.resync_needed(epoch));
    c.end_resync(c.begin_resync());
    EXPECT_FALSE(c.resync_needed(epoch));
    // And the ring works again afterwards.
    ASSERT_TRUE(w.install(63, test::pattern_slot(w.header().next_generation + 1)));
    EXPECT_EQ(drain(), std::vector<uint32_t>{63});
}

TEST_F(pair_fixture, WithoutConsumerEveryChangeAsksForResync) {
    open(8, 16);
    w.disconnect_consumer();
    const uint64_t e0 = w.resync_epoch();
    ASSERT_TRUE(w.install(1, test::pattern_slot(1)));
    EXPECT_EQ(w.resync_epoch(), e0 + 1);
    EXPECT_EQ(drain(), std::vector<uint32_t>{});
    uint64_t epoch;
    EXPECT_TRUE(c.resync_needed(epoch));
}

TEST_F(pair_fixture, NewTableInstanceForcesRescan) {
    open(8, 16);
    ASSERT_TRUE(w.install(1, test::pattern_slot(1)));
    EXPECT_EQ(drain(), std::vector<uint32_t>{1});
    // srtpo-cp recreates its table: same name, new instance, producer back at 0.
    w = sessions_mapping{};
    pmd_ro = sessions_mapping{};
    ASSERT_TRUE(unlink_shm(sn));
    auto a = sessions_mapping::create(sn, 8);
    ASSERT_TRUE(a);
    w = std::move(*a);
    w.connect_consumer(st_ro);
    // The consumer index (1) is ahead of the new producer (0): pushes fall back to resync.
    ASSERT_TRUE(w.install(2, test::pattern_slot(1)));
    EXPECT_EQ(w.resync_epoch(), 1u);

    auto d = sessions_mapping::attach(sn);
    ASSERT_TRUE(d);
    pmd_ro = std::move(*d);
    auto e = pmd_ro.make_consumer(pmd_st);
    ASSERT_TRUE(e);
    c = *e;
    uint64_t epoch;
    EXPECT_TRUE(c.resync_needed(epoch));
    c.end_resync(c.begin_resync());
    EXPECT_FALSE(c.resync_needed(epoch));
    ASSERT_TRUE(w.install(3, test::pattern_slot(2)));
    EXPECT_EQ(drain(), std::vector<uint32_t>{3});
}

TEST_F(pair_fixture, ConsumerRefusesWrongStatusRegion) {
    open(8, 16);
    auto e = pmd_ro.make_consumer(const_cast<status_mapping&>(st_ro)); // read-only: not a consumer
    ASSERT_FALSE(e);
    EXPECT_NE(e.err().message.find("read-only"), std::string::npos);
    shm_name other("db-other");
    auto big = status_mapping::create(other, 16);
    ASSERT_TRUE(big);
    auto e2 = pmd_ro.make_consumer(*big);
    ASSERT_FALSE(e2);
    EXPECT_NE(e2.err().message.find("has 16 entries but sessions table"), std::string::npos) << e2.err().message;
}

// The raw ring, without mappings: bad ids are dropped, inconsistent indices report an overrun.
TEST(DoorbellRaw, DropsIdsOutOfRangeAndDetectsOverrun) {
    uint64_t prod = 0, resync = 0, cons = 0, ack = 0;
    std::array<uint32_t, 16> ring{};
    doorbell_producer p{&prod, &resync, ring.data(), 15, &cons};
    doorbell_consumer c{&prod, &resync, ring.data(), 15, 10, &cons, &ack};
    EXPECT_TRUE(p.push(3));
    EXPECT_TRUE(p.push(99)); // not a slot of a 10-slot table: never handed out
    EXPECT_TRUE(p.push(9));
    std::array<uint32_t, 8> out{};
    bool overrun = true;
    ASSERT_EQ(c.poll(out, overrun), 2u);
    EXPECT_FALSE(overrun);
    EXPECT_EQ(out[0], 3u);
    EXPECT_EQ(out[1], 9u);
    EXPECT_EQ(cons, 3u);

    prod = 100; // a producer index the ring cannot explain
    EXPECT_EQ(c.poll(out, overrun), 0u);
    EXPECT_TRUE(overrun);
    EXPECT_EQ(cons, 3u) << "nothing consumed on overrun";

    cons = 200; // consumer ahead of producer: p - c wraps, the producer treats it as full
    EXPECT_FALSE(p.push(1));
    EXPECT_EQ(resync, 1u);
    uint64_t epoch;
    EXPECT_TRUE(c.resync_needed(epoch));
}

} // namespace
} // namespace srtpo::table
