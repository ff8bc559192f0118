// Mappings: creation, permissions, the writer lock, every header check of attach(), read-only
// enforcement for readers, and capacity at 1 048 576.

#include "table_test_util.hpp"

#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace srtpo::table {
namespace {

using test::shm_name;

// Overwrites bytes of a shm file behind the mapping's back (as a foreign or buggy writer would).
template <class T>
void poke(const std::string& name, std::size_t offset, T value) {
    const int fd = shm_open(name.c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0) << strerror(errno);
    ASSERT_EQ(pwrite(fd, &value, sizeof value, static_cast<off_t>(offset)), static_cast<ssize_t>(sizeof value));
    close(fd);
}
void resize(const std::string& name, off_t size) {
    const int fd = shm_open(name.c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, size), 0);
    close(fd);
}
mode_t file_mode(const std::string& name) {
    const int fd = shm_open(name.c_str(), O_RDONLY, 0);
    struct stat st{};
    fstat(fd, &st);
    close(fd);
    return st.st_mode & 07777;
}

/// The permissions column of /proc/self/maps for the mapping that starts at `p`.
std::string maps_perms(const void* p) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    const auto want = reinterpret_cast<uintptr_t>(p);
    while (std::getline(maps, line)) {
        std::istringstream ls(line);
        std::string range, perms;
        ls >> range >> perms;
        const auto dash = range.find('-');
        if (std::stoull(range.substr(0, dash), nullptr, 16) == want) return perms;
    }
    return "?";
}

::testing::AssertionResult refused(const result<sessions_mapping>& r, const std::string& needle) {
    if (r) return ::testing::AssertionFailure() << "attach succeeded, expected an error containing '" << needle << "'";
    if (r.err().message.find(needle) == std::string::npos)
        return ::testing::AssertionFailure() << "error '" << r.err().message << "' lacks '" << needle << "'";
    return ::testing::AssertionSuccess() << r.err().message;
}
::testing::AssertionResult refused(const result<status_mapping>& r, const std::string& needle) {
    if (r) return ::testing::AssertionFailure() << "attach succeeded, expected an error containing '" << needle << "'";
    if (r.err().message.find(needle) == std::string::npos)
        return ::testing::AssertionFailure() << "error '" << r.err().message << "' lacks '" << needle << "'";
    return ::testing::AssertionSuccess() << r.err().message;
}

TEST(Names, Normalize) {
    EXPECT_EQ(*normalize_shm_name("srtpo"), "/srtpo");
    EXPECT_EQ(*normalize_shm_name("/srtpo.sessions"), "/srtpo.sessions");
    EXPECT_FALSE(normalize_shm_name(""));
    EXPECT_FALSE(normalize_shm_name("/"));
    EXPECT_FALSE(normalize_shm_name("/a/b"));
    EXPECT_FALSE(normalize_shm_name(".."));
    EXPECT_FALSE(normalize_shm_name(std::string(300, 'x')));
}

TEST(Sessions, CreateWritesHeaderAndAttachSeesIt) {
    shm_name n("create");
    auto w = sessions_mapping::create(n, 1000);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_TRUE(w->writable());
    EXPECT_EQ(w->capacity(), 1000u);

    auto r = sessions_mapping::attach(n, {1000});
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_FALSE(r->writable());
    const table_header& h = r->header();
    EXPECT_EQ(h.magic, sessions_magic);
    EXPECT_EQ(h.abi_version, abi_version);
    EXPECT_EQ(h.header_size, sizeof(table_header));
    EXPECT_EQ(h.slot_size, 448u);
    EXPECT_EQ(h.n_slots, 1000u);
    EXPECT_EQ(h.doorbell_size, default_doorbell_size);
    EXPECT_EQ(h.hdrext_size, 0u);
    const auto l = layout_of(1000, default_doorbell_size, false);
    EXPECT_EQ(h.slots_offset, l.slots_offset);
    EXPECT_EQ(h.doorbell_offset, l.doorbell_offset);
    EXPECT_EQ(h.total_size, l.total_size);
    EXPECT_EQ(r->file().size(), l.total_size);
    EXPECT_NE(h.instance_id, 0u);
    EXPECT_EQ(h.instance_id, w->instance_id());
    EXPECT_EQ(load_word(h.writer_pid, std::memory_order_relaxed), static_cast<uint64_t>(getpid()));
    EXPECT_EQ(r->slot(0).words[0], 0u);
}

TEST(Sessions, PermissionsAre0600WhateverTheUmask) {
    shm_name n("perm");
    const mode_t old = umask(0);
    auto w = sessions_mapping::create(n, 16);
    umask(old);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_EQ(file_mode(n), 0600u);
    EXPECT_EQ(w->file().file_mode(), 0600u);

    shm_name n2("perm640");
    sessions_options o;
    o.capacity = 16;
    o.mode = 0640;
    ASSERT_TRUE(sessions_mapping::create(n2, o));
    EXPECT_EQ(file_mode(n2), 0640u);

    shm_name n3("perm644");
    o.mode = 0644; // keys readable by everyone: refused
    auto bad = sessions_mapping::create(n3, o);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("0644"), std::string::npos) << bad.err().message;
}

TEST(Sessions, CreateOptionsValidated) {
    shm_name n("opts");
    EXPECT_NE(sessions_mapping::create(n, 0).err().message.find("capacity 0"), std::string::npos);
    EXPECT_FALSE(sessions_mapping::create(n, max_capacity + 1));
    sessions_options o;
    o.capacity = 16;
    o.doorbell_size = 1000;
    auto r = sessions_mapping::create(n, o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("doorbell_size 1000"), std::string::npos);
}

TEST(Sessions, SingleWriter) {
    shm_name n("single");
    auto w = sessions_mapping::create(n, 16);
    ASSERT_TRUE(w);
    auto again = sessions_mapping::create(n, 16);
    ASSERT_FALSE(again);
    EXPECT_NE(again.err().message.find("already exists"), std::string::npos) << again.err().message;
    auto second = sessions_mapping::reopen(n);
    ASSERT_FALSE(second);
    EXPECT_NE(second.err().message.find("already open for writing"), std::string::npos) << second.err().message;
    *w = sessions_mapping{}; // the writer goes away (as kill -9 would: the flock dies with the fd)
    auto reopened = sessions_mapping::reopen(n);
    ASSERT_TRUE(reopened) << reopened.err().message;
    EXPECT_TRUE(reopened->writable());
}

TEST(Sessions, OwnerCheck) {
    shm_name n("owner");
    ASSERT_TRUE(sessions_mapping::create(n, 16));
    EXPECT_TRUE(sessions_mapping::attach(n, {16, geteuid()}));
    EXPECT_TRUE(refused(sessions_mapping::attach(n, {0, geteuid() + 1}),
                        "is owned by uid " + std::to_string(geteuid()) + ", expected uid " + std::to_string(geteuid() + 1)));
    shm_name s("owner-status");
    ASSERT_TRUE(status_mapping::create(s, 16));
    EXPECT_TRUE(refused(status_mapping::attach(s, {0, geteuid() + 1}), "is owned by uid"));
}

TEST(Sessions, AttachMissing) {
    auto r = sessions_mapping::attach("/srtpo-test-does-not-exist");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, errc::io_error);
    EXPECT_NE(r.err().message.find("No such file"), std::string::npos) << r.err().message;
}

// Each mismatch is refused with a message that names the field, its value and the expectation.
class SessionsMismatch : public ::testing::Test {
protected:
    shm_name n{"mismatch"};
    void SetUp() override {
        auto w = sessions_mapping::create(n, 64);
        ASSERT_TRUE(w);
        // Keep the writer mapping alive? No: these tests play a foreign writer with pwrite.
        ASSERT_TRUE(sessions_mapping::attach(n, {64}));
    }
};

TEST_F(SessionsMismatch, Magic) {
    poke<uint64_t>(n, offsetof(table_header, magic), 0x1122334455667788ull);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "has magic 0x1122334455667788, expected 0x5345534f50545253"));
}
TEST_F(SessionsMismatch, MagicZeroMeansNotInitialised) {
    poke<uint64_t>(n, offsetof(table_header, magic), 0);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "not initialised"));
}
TEST_F(SessionsMismatch, StatusRegionGivenAsSessions) {
    shm_name s("mm-status");
    ASSERT_TRUE(status_mapping::create(s, 64));
    EXPECT_TRUE(refused(sessions_mapping::attach(s), "is a status region, not a sessions region"));
}
TEST_F(SessionsMismatch, AbiVersion) {
    poke<uint32_t>(n, offsetof(table_header, abi_version), 7);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "ABI version 7, this build speaks version 1"));
}
TEST_F(SessionsMismatch, HeaderSize) {
    poke<uint32_t>(n, offsetof(table_header, header_size), 128);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "header_size is 128, expected 192"));
}
TEST_F(SessionsMismatch, SlotSize) {
    poke<uint32_t>(n, offsetof(table_header, slot_size), 512);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "slot_size is 512, expected 448"));
}
TEST_F(SessionsMismatch, CapacityExpected) {
    EXPECT_TRUE(refused(sessions_mapping::attach(n, {65536}), "capacity is 64, expected 65536"));
}
TEST_F(SessionsMismatch, CapacityChangedInHeader) {
    poke<uint32_t>(n, offsetof(table_header, n_slots), 65);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "doorbell_offset is"));
    poke<uint32_t>(n, offsetof(table_header, n_slots), 0);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "n_slots is 0"));
    poke<uint32_t>(n, offsetof(table_header, n_slots), max_capacity + 1);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "n_slots is 16777217"));
}
TEST_F(SessionsMismatch, DoorbellSize) {
    poke<uint32_t>(n, offsetof(table_header, doorbell_size), 1000);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "doorbell_size is 1000"));
}
TEST_F(SessionsMismatch, HdrextSize) {
    poke<uint32_t>(n, offsetof(table_header, hdrext_size), 128);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "hdrext_size is 128"));
}
TEST_F(SessionsMismatch, Offsets) {
    poke<uint64_t>(n, offsetof(table_header, slots_offset), 8192);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "slots_offset is 8192, expected 4096"));
}
TEST_F(SessionsMismatch, TotalSize) {
    poke<uint64_t>(n, offsetof(table_header, total_size), 1u << 30);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "total_size is 1073741824"));
}
TEST_F(SessionsMismatch, TruncatedFile) {
    const auto l = layout_of(64, default_doorbell_size, false);
    resize(n, static_cast<off_t>(l.total_size - 4096));
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "(truncated)"));
    resize(n, 100); // not even a header
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "is 100 bytes, smaller than the 192-byte sessions header"));
    resize(n, 0);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "is 0 bytes"));
}
TEST_F(SessionsMismatch, LargerFile) {
    const auto l = layout_of(64, default_doorbell_size, false);
    resize(n, static_cast<off_t>(l.total_size + 4096));
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "but its header says"));
}
TEST_F(SessionsMismatch, GroupWritable) {
    const int fd = shm_open(n.c_str(), O_RDONLY, 0);
    ASSERT_EQ(fchmod(fd, 0620), 0);
    close(fd);
    EXPECT_TRUE(refused(sessions_mapping::attach(n), "writable by group or others"));
}
TEST_F(SessionsMismatch, ReopenChecksToo) {
    poke<uint32_t>(n, offsetof(table_header, slot_size), 512);
    EXPECT_TRUE(refused(sessions_mapping::reopen(n), "slot_size is 512, expected 448"));
}

TEST(Status, CreateAttachAndMismatches) {
    shm_name n("status");
    auto w = status_mapping::create(n, 100);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_EQ(file_mode(n), 0600u);
    auto r = status_mapping::attach(n, {100});
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_FALSE(r->writable());
    EXPECT_EQ(r->header().entry_size, 64u);
    EXPECT_EQ(r->header().entries_offset, 4096u);
    EXPECT_EQ(r->file().size(), status_layout_of(100).total_size);

    EXPECT_TRUE(refused(status_mapping::attach(n, {65536}), "capacity is 100, expected 65536"));
    shm_name s("status-vs-sessions");
    ASSERT_TRUE(sessions_mapping::create(s, 16));
    EXPECT_TRUE(refused(status_mapping::attach(s), "is a sessions region, not a status region"));

    poke<uint32_t>(n, offsetof(status_header, entry_size), 128);
    EXPECT_TRUE(refused(status_mapping::attach(n), "entry_size is 128, expected 64"));
    poke<uint32_t>(n, offsetof(status_header, entry_size), 64);
    poke<uint32_t>(n, offsetof(status_header, abi_version), 2);
    EXPECT_TRUE(refused(status_mapping::attach(n), "ABI version 2"));
    poke<uint32_t>(n, offsetof(status_header, abi_version), abi_version);
    resize(n, 4096);
    EXPECT_TRUE(refused(status_mapping::attach(n), "(truncated)"));
}

// A reader's mapping is PROT_READ: /proc/self/maps says r--s, a store faults, mprotect is refused.
TEST(ReadOnly, ReaderMappingIsReadOnlyAndWriterIsNot) {
    shm_name n("ro");
    auto w = sessions_mapping::create(n, 16);
    ASSERT_TRUE(w);
    auto r = sessions_mapping::attach(n);
    ASSERT_TRUE(r);
    EXPECT_EQ(maps_perms(r->file().data()), "r--s");
    EXPECT_EQ(maps_perms(w->file().data()), "rw-s");
    // The descriptor was O_RDONLY: the reader cannot even upgrade its own mapping.
    EXPECT_NE(mprotect(r->file().data(), r->file().size(), PROT_READ | PROT_WRITE), 0);
    EXPECT_EQ(errno, EACCES);

    shm_name s("ro-status");
    auto sw = status_mapping::create(s, 16);
    ASSERT_TRUE(sw);
    auto sr = status_mapping::attach(s);
    ASSERT_TRUE(sr);
    EXPECT_EQ(maps_perms(sr->file().data()), "r--s");
    EXPECT_EQ(maps_perms(sw->file().data()), "rw-s");
}

extern "C" void on_segv(int, siginfo_t* si, void*) {
    _exit(si->si_code == SEGV_ACCERR ? 77 : 78); // 77: "permission fault", as expected
}

int child_writes_through_reader(const std::string& name, std::size_t offset) {
    const pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa{};
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, nullptr);
        auto r = sessions_mapping::attach(name);
        if (!r) _exit(2);
        auto* p = reinterpret_cast<volatile uint64_t*>(r->file().data() + offset);
        *p = 0xdeadbeef; // must fault
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(ReadOnly, StoreThroughReaderFaultsInChild) {
    shm_name n("segv");
    auto w = sessions_mapping::create(n, 16);
    ASSERT_TRUE(w);
    EXPECT_EQ(child_writes_through_reader(n, 0), 77) << "header store did not fault";
    EXPECT_EQ(child_writes_through_reader(n, w->header().slots_offset), 77) << "slot store did not fault";
    EXPECT_EQ(w->header().magic, sessions_magic);
    EXPECT_EQ(w->slot(0).seq, 0u);
}

TEST(Sessions, ReopenRepairsSlotLeftMidWrite) {
    shm_name n("repair");
    {
        auto w = sessions_mapping::create(n, 8);
        ASSERT_TRUE(w);
        ASSERT_TRUE(w->install(3, test::pattern_slot(1)));
        // Simulate a writer killed inside a write section: seq odd, payload half-written.
        auto* s = reinterpret_cast<session_slot*>(w->file().data() + w->header().slots_offset) + 3;
        (void)seqlock_write_begin(s->seq);
        store_word(s->words[10], 0x5555, std::memory_order_release);
    }
    auto r = sessions_mapping::attach(n);
    ASSERT_TRUE(r);
    slot_data d;
    EXPECT_EQ(r->read(3, d, nullptr, 16), read_outcome::busy);
    const uint64_t epoch = r->resync_epoch();

    auto w = sessions_mapping::reopen(n, {8});
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_EQ(w->repaired(), 1u);
    ASSERT_EQ(r->read(3, d), read_outcome::ok);
    EXPECT_EQ(d.state, slot_state::empty);
    EXPECT_GT(d.generation, 1u);
    for (std::size_t i = 1; i < slot_payload_words; ++i) EXPECT_EQ(r->slot(3).words[i], 0u) << i;
    EXPECT_GT(r->resync_epoch(), epoch); // the pmd is told to rescan
}

TEST(Sessions, OpenOrCreateKeepsFlows) {
    shm_name n("ooc");
    sessions_options o;
    o.capacity = 32;
    uint64_t g = 0;
    {
        auto w = sessions_mapping::open_or_create(n, o);
        ASSERT_TRUE(w) << w.err().message;
        auto r = w->install(5, test::pattern_slot(1));
        ASSERT_TRUE(r);
        g = *r;
    }
    auto w = sessions_mapping::open_or_create(n, o);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_EQ(w->repaired(), 0u);
    slot_data d;
    ASSERT_EQ(w->read(5, d), read_outcome::ok);
    EXPECT_EQ(d.generation, g);
    EXPECT_TRUE(test::is_pattern(d));
    // Generations continue after a restart: never reused within a table.
    auto g2 = w->install(6, test::pattern_slot(g + 1));
    ASSERT_TRUE(g2);
    EXPECT_EQ(*g2, g + 1);

    o.doorbell_size = 1024;
    w = sessions_mapping{};
    auto db = sessions_mapping::open_or_create(n, o);
    ASSERT_FALSE(db);
    EXPECT_NE(db.err().message.find("doorbell_size is 16384, expected 1024"), std::string::npos) << db.err().message;
    o.doorbell_size = default_doorbell_size;
    o.header_ext_keys = true;
    auto hx = sessions_mapping::open_or_create(n, o);
    ASSERT_FALSE(hx);
    EXPECT_NE(hx.err().message.find("created without header-extension records"), std::string::npos) << hx.err().message;
    o.header_ext_keys = false;

    o.capacity = 64; // an existing table of another capacity is not silently reused
    w = sessions_mapping{};
    auto other = sessions_mapping::open_or_create(n, o);
    ASSERT_FALSE(other);
    EXPECT_NE(other.err().message.find("capacity is 32, expected 64"), std::string::npos) << other.err().message;
}

TEST(Status, ReopenKeepsEntries) {
    shm_name n("st-reopen");
    {
        auto w = status_mapping::create(n, 8);
        ASSERT_TRUE(w);
        reset(w->live(2), 42);
        store(w->live(2).in_index, pack_index(7, 1000, 0));
    }
    auto w = status_mapping::open_or_create(n, 8);
    ASSERT_TRUE(w) << w.err().message;
    const auto s = w->load(2);
    EXPECT_EQ(s.generation, 42u);
    EXPECT_EQ(s.in.roc, 7u);
    EXPECT_EQ(s.in.seq, 1000);
    EXPECT_EQ(w->writer_pid(), static_cast<uint64_t>(getpid()));
}

// Issue 5: capacity configurable, tested at 1 048 576. The file is sparse: only touched pages
// cost memory, so this creates ~512 MiB of address space but touches a few pages.
TEST(Sessions, PrefaultAllocatesEveryPageAtCreation) {
    // srtpo-cp creates its table with prefault so installs take no first-touch page faults
    // (ADR 0016): every page of the file must be resident right after create(), and the region
    // must still read as a fresh, empty table.
    const auto resident_pages = [](const sessions_mapping& m) {
        const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        const std::size_t n = (m.file().size() + page - 1) / page;
        std::vector<unsigned char> v(n);
        EXPECT_EQ(mincore(m.file().data(), m.file().size(), v.data()), 0) << std::strerror(errno);
        std::size_t r = 0;
        for (auto c : v) r += c & 1u;
        return std::pair{r, n};
    };
    shm_name plain_name("noprefault");
    auto plain = sessions_mapping::create(plain_name, 4096);
    ASSERT_TRUE(plain) << plain.err().message;
    const auto [pr, pn] = resident_pages(*plain);
    EXPECT_LT(pr, pn / 2) << "without prefault only the touched pages (header) are resident";

    shm_name n("prefault");
    sessions_options o;
    o.capacity = 4096;
    o.prefault = true;
    auto w = sessions_mapping::create(n, o);
    ASSERT_TRUE(w) << w.err().message;
    const auto [r, total] = resident_pages(*w);
    EXPECT_EQ(r, total);
    auto rd = sessions_mapping::attach(n, {4096});
    ASSERT_TRUE(rd) << rd.err().message;
    slot_data d;
    ASSERT_EQ(rd->read(4095, d), read_outcome::ok);
    EXPECT_EQ(d.state, slot_state::empty);
    EXPECT_EQ(rd->peek_generation(4095), 0u);
}

TEST(Capacity, OneMebiFlows) {
    constexpr uint32_t cap = 1u << 20;
    shm_name n("1m");
    shm_name s("1m-status");
    auto w = sessions_mapping::create(n, cap);
    ASSERT_TRUE(w) << w.err().message;
    auto st = status_mapping::create(s, cap);
    ASSERT_TRUE(st) << st.err().message;
    EXPECT_EQ(w->file().size(), 4096u + uint64_t{cap} * 448u + default_doorbell_size * 4u);
    EXPECT_EQ(st->file().size(), 4096u + uint64_t{cap} * 64u);

    auto r = sessions_mapping::attach(n, {cap});
    ASSERT_TRUE(r) << r.err().message;
    auto sr = status_mapping::attach(s, {cap});
    ASSERT_TRUE(sr) << sr.err().message;

    for (uint32_t id : {0u, cap / 2, cap - 1}) {
        auto g = w->install(id, test::pattern_slot(w->header().next_generation + 1));
        ASSERT_TRUE(g) << g.err().message;
        slot_data d;
        ASSERT_EQ(r->read(id, d), read_outcome::ok);
        EXPECT_TRUE(test::is_pattern(d));
        reset(st->live(id), *g);
        EXPECT_EQ(sr->load(id).generation, *g);
    }
    slot_data d;
    EXPECT_EQ(r->read(cap, d), read_outcome::out_of_range);
    ASSERT_TRUE(w->erase(cap - 1));
    ASSERT_EQ(r->read(cap - 1, d), read_outcome::ok);
    EXPECT_EQ(d.state, slot_state::empty);
}

} // namespace
} // namespace srtpo::table
