#pragma once
// srtpo-cp as a child process of a benchmark: its own session table (shm) and control socket,
// started on construction, stopped (SIGTERM) and its table unlinked on destruction. Benchmark
// set-up only (forks, allocates). SRTPO_CP names the binary (default control-plane/srtpo-cp);
// SRTPO_CP_CPU=N pins it to CPU N (the benchmark's own affinity is inherited otherwise).

#include <srtpo/cp/api/client.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace srtpo::bench {

struct cp_process {
    pid_t pid = -1;
    std::string table, sock;

    /// Starts srtpo-cp with a table of `capacity` slots; waits up to 5 s for its socket. `ok()`
    /// says whether it came up.
    explicit cp_process(uint32_t capacity) {
        const char* cp = std::getenv("SRTPO_CP");
        if (!cp) cp = "control-plane/srtpo-cp";
        table = "srtpo-bench-" + std::to_string(::getpid());
        sock = "/tmp/srtpo-bench-" + std::to_string(::getpid()) + ".sock";
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a benchmark that dies takes srtpo-cp with it
            std::freopen("/dev/null", "w", stdout);
            if (const char* cpu = std::getenv("SRTPO_CP_CPU")) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(std::atoi(cpu), &set);
                ::sched_setaffinity(0, sizeof set, &set);
            }
            const std::string cap = std::to_string(capacity);
            ::execl(cp, cp, "--table", table.c_str(), "--socket", sock.c_str(), "--capacity", cap.c_str(), nullptr);
            std::_Exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (cp::api::client::connect(sock)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~cp_process() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
        ::unlink(("/dev/shm/" + table).c_str());
    }
    cp_process(const cp_process&) = delete;
    cp_process& operator=(const cp_process&) = delete;
};

} // namespace srtpo::bench
