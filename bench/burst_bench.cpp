// Engine micro-benchmarks: suite × payload × burst × backend × direction.
// Reports packets/s, reference cycles (TSC) per packet and Gbit/s of payload, and fails a run
// that allocated inside the timed loop.

#include "bench_util.hpp"

#include <benchmark/benchmark.h>

#include <new>

std::atomic<uint64_t> srtpo::bench::allocations{0};

void* operator new(std::size_t n) {
    srtpo::bench::allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace srtpo;
using bench::rtp_pool;
using engine::backend_kind;
using engine::direction;
using engine::suite;

namespace {

constexpr uint32_t ssrcs = 32;            // streams per session, interleaved in every burst
constexpr std::size_t pool_packets = 8192; // unprotect consumes each once, then re-keys the receiver

void run(benchmark::State& state, suite s, backend_kind b, direction d) {
    const auto payload = static_cast<std::size_t>(state.range(0));
    const auto burst = static_cast<std::size_t>(state.range(1));
    if (!engine::backend_available(b)) {
        state.SkipWithError("backend not available");
        return;
    }
    auto w = std::move(engine::worker_ctx::create().value());
    rtp_pool plain(pool_packets, payload, ssrcs);
    // For unprotect: the same pool, protected once.
    rtp_pool wire(pool_packets, payload, ssrcs);
    if (d == direction::unprotect) {
        auto tx = bench::make_session(s, direction::protect, b, ssrcs);
        for (std::size_t i = 0; i < pool_packets; ++i) {
            engine::op o{tx.get(), {wire.at(i), wire.len[i], static_cast<uint16_t>(rtp_pool::stride)}, engine::status::ok};
            engine::protect_rtp(*w, {&o, 1});
            wire.len[i] = o.pkt.len;
        }
    }
    const rtp_pool& src = d == direction::protect ? plain : wire;
    auto sess = bench::make_session(s, d, b, ssrcs);
    std::vector<std::byte> work(burst * rtp_pool::stride);
    std::vector<engine::op> ops(burst);
    std::size_t next = 0;
    uint16_t seq_base = 0;
    uint64_t packets = 0, failed = 0, cycles = 0;
    uint64_t untimed_allocs = 0;
    const uint64_t allocs0 = bench::allocations.load();
    for (auto _ : state) {
        if (next + burst > pool_packets) {
            next = 0;
            if (d == direction::unprotect) {
                state.PauseTiming(); // the pool was consumed once: a fresh receiver takes it again
                const uint64_t a0 = bench::allocations.load();
                sess = bench::make_session(s, d, b, ssrcs);
                untimed_allocs += bench::allocations.load() - a0;
                state.ResumeTiming();
            } else {
                seq_base = static_cast<uint16_t>(seq_base + pool_packets / ssrcs);
            }
        }
        const uint64_t t0 = bench::tsc();
        for (std::size_t k = 0; k < burst; ++k) {
            std::byte* p = work.data() + k * rtp_pool::stride;
            const std::size_t i = next + k;
            std::memcpy(p, const_cast<rtp_pool&>(src).at(i), src.len[i]);
            if (d == direction::protect) { // a sender never repeats an index
                const auto seq = static_cast<uint16_t>(seq_base + 1 + i / ssrcs);
                p[2] = std::byte(seq >> 8);
                p[3] = std::byte(seq & 0xff);
            }
            ops[k] = {sess.get(), {p, src.len[i], static_cast<uint16_t>(rtp_pool::stride)}, engine::status::ok};
        }
        const auto ok = d == direction::protect ? engine::protect_rtp(*w, ops) : engine::unprotect_rtp(*w, ops);
        cycles += bench::tsc() - t0;
        failed += burst - ok;
        packets += burst;
        next += burst;
    }
    const uint64_t allocs = bench::allocations.load() - allocs0 - untimed_allocs;
    if (failed) state.SkipWithError("packets failed in the timed loop");
    if (allocs) state.SkipWithError("the engine allocated on the packet path");
    // Allocations inside the timed loop; the receiver re-creation above is excluded.
    state.counters["allocs_per_kpkt"] = benchmark::Counter(1000.0 * static_cast<double>(allocs) / static_cast<double>(packets));
    state.counters["pkts"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
    state.counters["cycles_per_pkt"] = static_cast<double>(cycles) / static_cast<double>(packets);
    state.counters["Gbps"] = benchmark::Counter(static_cast<double>(packets * payload * 8) / 1e9, benchmark::Counter::kIsRate);
    state.SetItemsProcessed(static_cast<int64_t>(packets));
}

void grid(benchmark::internal::Benchmark* b) {
    for (long payload : {20, 160, 1200})
        for (long burst : {1, 8, 32, 64}) b->Args({payload, burst});
    b->ArgNames({"payload", "burst"});
}

#define SRTPO_BENCH(name, s)                                                                                  \
    BENCHMARK_CAPTURE(run, name##_protect_imb, s, backend_kind::ipsec_mb, direction::protect)->Apply(grid);     \
    BENCHMARK_CAPTURE(run, name##_unprotect_imb, s, backend_kind::ipsec_mb, direction::unprotect)->Apply(grid); \
    BENCHMARK_CAPTURE(run, name##_protect_openssl, s, backend_kind::openssl, direction::protect)->Apply(grid);   \
    BENCHMARK_CAPTURE(run, name##_unprotect_openssl, s, backend_kind::openssl, direction::unprotect)->Apply(grid);

SRTPO_BENCH(AES_CM_128_HMAC_SHA1_80, suite::aes_cm_128_hmac_sha1_80)
SRTPO_BENCH(AES_CM_128_HMAC_SHA1_32, suite::aes_cm_128_hmac_sha1_32)
SRTPO_BENCH(AES_256_CM_HMAC_SHA1_80, suite::aes_256_cm_hmac_sha1_80)
SRTPO_BENCH(AEAD_AES_128_GCM, suite::aead_aes_128_gcm)
SRTPO_BENCH(AEAD_AES_256_GCM, suite::aead_aes_256_gcm)

} // namespace

BENCHMARK_MAIN();
