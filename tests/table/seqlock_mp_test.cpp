// Multi-process seqlock stress (issue 5): one writer process rewrites slots while three reader
// processes, each with its own read-only mapping, copy them through the seqlock for ~2 s. No torn
// copy may ever be accepted. Children are stopped by PID, the shm name is always unlinked, and a
// watchdog bounds the run.

#include "stress_common.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace srtpo::table {
namespace {

using test::shm_name;
using clock_type = std::chrono::steady_clock;

/// Waits for `pid` until `deadline`; kills it (by PID) if it is still running then.
/// Returns the wait status, or -1 if it had to be killed.
int wait_or_kill(pid_t pid, clock_type::time_point deadline) {
    int status = 0;
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (clock_type::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

TEST(SeqlockStress, ProcessesNeverAcceptATornCopy) {
    shm_name n("stress-mp");
    constexpr uint32_t slots = 8;
    constexpr int n_readers = 3;
    const auto duration = test::stress_duration(2000);
    auto w = sessions_mapping::create(n, slots);
    ASSERT_TRUE(w);

    // Writer process: inherits the read-write mapping; rewrites until it is killed.
    const pid_t writer = fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) {
        uint64_t writes = 0;
        const bool ok = test::write_until(*w, slots, [] { return false; }, writes);
        _exit(ok ? 0 : 3);
    }

    // Reader processes: attach their own PROT_READ mapping, report through a pipe.
    struct reader_proc {
        pid_t pid;
        int fd;
    };
    std::vector<reader_proc> readers;
    for (int i = 0; i < n_readers; ++i) {
        int p[2];
        ASSERT_EQ(pipe(p), 0);
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(p[0]);
            auto r = sessions_mapping::attach(n, {slots});
            if (!r) _exit(2);
            const auto s = test::read_until<clock_type>(*r, slots, clock_type::now() + duration, 77 + i);
            const bool wrote = write(p[1], &s, sizeof s) == static_cast<ssize_t>(sizeof s);
            _exit(wrote && s.torn_accepted == 0 ? 0 : 1);
        }
        close(p[1]);
        readers.push_back({pid, p[0]});
    }

    const auto deadline = clock_type::now() + duration + std::chrono::seconds(8);
    uint64_t total_accepted = 0;
    for (auto& r : readers) {
        test::reader_stats s{};
        const ssize_t got = read(r.fd, &s, sizeof s);
        close(r.fd);
        const int status = wait_or_kill(r.pid, deadline);
        EXPECT_NE(status, -1) << "reader " << r.pid << " hung and was killed";
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader exit status " << status;
        ASSERT_EQ(got, static_cast<ssize_t>(sizeof s));
        EXPECT_EQ(s.torn_accepted, 0u) << "a torn copy was accepted";
        EXPECT_GT(s.accepted, 0u);
        EXPECT_GT(s.generations, 1u);
        total_accepted += s.accepted;
        std::printf("reader %d: accepted %llu, rejected %llu (of which really torn %llu), generation changes %llu\n",
                    static_cast<int>(r.pid), static_cast<unsigned long long>(s.accepted),
                    static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.rejected_torn),
                    static_cast<unsigned long long>(s.generations));
    }

    // Stop the writer by PID. It may die inside a write section: that is the crash case too.
    ASSERT_EQ(kill(writer, SIGTERM), 0);
    const int ws = wait_or_kill(writer, clock_type::now() + std::chrono::seconds(5));
    EXPECT_TRUE(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM) << "writer ended early, status " << ws;
    const uint64_t writes = w->header().next_generation;
    std::printf("writer: %llu installs; readers accepted %llu copies\n", static_cast<unsigned long long>(writes),
                static_cast<unsigned long long>(total_accepted));
    EXPECT_GT(writes, 1000u);

    // A restarted writer repairs the slot the killed one may have left mid-write; afterwards
    // every slot reads back whole.
    *w = sessions_mapping{};
    auto again = sessions_mapping::reopen(n, {slots});
    ASSERT_TRUE(again) << again.err().message;
    EXPECT_LE(again->repaired(), 1u);
    for (uint32_t id = 0; id < slots; ++id) {
        slot_data d;
        ASSERT_EQ(again->read(id, d, nullptr, 1), read_outcome::ok) << id;
        EXPECT_TRUE(d.state == slot_state::empty || test::is_pattern(d)) << id;
    }
}

} // namespace
} // namespace srtpo::table
