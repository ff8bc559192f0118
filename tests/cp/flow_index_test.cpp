// flow_index (srtpo-cp's match -> slot map, ADR 0016) against a std::map model: random adds,
// deletes and lookups at full load, where linear-probing clusters wrap around the end of the
// array and backward-shift deletion must keep every later key of a cluster reachable.
#include "flow_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

using namespace srtpo;
using srtpo::cp::flow_index;

namespace {

table::endpoint ep(uint32_t i) {
    return table::endpoint{table::ip_address::v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)),
                           static_cast<uint16_t>(10000 + (i & 0xff))};
}

bool key_less(const table::endpoint& a, const table::endpoint& b) {
    if (a.addr.octets != b.addr.octets) return a.addr.octets < b.addr.octets;
    return a.port < b.port;
}

struct model {
    flow_index idx;
    std::vector<table::endpoint> by_slot;
    std::vector<bool> used;
    std::map<table::endpoint, uint32_t, decltype(&key_less)> ref{&key_less};
    explicit model(uint32_t cap) : idx(cap), by_slot(cap), used(cap, false) {}
    uint32_t find(const table::endpoint& k) const {
        return idx.find(k, [this](uint32_t s) -> const table::endpoint& { return by_slot[s]; });
    }
    void check_all() const {
        for (const auto& [k, s] : ref) ASSERT_EQ(find(k), s);
    }
};

} // namespace

TEST(flow_index, EmptyFindsNothing) {
    flow_index idx(8);
    const std::vector<table::endpoint> none(8);
    EXPECT_EQ(idx.find(ep(1), [&](uint32_t s) -> const table::endpoint& { return none[s]; }), flow_index::npos);
    idx.erase(ep(1), 3); // absent: no effect, no crash
}

TEST(flow_index, RandomChurnAtFullLoadMatchesAMap) {
    constexpr uint32_t cap = 256; // 512 buckets: at full load every cluster is long
    model m(cap);
    std::mt19937 rng(12345);
    std::vector<uint32_t> free_slots;
    for (uint32_t s = cap; s-- > 0;) free_slots.push_back(s);
    uint32_t next_key = 0;
    for (int step = 0; step < 20000; ++step) {
        const bool add = !free_slots.empty() && (m.ref.empty() || rng() % 100 < 55);
        if (add) {
            const auto k = ep(next_key++ % 4096); // keys come back after deletion
            if (m.ref.count(k)) continue;
            const uint32_t s = free_slots.back();
            free_slots.pop_back();
            m.by_slot[s] = k;
            m.used[s] = true;
            m.idx.insert(k, s);
            m.ref.emplace(k, s);
        } else {
            auto it = m.ref.begin();
            std::advance(it, static_cast<long>(rng() % m.ref.size()));
            const auto [k, s] = *it;
            m.idx.erase(k, s);
            m.ref.erase(it);
            m.used[s] = false;
            m.by_slot[s] = table::endpoint{}; // the owner forgets the key, as flow_registry does
            free_slots.push_back(s);
            ASSERT_EQ(m.find(k), flow_index::npos) << "step " << step;
        }
        if (step % 97 == 0) {
            m.check_all();
            if (HasFatalFailure()) return;
        }
    }
    m.check_all();
    // Keys never inserted, or deleted, are absent.
    for (uint32_t i = 5000; i < 5100; ++i) EXPECT_EQ(m.find(ep(i)), flow_index::npos);
}

TEST(flow_index, FullTableThenEmptyAgain) {
    constexpr uint32_t cap = 64;
    model m(cap);
    for (uint32_t s = 0; s < cap; ++s) {
        m.by_slot[s] = ep(s * 7919);
        m.idx.insert(m.by_slot[s], s);
        m.ref.emplace(m.by_slot[s], s);
    }
    m.check_all();
    for (uint32_t s = 0; s < cap; s += 2) {
        m.idx.erase(m.by_slot[s], s);
        m.ref.erase(m.by_slot[s]);
    }
    m.check_all();
    m.idx.clear();
    for (uint32_t s = 0; s < cap; ++s) EXPECT_EQ(m.find(m.by_slot[s]), flow_index::npos);
}
