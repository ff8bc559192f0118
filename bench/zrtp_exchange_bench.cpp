// ZRTP exchanges per second on one core, by key agreement: two of our endpoints complete a DH
// exchange in memory (Hello ... Conf2ACK, no loss, no timers), so each iteration is the CPU of
// BOTH sides of one exchange. Run: build/bench/zrtp_exchange_bench
#include <srtpo/cp/zrtp/endpoint.hpp>

#include <benchmark/benchmark.h>

using namespace srtpo::cp::zrtp;

static void exchange(benchmark::State& st) {
    const auto ka = static_cast<key_agreement>(st.range(0));
    auto ca = zid_cache::in_memory(), cb = zid_cache::in_memory();
    endpoint_config a_cfg, b_cfg;
    a_cfg.ssrc = 1;
    b_cfg.ssrc = 2;
    b_cfg.passive = true;
    a_cfg.algorithms.key_agreements = b_cfg.algorithms.key_agreements = {ka};
    for (auto _ : st) {
        auto a = endpoint::create(std::make_shared<call>(ca), a_cfg).value();
        auto b = endpoint::create(std::make_shared<call>(cb), b_cfg).value();
        time_point t{};
        a->start(t);
        b->start(t);
        for (int i = 0; i < 16 && a->current_state() != state::secure; ++i) {
            for (auto& p : a->take_outgoing()) b->receive(p, t);
            for (auto& p : b->take_outgoing()) a->receive(p, t);
        }
        if (a->current_state() != state::secure || b->current_state() != state::secure) st.SkipWithError("not secure");
        benchmark::DoNotOptimize(a->keying());
    }
    st.SetLabel(std::string(name(ka)));
    st.counters["exchanges/s"] = benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(exchange)
    ->Arg(static_cast<int>(key_agreement::dh3k))
    ->Arg(static_cast<int>(key_agreement::dh2k))
    ->Arg(static_cast<int>(key_agreement::ec25))
    ->Arg(static_cast<int>(key_agreement::ec38))
    ->Arg(static_cast<int>(key_agreement::x255))
    ->Arg(static_cast<int>(key_agreement::x448))
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
