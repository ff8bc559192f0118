// flow_index (pmd/flow_index.hpp, ADR 0015): srtpo-pmd's private flow lookup table, tested on
// its own (no DPDK, no engine) so that the concurrency test also runs under ThreadSanitizer
// (scripts/test.sh). test_entry stands for pmd::flow_entry: the index reads only its `key`.

#include "flow_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

using srtpo::pmd::flow_index;
using srtpo::pmd::flow_key;
using srtpo::pmd::index_match;

namespace {

struct test_entry {
    flow_key key;
    uint32_t serial = 0;
};
using index_t = flow_index<test_entry>;

constexpr uint8_t v4 = 4, v6 = 6;

flow_key key4(uint32_t addr, uint16_t port) {
    flow_key k;
    k.addr[0] = std::byte(10);
    k.addr[1] = std::byte(addr >> 16);
    k.addr[2] = std::byte(addr >> 8);
    k.addr[3] = std::byte(addr);
    k.port = port;
    k.family = v4;
    return k;
}

flow_key key6(uint32_t addr, uint16_t port) {
    flow_key k;
    k.addr[0] = std::byte(0x20);
    k.addr[1] = std::byte(0x01);
    k.addr[2] = std::byte(0x0d);
    k.addr[3] = std::byte(0xb8);
    k.addr[12] = std::byte(addr >> 24);
    k.addr[13] = std::byte(addr >> 16);
    k.addr[14] = std::byte(addr >> 8);
    k.addr[15] = std::byte(addr);
    k.port = port;
    k.family = v6;
    return k;
}

flow_key plus1(flow_key k) {
    ++k.port;
    return k;
}

/// Delays at the index's interleaving points (flow_index.hpp hooks): a short random spin, now and
/// then a yield, so that readers and the writer really overlap in the windows the slot re-check
/// and the probe-path counters protect, even with more threads than free cores.
struct delay_hooks {
    static void pause() noexcept {
        thread_local std::minstd_rand rng(std::hash<std::thread::id>{}(std::this_thread::get_id()) & 0xffff);
        const auto r = rng();
        if (r % 16 == 0) {
            std::this_thread::yield();
            return;
        }
        std::atomic<unsigned> spin{0}; // a loop the compiler keeps
        for (unsigned i = 0; i < r % 64; ++i) spin.fetch_add(1, std::memory_order_relaxed);
    }
    static void reader_between_loads() noexcept { pause(); }
    static void writer_after_store() noexcept { pause(); }
};

/// An index with its memory (64-byte aligned, zeroed), freed after the index.
template <class Index = index_t>
struct basic_fixture {
    explicit basic_fixture(uint32_t max_keys, uint64_t seed = 0x5eed) {
        const std::size_t n = index_t::memory_size(max_keys);
        mem = static_cast<std::byte*>(std::aligned_alloc(64, n));
        std::fill(mem, mem + n, std::byte{0});
        idx = std::make_unique<Index>(mem, max_keys, seed);
    }
    ~basic_fixture() {
        idx.reset();
        std::free(mem);
    }
    basic_fixture(const basic_fixture&) = delete;
    basic_fixture& operator=(const basic_fixture&) = delete;
    test_entry* entry(const flow_key& k) {
        pool.push_back(std::make_unique<test_entry>(test_entry{k, static_cast<uint32_t>(pool.size())}));
        return pool.back().get();
    }
    std::byte* mem = nullptr;
    std::unique_ptr<Index> idx;
    std::vector<std::unique_ptr<test_entry>> pool;
};
using fixture = basic_fixture<>;

TEST(FlowIndex, SizesAreOneCacheLinePerBucketAndLoadAtMostThreeQuarters) {
    for (uint32_t n : {1u, 64u, 1000u, 2'097'152u}) {
        const std::size_t bytes = index_t::memory_size(n);
        EXPECT_EQ(bytes % 64, 0u);
        const std::size_t buckets = bytes / 64;
        EXPECT_EQ(buckets & (buckets - 1), 0u) << "power of two";
        EXPECT_LE(uint64_t{n} * 4, uint64_t{buckets} * index_t::slots_per_bucket * 3) << n;
    }
    // 1 M flows of two keys each (RTP P and RTCP P + 1): 64 B of index per flow.
    EXPECT_EQ(index_t::memory_size(2'097'152u), 64u * 1'048'576u);
}

TEST(FlowIndex, Ipv4HitsAndMisses) {
    fixture f(1000);
    for (uint32_t i = 0; i < 500; ++i) {
        const auto k = key4(i, static_cast<uint16_t>(20000 + 2 * (i % 16)));
        ASSERT_EQ(f.idx->insert(k, f.entry(k), false, static_cast<uint16_t>(i)), index_t::insert_status::ok);
    }
    EXPECT_EQ(f.idx->size(), 500u);
    for (uint32_t i = 0; i < 500; ++i) {
        const auto k = key4(i, static_cast<uint16_t>(20000 + 2 * (i % 16)));
        const auto m = f.idx->find(k);
        ASSERT_NE(m.entry, nullptr) << i;
        EXPECT_EQ(m.entry->key, k);
        EXPECT_FALSE(m.alias);
        uint16_t tag = 0;
        EXPECT_EQ(f.idx->writer_find(k, &tag).entry, m.entry);
        EXPECT_EQ(tag, i & 0x7fff);
        // Same address, another port; same port, another address; another family.
        EXPECT_EQ(f.idx->find(plus1(k)).entry, nullptr);
        EXPECT_EQ(f.idx->find(key4(i + 1000, k.port)).entry, nullptr);
        auto other_family = k;
        other_family.family = v6;
        EXPECT_EQ(f.idx->find(other_family).entry, nullptr);
    }
}

TEST(FlowIndex, Ipv6KeysAreConfirmedAgainstTheEntry) {
    fixture f(1000);
    for (uint32_t i = 0; i < 300; ++i) {
        const auto k = key6(i, 30000);
        ASSERT_EQ(f.idx->insert(k, f.entry(k), false, 0), index_t::insert_status::ok);
    }
    for (uint32_t i = 0; i < 300; ++i) {
        const auto m = f.idx->find(key6(i, 30000));
        ASSERT_NE(m.entry, nullptr);
        EXPECT_EQ(m.entry->key, key6(i, 30000));
        EXPECT_EQ(f.idx->find(key6(i + 300, 30000)).entry, nullptr);
        EXPECT_EQ(f.idx->find(key6(i, 30002)).entry, nullptr);
    }
    // An IPv4 key and an IPv6 key with the same first four address bytes do not meet.
    auto k4 = key6(0, 30000);
    k4.family = v4;
    EXPECT_EQ(f.idx->find(k4).entry, nullptr);
    // A slot whose entry's key is not the looked-up key is not a match: a fingerprint match
    // alone never returns an entry (the entry bound here deliberately carries another key).
    const auto lie = key6(9999, 40000);
    ASSERT_EQ(f.idx->insert(lie, f.entry(key6(8888, 40000)), false, 0), index_t::insert_status::ok);
    EXPECT_EQ(f.idx->find(lie).entry, nullptr);
    const flow_key* keys[] = {&lie};
    index_match<test_entry> out[1];
    EXPECT_EQ(f.idx->lookup_bulk(keys, 1, out), 0u);
}

TEST(FlowIndex, AliasSlotsMapTheEntryKeyWithPortPlusOne) {
    fixture f(64);
    const auto k4 = key4(1, 5000), k6 = key6(1, 5000);
    auto* e4 = f.entry(k4);
    auto* e6 = f.entry(k6);
    ASSERT_EQ(f.idx->insert(k4, e4, false, 1), index_t::insert_status::ok);
    ASSERT_EQ(f.idx->insert(plus1(k4), e4, true, 1), index_t::insert_status::ok);
    ASSERT_EQ(f.idx->insert(k6, e6, false, 2), index_t::insert_status::ok);
    ASSERT_EQ(f.idx->insert(plus1(k6), e6, true, 2), index_t::insert_status::ok);
    for (auto* e : {e4, e6}) {
        const auto m0 = f.idx->find(e->key), m1 = f.idx->find(plus1(e->key));
        EXPECT_EQ(m0.entry, e);
        EXPECT_FALSE(m0.alias);
        EXPECT_EQ(m1.entry, e);
        EXPECT_TRUE(m1.alias);
    }
    EXPECT_EQ(f.idx->find(plus1(plus1(k6))).entry, nullptr);
}

TEST(FlowIndex, BulkLookupMixesHitsAndMissesOfBothFamilies) {
    fixture f(256);
    std::vector<flow_key> present, absent;
    for (uint32_t i = 0; i < 40; ++i) {
        present.push_back(i % 2 ? key6(i, 7000) : key4(i, 7000));
        absent.push_back(i % 2 ? key4(i, 7000) : key6(i, 7000));
        ASSERT_EQ(f.idx->insert(present.back(), f.entry(present.back()), false, 0), index_t::insert_status::ok);
    }
    std::vector<const flow_key*> burst;
    uint64_t expect = 0;
    for (unsigned i = 0; i < 64; ++i) {
        if (i % 3 == 0) {
            burst.push_back(&absent[i % absent.size()]);
        } else {
            burst.push_back(&present[i % present.size()]);
            expect |= uint64_t{1} << i;
        }
    }
    std::vector<index_match<test_entry>> out(64);
    EXPECT_EQ(f.idx->lookup_bulk(burst.data(), 64, out.data()), expect);
    for (unsigned i = 0; i < 64; ++i)
        if (expect >> i & 1u) {
            EXPECT_EQ(out[i].entry->key, *burst[i]) << i;
        }
    EXPECT_EQ(f.idx->lookup_bulk(burst.data(), 0, out.data()), 0u);
}

TEST(FlowIndex, EraseReplaceAndReAdd) {
    fixture f(100);
    std::vector<flow_key> keys;
    for (uint32_t i = 0; i < 60; ++i) {
        keys.push_back(i % 3 ? key4(i, 9000) : key6(i, 9000));
        ASSERT_EQ(f.idx->insert(keys.back(), f.entry(keys.back()), false, 0), index_t::insert_status::ok);
    }
    for (uint32_t i = 0; i < 60; i += 2) EXPECT_TRUE(f.idx->erase(keys[i]));
    EXPECT_FALSE(f.idx->erase(keys[0])) << "already gone";
    EXPECT_EQ(f.idx->size(), 30u);
    for (uint32_t i = 0; i < 60; ++i) EXPECT_EQ(f.idx->find(keys[i]).entry != nullptr, i % 2 == 1) << i;
    // A rekey: the same key to a new entry in one store.
    auto* fresh = f.entry(keys[1]);
    EXPECT_TRUE(f.idx->replace(keys[1], fresh, false, 3));
    EXPECT_EQ(f.idx->find(keys[1]).entry, fresh);
    EXPECT_FALSE(f.idx->replace(keys[0], fresh, false, 3)) << "absent key";
    EXPECT_FALSE(f.idx->replace(keys[1], nullptr, false, 3));
    for (uint32_t i = 0; i < 60; i += 2)
        ASSERT_EQ(f.idx->insert(keys[i], f.entry(keys[i]), false, 0), index_t::insert_status::ok);
    for (const auto& k : keys) EXPECT_NE(f.idx->find(k).entry, nullptr);
    EXPECT_EQ(f.idx->size(), 60u);
}

TEST(FlowIndex, FullTableIsAnErrorAndFreesUpAfterAnErase) {
    fixture f(8);
    std::vector<flow_key> keys;
    for (uint32_t i = 0; i < 8; ++i) {
        keys.push_back(key4(i, 1000));
        ASSERT_EQ(f.idx->insert(keys.back(), f.entry(keys.back()), false, 0), index_t::insert_status::ok);
    }
    const auto extra = key4(100, 1000);
    EXPECT_EQ(f.idx->insert(extra, f.entry(extra), false, 0), index_t::insert_status::full);
    EXPECT_EQ(f.idx->find(extra).entry, nullptr);
    EXPECT_TRUE(f.idx->erase(keys[3]));
    EXPECT_EQ(f.idx->insert(extra, f.entry(extra), false, 0), index_t::insert_status::ok);
    EXPECT_NE(f.idx->find(extra).entry, nullptr);
    EXPECT_EQ(f.idx->insert(keys[3], nullptr, false, 0), index_t::insert_status::bad_pointer);
}

// A tiny, nearly full table: keys overflow their home bucket; every key stays reachable through
// any order of erasures (the displaced counters keep the probe paths open, with no tombstones).
TEST(FlowIndex, CollisionsInATinyTable) {
    for (uint64_t seed : {1u, 2u, 3u, 4u}) {
        fixture f(18, seed); // 8 buckets, 24 slots, 18 keys
        ASSERT_EQ(f.idx->buckets(), 8u);
        std::vector<flow_key> keys;
        long farthest = 0;
        for (uint32_t i = 0; i < 18; ++i) {
            keys.push_back(i % 2 ? key6(i, 4000) : key4(i, 4000));
            ASSERT_EQ(f.idx->insert(keys.back(), f.entry(keys.back()), false, 0), index_t::insert_status::ok);
        }
        for (const auto& k : keys) farthest = std::max(farthest, f.idx->probe_distance(k));
        EXPECT_GT(farthest, 0) << "18 keys in 8 buckets of 3: some bucket overflows (fixed seeds)";
        std::mt19937 rng(static_cast<uint32_t>(seed));
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        std::vector<bool> gone(keys.size());
        for (std::size_t n = 0; n < order.size(); ++n) {
            ASSERT_TRUE(f.idx->erase(keys[order[n]]));
            gone[order[n]] = true;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                const auto m = f.idx->find(keys[i]);
                ASSERT_EQ(m.entry == nullptr, gone[i]) << "seed " << seed << " key " << i;
                if (m.entry) {
                    EXPECT_EQ(m.entry->key, keys[i]);
                }
            }
        }
        EXPECT_EQ(f.idx->size(), 0u);
        // Refilled after everything went: the counters came back to zero.
        for (const auto& k : keys) ASSERT_EQ(f.idx->insert(k, f.entry(k), false, 0), index_t::insert_status::ok);
        for (const auto& k : keys) EXPECT_EQ(f.idx->find(k).entry->key, k);
    }
}

// One writer adds, removes and rekeys while readers look up: a key present throughout is never
// missed, and no lookup ever returns an entry of another key. Entries are never freed during the
// run (they stand for RCU-retired entries: the real registry frees them after a grace period).
template <class Index>
void concurrent_writer_and_readers(std::chrono::milliseconds run_for) {
    basic_fixture<Index> f(18); // 8 buckets of 3 slots: probe paths cross buckets, and inserts hit "full"
    ASSERT_EQ(f.idx->buckets(), 8u);
    constexpr unsigned n_stable = 6, n_churn = 16;
    std::vector<flow_key> stable, churn;
    for (uint32_t i = 0; i < n_stable; ++i) stable.push_back(i % 2 ? key6(i, 6000) : key4(i, 6000));
    for (uint32_t i = 0; i < n_churn; ++i) churn.push_back(i % 2 ? key4(i + 100, 6000) : key6(i + 100, 6000));
    for (const auto& k : stable) ASSERT_EQ(f.idx->insert(k, f.entry(k), false, 0), Index::insert_status::ok);
    // Every entry the writer makes stays allocated until the end (no address is reused).
    constexpr unsigned n_ops = 300'000;
    std::vector<std::unique_ptr<test_entry>> spare;
    spare.reserve(n_ops);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> misses{0}, wrong{0}, lookups{0};

    auto reader = [&](unsigned seed) {
        std::mt19937 rng(seed);
        std::vector<const flow_key*> burst(32);
        std::vector<index_match<test_entry>> out(32);
        uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (auto& p : burst) p = rng() % 2 ? &stable[rng() % n_stable] : &churn[rng() % n_churn];
            const uint64_t hit = f.idx->lookup_bulk(burst.data(), 32, out.data());
            for (unsigned i = 0; i < 32; ++i) {
                const bool is_stable = burst[i] >= stable.data() && burst[i] < stable.data() + n_stable;
                if (!(hit >> i & 1u)) {
                    if (is_stable) misses.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (out[i].alias || out[i].entry->key != *burst[i]) wrong.fetch_add(1, std::memory_order_relaxed);
            }
            const auto& k = stable[rng() % n_stable];
            const auto m = f.idx->find(k);
            if (!m.entry) misses.fetch_add(1, std::memory_order_relaxed);
            else if (m.entry->key != k) wrong.fetch_add(1, std::memory_order_relaxed);
            n += 33;
        }
        lookups.fetch_add(n);
    };
    std::vector<std::thread> readers;
    for (unsigned r = 0; r < 3; ++r) readers.emplace_back(reader, r + 1);

    std::mt19937 rng(7);
    std::vector<bool> present(n_churn);
    const auto deadline = std::chrono::steady_clock::now() + run_for;
    unsigned ops = 0;
    for (; ops < n_ops && std::chrono::steady_clock::now() < deadline; ++ops) {
        const auto what = rng() % 3;
        if (what == 0) { // rekey a stable key: a new entry for the same key, in place
            const auto& k = stable[rng() % n_stable];
            spare.push_back(std::make_unique<test_entry>(test_entry{k, ops}));
            if (!f.idx->replace(k, spare.back().get(), false, static_cast<uint16_t>(ops))) {
                ADD_FAILURE() << "replace of a present key failed";
                break;
            }
        } else { // add or remove a churn key (reusing freed slots along the stable keys' paths)
            const auto c = rng() % n_churn;
            if (present[c]) {
                if (!f.idx->erase(churn[c])) {
                    ADD_FAILURE() << "erase of a present key failed";
                    break;
                }
            } else {
                spare.push_back(std::make_unique<test_entry>(test_entry{churn[c], ops}));
                const auto st = f.idx->insert(churn[c], spare.back().get(), false, 0);
                if (st == Index::insert_status::bad_pointer) {
                    ADD_FAILURE() << "bad pointer";
                    break;
                }
                if (st != Index::insert_status::ok) continue; // full: 18 keys at most
            }
            present[c] = !present[c];
        }
    }
    stop.store(true);
    for (auto& t : readers) t.join();
    EXPECT_EQ(misses.load(), 0u) << "a key present throughout was missed";
    EXPECT_EQ(wrong.load(), 0u) << "a lookup returned another key's entry";
    EXPECT_GT(lookups.load(), 0u);
    EXPECT_GT(ops, 1000u);
    std::printf("concurrent: %u writer ops, %llu lookups\n", ops, static_cast<unsigned long long>(lookups.load()));
}

TEST(FlowIndex, ConcurrentWriterAndReaders) { concurrent_writer_and_readers<index_t>(std::chrono::milliseconds(600)); }

// The same with delays at every interleaving point, so that the windows are really hit.
TEST(FlowIndex, ConcurrentWriterAndReadersWithDelays) {
    concurrent_writer_and_readers<flow_index<test_entry, delay_hooks>>(std::chrono::milliseconds(1500));
}

} // namespace
