#pragma once
// CPU time of the calling thread spent inside chosen calls, for benchmarks that run two protocol
// endpoints in one thread and report each one's share (dtls_handshake_bench, zrtp_exchange_bench).
// Thread CPU time, not wall time: on a shared machine a wall clock would also count the time
// other processes ran. Each reading is a clock_gettime system call (well under 1 µs); `calls`
// counts the metered calls so the overhead can be judged against the benchmark's own CPU column.
// Thread-safety: one meter per thread. Ownership: a value type.
#include <chrono>
#include <ctime>
#include <type_traits>

namespace srtpo::bench {

struct cpu_meter {
    std::chrono::nanoseconds spent{};
    long calls = 0;

    static std::chrono::nanoseconds cpu_now() {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }
    /// Runs f(), adds the thread CPU time it took to `spent`, and returns what f returned.
    template <class F> auto operator()(F&& f) {
        ++calls;
        const auto t0 = cpu_now();
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            spent += cpu_now() - t0;
        } else {
            auto r = f();
            spent += cpu_now() - t0;
            return r;
        }
    }
};

} // namespace srtpo::bench
