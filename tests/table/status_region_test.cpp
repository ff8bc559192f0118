// Status region: the pmd's per-flow words as a read-only reader in another mapping sees them.

#include "table_test_util.hpp"

#include <srtpo/table/mapping.hpp>
#include <srtpo/table/status_region.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace srtpo::table {
namespace {

using test::shm_name;

TEST(StatusRegion, OwnerWritesReaderSees) {
    shm_name n("live");
    auto pmd = status_mapping::create(n, 32);
    ASSERT_TRUE(pmd) << pmd.err().message;
    auto ctl = status_mapping::attach(n, {32});
    ASSERT_TRUE(ctl) << ctl.err().message;

    live_state& e = pmd->live(7);
    reset(e, 1234);
    store(e.in_index, pack_index(3, 65000, pressure::srtp_soft));
    store(e.out_index, pack_index(3, 64999, 0));
    store(e.srtcp_index, pack_srtcp({true, 77, true, 12}));
    add(e.packets, 10);
    add(e.packets, 5);
    add(e.octets, 1500);
    add(e.auth_fail, 2);
    add(e.replay_drop, 1);

    const live_snapshot s = ctl->load(7);
    EXPECT_EQ(s.generation, 1234u);
    EXPECT_TRUE(s.in.valid);
    EXPECT_EQ(s.in.roc, 3u);
    EXPECT_EQ(s.in.seq, 65000);
    EXPECT_EQ(s.in.packet_index(), (uint64_t{3} << 16) + 65000);
    EXPECT_EQ(s.in.pressure, pressure::srtp_soft);
    EXPECT_EQ(s.out.seq, 64999);
    EXPECT_EQ(s.srtcp.in_index, 77u);
    EXPECT_EQ(s.srtcp.out_index, 12u);
    EXPECT_EQ(s.packets, 15u);
    EXPECT_EQ(s.octets, 1500u);
    EXPECT_EQ(s.auth_fail, 2u);
    EXPECT_EQ(s.replay_drop, 1u);

    const live_snapshot other = ctl->load(8);
    EXPECT_EQ(other.generation, 0u);
    EXPECT_FALSE(other.in.valid);

    // A new generation of the slot starts from zero.
    reset(e, 1300);
    const live_snapshot s2 = ctl->load(7);
    EXPECT_EQ(s2.generation, 1300u);
    EXPECT_FALSE(s2.in.valid);
    EXPECT_EQ(s2.packets, 0u);
}

TEST(StatusRegion, HeartbeatAndPid) {
    shm_name n("hb");
    auto pmd = status_mapping::create(n, 4);
    ASSERT_TRUE(pmd);
    auto ctl = status_mapping::attach(n);
    ASSERT_TRUE(ctl);
    EXPECT_EQ(ctl->last_heartbeat(), 0u);
    pmd->heartbeat(123456789);
    EXPECT_EQ(ctl->last_heartbeat(), 123456789u);
    ctl->heartbeat(1); // a reader's call is ignored (and would fault otherwise)
    EXPECT_EQ(ctl->last_heartbeat(), 123456789u);
    EXPECT_EQ(ctl->writer_pid(), static_cast<uint64_t>(getpid()));
}

// Survives the writer: a "killed" pmd's entries are there for the next one (ROC resumption).
TEST(StatusRegion, EntriesSurviveWriterDeath) {
    shm_name n("survive");
    auto first = status_mapping::create(n, 4);
    ASSERT_TRUE(first);
    first = status_mapping{}; // release: the child becomes the writer
    const pid_t pid = fork();
    if (pid == 0) {
        auto pmd = status_mapping::reopen(n);
        if (!pmd) _exit(2);
        reset(pmd->live(1), 99);
        store(pmd->live(1).in_index, pack_index(0x10, 0x20, 0));
        _exit(0); // no clean-up: like a crash, the mapping simply goes away
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto next = status_mapping::reopen(n, {4});
    ASSERT_TRUE(next) << next.err().message; // the dead writer's lock is gone
    const auto s = next->load(1);
    EXPECT_EQ(s.generation, 99u);
    EXPECT_EQ(s.in.roc, 0x10u);
    EXPECT_EQ(s.in.seq, 0x20);
}

} // namespace
} // namespace srtpo::table
