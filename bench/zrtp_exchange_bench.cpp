// ZRTP exchanges per second on one core, by key agreement (issue 8; docs/PERFORMANCE.md §8): two
// of our endpoints complete a full DH exchange in memory (Hello, HelloACK, Commit, DHPart1,
// DHPart2, Confirm1, Confirm2, Conf2ACK; RFC 6189 §4), no loss, no timers. Each iteration is a
// new call (so never Multistream, §4.4.3) with fresh ephemeral keys; the key agreement both
// sides settled on is checked against the one asked for, so a silent fall-back cannot pass.
// The ZID caches are in memory and kept across iterations, so from the second exchange on the
// retained secret matches (§4.6.1), as between two peers that called before; that changes a
// hash, not the DH.
//
// Each call into an endpoint is timed on its own: `initiator` counts only the time spent inside
// the endpoint that sends Commit (create, start, receive, take_*), `responder` only the other's,
// `pair` both. srtpo-cp is one side of an exchange, so the per-side rates are what one core of
// srtpo-cp does; `pair` is the CPU of both sides of one exchange.
// Run: build/bench/zrtp_exchange_bench (bench/run-cp-benches.sh pins it to one core).
#include <srtpo/cp/zrtp/endpoint.hpp>

#include "cpu_meter.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

using namespace srtpo::cp::zrtp;

namespace {

enum class share : int { pair, initiator, responder };

using meter = srtpo::bench::cpu_meter;

void exchange(benchmark::State& st) {
    const auto ka = static_cast<key_agreement>(st.range(0));
    const auto who = static_cast<share>(st.range(1));
    auto ca = zid_cache::in_memory(), cb = zid_cache::in_memory();
    endpoint_config a_cfg, b_cfg;
    a_cfg.ssrc = 1;
    b_cfg.ssrc = 2;
    b_cfg.passive = true; // b never commits: a is the initiator (§4.2)
    a_cfg.algorithms.key_agreements = b_cfg.algorithms.key_agreements = {ka};
    meter ma, mb;
    for (auto _ : st) {
        const auto a0 = ma.spent, b0 = mb.spent;
        time_point t{};
        auto a = ma([&] { return endpoint::create(std::make_shared<call>(ca), a_cfg).value(); });
        auto b = mb([&] { return endpoint::create(std::make_shared<call>(cb), b_cfg).value(); });
        ma([&] { a->start(t); });
        mb([&] { b->start(t); });
        for (int i = 0; i < 16 && a->current_state() != state::secure; ++i) {
            for (auto& p : ma([&] { return a->take_outgoing(); })) mb([&] { b->receive(p, t); });
            for (auto& p : mb([&] { return b->take_outgoing(); })) ma([&] { a->receive(p, t); });
        }
        (void)ma([&] { return a->take_events(); });
        (void)mb([&] { return b->take_events(); });
        if (a->current_state() != state::secure || b->current_state() != state::secure) {
            st.SkipWithError("not secure");
            break;
        }
        if (a->info().algorithms.ka != ka || b->info().algorithms.ka != ka) {
            st.SkipWithError("another key agreement was negotiated");
            break;
        }
        benchmark::DoNotOptimize(ma([&] { return a->keying(); }));
        benchmark::DoNotOptimize(mb([&] { return b->keying(); }));
        // Destruction (wiping the ephemeral keys and secrets) belongs to the exchange too.
        ma([&] { a.reset(); });
        mb([&] { b.reset(); });
        const auto da = ma.spent - a0, db = mb.spent - b0;
        st.SetIterationTime(std::chrono::duration<double>(who == share::initiator ? da : who == share::responder ? db : da + db).count());
    }
    st.SetLabel(std::string(name(ka)) + " " + (who == share::initiator ? "initiator" : who == share::responder ? "responder" : "pair"));
    // The rate over the measured share's own time (kIsRate would divide by the process CPU time).
    const double n = static_cast<double>(st.iterations());
    if (n == 0) return;
    const auto mine = who == share::initiator ? ma.spent : who == share::responder ? mb.spent : ma.spent + mb.spent;
    st.counters["exchanges/s"] = n / std::chrono::duration<double>(mine).count();
    st.counters["initiator_us"] = std::chrono::duration<double, std::micro>(ma.spent).count() / n;
    st.counters["responder_us"] = std::chrono::duration<double, std::micro>(mb.spent).count() / n;
    st.counters["metered_calls"] = static_cast<double>(ma.calls + mb.calls) / n;
}

void all_cases(benchmark::internal::Benchmark* b) {
    for (auto ka : {key_agreement::dh3k, key_agreement::dh2k, key_agreement::ec25, key_agreement::ec38, key_agreement::x255,
                    key_agreement::x448})
        for (auto s : {share::initiator, share::responder, share::pair}) b->Args({static_cast<int>(ka), static_cast<int>(s)});
}

} // namespace

BENCHMARK(exchange)->ArgNames({"ka", "share"})->Apply(all_cases)->UseManualTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
