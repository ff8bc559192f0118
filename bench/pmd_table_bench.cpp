// srtpo-pmd's private lookup and sync thread (issue 5 benchmarks), on DPDK with --no-huge:
//   BM_lookup_burst32/N   lookup cost per packet of a 32-packet burst with N flows in the
//                         registry: flow_registry::lookup_bulk exactly as a worker calls it (the
//                         flow index of ADR 0015: hashes, bucket prefetches, one bucket probe per
//                         packet, entry prefetches), keys in random order so that large tables
//                         miss the caches as traffic does; the keys are read in sequence, as a
//                         worker builds them from the headers it just parsed. Counter
//                         index_B_per_flow: the index's bytes over N.
//   BM_lookup_touch_burst32/N  the same, plus the worker's first read of each found entry
//                         (its owner), so the entry's own cache miss is counted too.
//   BM_sync_apply/N/keyed the sync thread's apply rate: N installed slots read through the seqlock,
//                         validated, turned into engine sessions (keyed = unprotect
//                         AES_CM_128_HMAC_SHA1_80, else tap: no sessions) and published.
// Run: build/bench/pmd_table_bench [--benchmark_filter=...]   (docs/PERFORMANCE.md §5);
// SRTPO_HUGEPAGES=1 runs EAL on reserved hugepages instead of anonymous memory.

#include "flow_registry.hpp"
#include "table_sync.hpp"

#include <srtpo/engine/kdf.hpp>
#include <srtpo/table/mapping.hpp>

#include "dpdk_bench_main.hpp"
#include "flow_addresses.hpp"

#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace srtpo;
using namespace srtpo::pmd;

namespace {

flow_key key_of(uint32_t i) { return make_flow_key(bench::flow_address(i), bench::flow_port(i)); }

struct lookup_setup {
    std::unique_ptr<flow_registry> reg;
    std::vector<flow_key> keys;
    /// The packets' keys by value, flows in random order, read sequentially: a worker builds
    /// each key on its stack from the header it just parsed, so reading a key must not cost a
    /// cache miss of its own (pointers into `keys` did: one more miss per packet at 1 M flows).
    std::vector<flow_key> stream;
};

lookup_setup& setup_for(uint32_t n) {
    // Never destroyed: the registries hold DPDK memory, and EAL is cleaned up before static
    // destructors would run (a crash at exit otherwise).
    static auto& cache = *new std::map<uint32_t, lookup_setup>;
    auto& s = cache[n];
    if (s.reg) return s;
    s.reg = std::move(flow_registry::create(n, 1, 0).value());
    s.keys.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        auto e = std::make_unique<flow_entry>();
        e->id = i;
        e->key = s.keys[i] = key_of(i);
        e->proto = table::flow_proto::mux;
        e->adopted.store(true);
        if (!s.reg->publish(std::move(e))) std::abort();
    }
    std::mt19937 rng(1);
    const std::size_t len = std::max<std::size_t>(n, 1 << 16);
    s.stream.resize(len);
    for (auto& k : s.stream) k = s.keys[rng() % n];
    return s;
}

/// One burst of 32 per iteration; `touch`: also read each found entry's owner, the worker's
/// first access to the entry (claim()), so the entry's own miss is counted too.
void lookup_bursts(benchmark::State& st, bool touch) {
    auto& s = setup_for(static_cast<uint32_t>(st.range(0)));
    std::size_t at = 0;
    const flow_key* burst[32];
    flow_match refs[32];
    uint64_t found = 0, owners = 0;
    for (auto _ : st) {
        if (at + 32 > s.stream.size()) at = 0;
        for (unsigned i = 0; i < 32; ++i) burst[i] = &s.stream[at + i];
        const uint64_t hit = s.reg->lookup_bulk(burst, 32, refs); // what the worker does per burst
        for (unsigned i = 0; i < 32; ++i) {
            if (!(hit >> i & 1u) || !refs[i].entry) continue;
            ++found;
            if (touch) owners += refs[i].entry->owner.load(std::memory_order_relaxed);
        }
        at += 32;
    }
    benchmark::DoNotOptimize(found);
    benchmark::DoNotOptimize(owners);
    if (found != static_cast<uint64_t>(st.iterations()) * 32) st.SkipWithError("a key was not found");
    st.counters["per_packet"] = benchmark::Counter(static_cast<double>(st.iterations() * 32),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.counters["index_B_per_flow"] = static_cast<double>(s.reg->index_bytes()) / static_cast<double>(st.range(0));
}
void BM_lookup_burst32(benchmark::State& st) { lookup_bursts(st, false); }
void BM_lookup_touch_burst32(benchmark::State& st) { lookup_bursts(st, true); }
BENCHMARK(BM_lookup_burst32)->Arg(10'000)->Arg(1'048'576)->MinTime(1.0);
BENCHMARK(BM_lookup_touch_burst32)->Arg(10'000)->Arg(1'048'576)->MinTime(1.0);

table::leg_crypto keyed_leg() {
    const auto& t = engine::traits(engine::suite::aes_cm_128_hmac_sha1_80);
    std::vector<std::byte> k(30, std::byte{7});
    engine::session_keys a, b;
    (void)engine::derive_session_keys(t, {k.data(), 16}, {k.data() + 16, 14}, false, a);
    (void)engine::derive_session_keys(t, {k.data(), 16}, {k.data() + 16, 14}, true, b);
    table::leg_crypto l;
    l.suite = static_cast<uint16_t>(engine::suite::aes_cm_128_hmac_sha1_80);
    l.replay_window = 128;
    table::store_keys(t, a, l.srtp);
    table::store_keys(t, b, l.srtcp);
    return l;
}

void BM_sync_apply(benchmark::State& st) {
    const auto n = static_cast<uint32_t>(st.range(0));
    const bool keyed = st.range(1) != 0;
    const std::string name = "/srtpo-bench-" + std::to_string(getpid()) + "-" + std::to_string(n) + (keyed ? "k" : "t");
    (void)table::unlink_shm(name);
    (void)table::unlink_shm(name + ".status");
    table::sessions_options o;
    o.capacity = n;
    auto tab = table::sessions_mapping::create(name, o);
    if (!tab) {
        st.SkipWithError(tab.err().message.c_str());
        return;
    }
    const auto leg = keyed_leg();
    for (uint32_t i = 0; i < n; ++i) {
        table::slot_data d;
        d.key.local = table::ip_address::v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i));
        d.key.port = static_cast<uint16_t>(20000 + 2 * (i % 16));
        d.key.proto = table::flow_proto::rtp;
        d.state = table::slot_state::active;
        d.action = keyed ? table::leg_action::unprotect : table::leg_action::tap;
        if (keyed) d.in = leg;
        if (!tab->install(i, d)) std::abort();
    }
    for (auto _ : st) {
        st.PauseTiming();
        auto reg = std::move(flow_registry::create(n, 1, 0).value());
        auto sync = std::move(table_sync::open(name, *reg).value());
        st.ResumeTiming();
        if (!sync->initial_sync()) std::abort();
        st.PauseTiming();
        if (sync->stats().applied != n) {
            std::fprintf(stderr, "only %llu of %u slots applied\n", static_cast<unsigned long long>(sync->stats().applied), n);
            std::abort();
        }
        sync.reset();
        reg.reset();
        st.ResumeTiming();
    }
    st.counters["slots_per_s"] = benchmark::Counter(static_cast<double>(st.iterations()) * n, benchmark::Counter::kIsRate);
    (void)table::unlink_shm(name);
    (void)table::unlink_shm(name + ".status");
}
BENCHMARK(BM_sync_apply)->Args({65'536, 1})->Args({1'048'576, 0})->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return srtpo::bench::run_dpdk_benchmarks(argc, argv, "pmd_table_bench", "3072"); }
