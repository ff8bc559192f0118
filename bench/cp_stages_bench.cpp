// Where a flow install spends its time inside srtpo-cp, stage by stage (no socket): JSON parse of
// a request line, flow validation (parse_flow), slot-image build with key derivation, and the
// registry's add into a real shm table. Complements cp_install_bench (end to end over the socket).
#include "api_service.hpp"
#include "flow_registry.hpp"
#include "slot_image.hpp"

#include <srtpo/cp/api/flow_batch_reader.hpp>
#include <srtpo/cp/api/flow_spec.hpp>
#include <srtpo/table/mapping.hpp>

#include "random_key.hpp"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <unistd.h>

#include <cstdlib>

using namespace srtpo;
using nlohmann::json;

namespace {

json flow_json(uint32_t k) {
    return json{{"match", "10." + std::to_string(k >> 14) + "." + std::to_string((k >> 6) & 0xff) + "." + std::to_string(k & 0x3f) +
                              ":" + std::to_string(10000 + 2 * (k & 0xfff))},
                {"in", {{"suite", "AES_CM_128_HMAC_SHA1_80"}, {"key", srtpo::bench::random_b64_key(30)}}},
                {"send_to", "198.51.100.1:7000"}};
}

constexpr uint32_t batch = 8192;

std::string batch_line() {
    json list = json::array();
    for (uint32_t k = 0; k < batch; ++k) list.push_back(flow_json(k));
    return json{{"op", "flow.add"}, {"flows", std::move(list)}}.dump();
}

void BM_JsonParse(benchmark::State& state) {
    const std::string line = batch_line();
    for (auto _ : state) benchmark::DoNotOptimize(json::parse(line));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
}

void BM_ParseFlow(benchmark::State& state) {
    const json req = json::parse(batch_line());
    for (auto _ : state)
        for (const auto& f : req["flows"]) benchmark::DoNotOptimize(cp::api::parse_flow(f, "f"));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
}

/// The streaming reader of a batch line (what srtpo-cp runs for flow.add batches instead of the
/// two stages above): read without a DOM, then the same validation.
void BM_BatchReadAndParse(benchmark::State& state) {
    const std::string line = batch_line();
    cp::api::flow_batch_reader r;
    for (auto _ : state) {
        if (r.read(line) != cp::api::flow_batch_reader::outcome::read) {
            state.SkipWithError("the batch reader refused the line");
            return;
        }
        for (const auto& f : r.flows()) benchmark::DoNotOptimize(cp::api::parse_flow_fields(f, true, "f", true));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
}

void BM_BuildSlot(benchmark::State& state) {
    const auto spec = cp::api::parse_flow(flow_json(1), "f");
    table::slot_data d{};
    for (auto _ : state) benchmark::DoNotOptimize(cp::build_slot(*spec, nullptr, 0, d));
    table::wipe(d);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_RegistryAdd(benchmark::State& state) {
    const std::string name = "srtpo-bench-stage-" + std::to_string(::getpid());
    const json req = json::parse(batch_line());
    for (auto _ : state) {
        state.PauseTiming();
        (void)table::unlink_shm(name);
        table::sessions_options o;
        o.capacity = batch;
        o.prefault = std::getenv("SRTPO_BENCH_NO_PREFAULT") == nullptr; // as srtpo-cp does (ADR 0016)
        auto t = table::sessions_mapping::create(name, o);
        cp::flow_registry reg(*t, 0);
        std::vector<cp::api::flow_spec> specs;
        for (const auto& f : req["flows"]) specs.push_back(std::move(cp::api::parse_flow(f, "f").value()));
        state.ResumeTiming();
        benchmark::DoNotOptimize(reg.add(std::move(specs)));
    }
    (void)table::unlink_shm(name);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
}

void BM_ServiceHandle(benchmark::State& state) {
    const std::string name = "srtpo-bench-svc-" + std::to_string(::getpid());
    const json req = json::parse(batch_line());
    cp::set_log_level(cp::log_level::err);
    for (auto _ : state) {
        state.PauseTiming();
        (void)table::unlink_shm(name);
        table::sessions_options o;
        o.capacity = batch;
        o.prefault = true;
        auto t = table::sessions_mapping::create(name, o);
        cp::flow_registry reg(*t, 0);
        cp::config cfg;
        cp::api_service svc(reg, *t, cfg);
        state.ResumeTiming();
        auto r = svc.handle(req, {});
        benchmark::DoNotOptimize(r.dump());
    }
    (void)table::unlink_shm(name);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
}

} // namespace

BENCHMARK(BM_ServiceHandle)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseFlow)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BatchReadAndParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildSlot)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RegistryAdd)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
