#pragma once
// Confines `perf record` to a benchmark's timed region, so that set-up (session creation, packet
// generation) does not drown the data path in the profile.
//
//   mkfifo /tmp/ctl
//   perf record -e cpu-clock -D -1 --control=fifo:/tmp/ctl -o perf.data -- env SRTPO_PERF_CTL=/tmp/ctl BENCH
//
// (BENCH: e.g. build/bench/pmd_worker_bench --benchmark_filter=...)
//
// perf starts disabled (-D -1); the benchmark writes "enable" before its timed loop and "disable"
// after it. Without SRTPO_PERF_CTL it does nothing. Thread-safety: one benchmark thread only.

#include <cstdio>
#include <cstdlib>

namespace srtpo::bench {

class perf_window {
public:
    perf_window() {
        if (const char* p = std::getenv("SRTPO_PERF_CTL"); p && *p) _f = std::fopen(p, "w");
        send("enable\n");
    }
    ~perf_window() {
        send("disable\n");
        if (_f) std::fclose(_f);
    }
    perf_window(const perf_window&) = delete;
    perf_window& operator=(const perf_window&) = delete;

private:
    void send(const char* cmd) noexcept {
        if (!_f) return;
        std::fputs(cmd, _f);
        std::fflush(_f);
    }
    std::FILE* _f = nullptr;
};

} // namespace srtpo::bench
