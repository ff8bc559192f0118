#pragma once
// main() of the benchmarks that run DPDK code in-process: EAL on one lcore without PCI devices,
// on anonymous memory (--no-huge) unless SRTPO_HUGEPAGES is set (then hugepages reserved with
// `echo N > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`), then Google Benchmark.
// Header-only, included by exactly one translation unit per benchmark binary.

#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace srtpo::bench {

/// `name` names the binary and its EAL file prefix; `memory_mb` is EAL's -m.
inline int run_dpdk_benchmarks(int argc, char** argv, const char* name, const char* memory_mb) {
    const std::string prefix = std::string("--file-prefix=srtpo-") + name + "-" + std::to_string(getpid());
    std::vector<std::string> eal = {name, "--no-pci", "-m", memory_mb, "--no-shconf", prefix, "-l", "0", "--log-level=warning",
                                    "--no-telemetry"};
    // On hugepages, the page files are unlinked as soon as they are mapped: without that, each run
    // left its files (and pages) in /dev/hugepages, and the next run silently got too few pages and
    // measured on whatever memory EAL fell back to (docs/PERFORMANCE.md §7).
    eal.insert(eal.begin() + 1, std::getenv("SRTPO_HUGEPAGES") ? "--huge-unlink" : "--no-huge");
    std::vector<char*> eargv;
    for (auto& a : eal) eargv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eargv.size()), eargv.data()) < 0) {
        std::fprintf(stderr, "%s: EAL init failed\n", name);
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_eal_cleanup();
    return 0;
}

} // namespace srtpo::bench
