// How fast one core of this machine fetches cache lines it has not touched recently, when their
// addresses are known in advance: the floor under any per-packet cost that is made of cold
// session lines (docs/PERFORMANCE.md §7.5).
//
//   BM_cold_lines/mib:M/group:G/distance:D
//
// M MiB of memory is cut into 4 KiB slots (about a session block, ADR 0017, rounded up to a
// page); each step reads G adjacent lines at the start of a slot chosen at random, the way a
// packet reads one session's lines. With D > 0 the G lines of the slot D steps ahead are
// prefetched first, as the engine's burst prefetch does; with D = 0 only the out-of-order core
// overlaps the (independent) loads. The slots' order is drawn before the timed loop. Counters:
// ns per line and per group (slot). No SRTP code runs here; the numbers describe the machine.
//
//   BM_dependent_line/mib:M/huge:H/distance:D
//
// The same random slots, one line each, but every load's address depends on the value the
// previous load returned (as a lookup's entry → session → key chain does): with D = 0 each line
// costs the full latency of a miss, TLB miss included, which the out-of-order core cannot
// overlap; with D > 0 the slot D steps ahead is prefetched (its address is known in advance),
// which is what the burst prefetch can win back. H = 1 puts the buffer on 2 MiB hugetlbfs pages
// (MAP_HUGETLB; the run is skipped with a message where none are reserved), H = 0 on 4 KiB pages.
//
// Thread-safety: single-threaded benchmark; one buffer per (M) reused across runs.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <sys/mman.h>

namespace {

constexpr std::size_t line = 64;
constexpr std::size_t slot = 4096;
constexpr std::size_t steps = 1 << 16; // groups per iteration

struct free_deleter {
    void operator()(std::byte* p) const noexcept { std::free(p); }
};

/// The M-MiB buffer, written once (every page present before timing) and kept for the process.
std::byte* buffer(std::size_t mib) {
    static std::map<std::size_t, std::unique_ptr<std::byte, free_deleter>> bufs;
    auto& b = bufs[mib];
    if (!b) {
        const std::size_t bytes = mib << 20;
        b.reset(static_cast<std::byte*>(std::aligned_alloc(slot, bytes)));
        if (!b) return nullptr;
        for (std::size_t i = 0; i < bytes; i += line) b.get()[i] = std::byte(i >> 6);
    }
    return b.get();
}

/// The slots' random order for one benchmark (steps + distance entries, seeded).
std::vector<uint32_t> random_slots(std::size_t mib, std::size_t distance, uint64_t seed) {
    const std::size_t slots = (mib << 20) / slot;
    std::mt19937_64 rng(seed);
    std::vector<uint32_t> order(steps + distance);
    for (auto& o : order) o = static_cast<uint32_t>(rng() % slots);
    return order;
}

/// Runs `pass(order)` (one pass of `steps` steps) once per benchmark iteration, timing each pass
/// and rotating the order between passes, so that the next pass reads other slots rather than
/// hitting the lines of this one again while they are still cached. Returns the timed ns.
template <class Pass>
double timed_passes(benchmark::State& state, std::vector<uint32_t>& order, Pass pass) {
    double ns = 0;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        pass(order);
        const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
        state.SetIterationTime(dt.count());
        ns += dt.count() * 1e9;
        std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(steps / 3), order.begin() + steps);
    }
    return ns;
}

void BM_cold_lines(benchmark::State& state) {
    const auto mib = static_cast<std::size_t>(state.range(0));
    const auto group = static_cast<std::size_t>(state.range(1));
    const auto distance = static_cast<std::size_t>(state.range(2));
    std::byte* const base = buffer(mib);
    if (!base) {
        state.SkipWithError("cannot allocate the buffer");
        return;
    }
    auto order = random_slots(mib, distance, 42);
    uint64_t sum = 0;
    const double ns = timed_passes(state, order, [&](const std::vector<uint32_t>& o) {
        for (std::size_t i = 0; i < steps; ++i) {
            if (distance) {
                const std::byte* ahead = base + std::size_t{o[i + distance]} * slot;
                for (std::size_t g = 0; g < group; ++g) __builtin_prefetch(ahead + g * line, 0, 3);
            }
            const std::byte* p = base + std::size_t{o[i]} * slot;
            for (std::size_t g = 0; g < group; ++g) sum += std::to_integer<uint64_t>(p[g * line]);
        }
    });
    benchmark::DoNotOptimize(sum);
    const auto n = static_cast<double>(state.iterations()) * steps;
    state.counters["ns_per_group"] = ns / n;
    state.counters["ns_per_line"] = ns / (n * static_cast<double>(group));
}

/// The M-MiB buffer on 4 KiB pages (huge = false: an anonymous mapping advised MADV_NOHUGEPAGE)
/// or on 2 MiB hugetlbfs pages, written once and kept for the process; nullptr if it cannot be had.
std::byte* paged_buffer(std::size_t mib, bool huge) {
    static std::map<std::pair<std::size_t, bool>, std::byte*> bufs; // never unmapped
    auto& b = bufs[{mib, huge}];
    if (!b) {
        const std::size_t bytes = mib << 20;
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0), -1, 0);
        if (p == MAP_FAILED) return nullptr;
        if (!huge) (void)::madvise(p, bytes, MADV_NOHUGEPAGE);
        b = static_cast<std::byte*>(p);
        for (std::size_t i = 0; i < bytes; i += line) b[i] = std::byte{0}; // every value 0: see below
    }
    return b;
}

void BM_dependent_line(benchmark::State& state) {
    const auto mib = static_cast<std::size_t>(state.range(0));
    const bool huge = state.range(1) != 0;
    const auto distance = static_cast<std::size_t>(state.range(2));
    std::byte* const base = paged_buffer(mib, huge);
    if (!base) {
        state.SkipWithError(huge ? "no 2 MiB hugetlbfs pages (reserve some: /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
                                 : "cannot map the buffer");
        return;
    }
    auto order = random_slots(mib, distance, 43);
    uint64_t v = 0;
    const double ns = timed_passes(state, order, [&](const std::vector<uint32_t>& o) {
        for (std::size_t i = 0; i < steps; ++i) {
            if (distance) __builtin_prefetch(base + std::size_t{o[i + distance]} * slot, 0, 3);
            // Every octet read is 0, so the address is the planned one, but the compiler and the
            // core must wait for the previous load before they can form it: a dependent chain.
            v = std::to_integer<uint64_t>(base[std::size_t{o[i]} * slot + (v & 1)]);
        }
    });
    benchmark::DoNotOptimize(v);
    state.counters["ns_per_line"] = ns / (static_cast<double>(state.iterations()) * steps);
}

void args(benchmark::internal::Benchmark* b) {
    // 4 MiB: about an L2 + part of L3; 32 MiB: one L3 (an EPYC CCX) or the sessions of ~10 000
    // flows; 256 MiB: DRAM, as 1 000 000 flows' sessions.
    for (int mib : {4, 32, 256})
        for (int group : {1, 4, 8})
            for (int distance : {0, 16}) b->Args({mib, group, distance});
    b->ArgNames({"mib", "group", "distance"})->UseManualTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_cold_lines)->Apply(args);
BENCHMARK(BM_dependent_line)
    ->ArgsProduct({{32, 256}, {0, 1}, {0, 16}})
    ->ArgNames({"mib", "huge", "distance"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
