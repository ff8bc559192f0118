// Seqlock: protocol unit tests, and the thread-based stress variant (one writer thread, three
// reader threads on the same mapping), which is the one ThreadSanitizer can check: TSan sees
// neither another process nor a second mapping of the same file.

#include "stress_common.hpp"

#include <srtpo/table/seqlock.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace srtpo::table {
namespace {

using test::shm_name;

TEST(Seqlock, ProtocolSteps) {
    uint64_t seq = 0;
    std::array<uint64_t, 4> words{};
    const std::array<uint64_t, 4> a{1, 2, 3, 4};
    std::array<uint64_t, 4> out{};

    uint64_t token;
    ASSERT_TRUE(seqlock_read_begin(seq, token));
    EXPECT_EQ(token, 0u);

    const uint64_t odd = seqlock_write_begin(seq);
    EXPECT_EQ(odd, 1u);
    EXPECT_FALSE(seqlock_read_begin(seq, token)) << "odd: a write is in progress";
    seqlock_store_words(words, a.data());
    EXPECT_FALSE(seqlock_try_copy(seq, words, out.data()));
    seqlock_write_end(seq, odd);
    EXPECT_EQ(seq, 2u);
    ASSERT_TRUE(seqlock_try_copy(seq, words, out.data()));
    EXPECT_EQ(out, a);

    // A write that starts and ends during a copy still invalidates it.
    ASSERT_TRUE(seqlock_read_begin(seq, token));
    seqlock_load_words(words, out.data());
    seqlock_write_end(seq, seqlock_write_begin(seq));
    EXPECT_FALSE(seqlock_read_valid(seq, token));

    // A writer that died mid-section left seq odd; the next writer finishes at the next even.
    seq = 7;
    const uint64_t again = seqlock_write_begin(seq);
    EXPECT_EQ(again, 7u);
    seqlock_zero_words(words);
    seqlock_write_end(seq, again);
    EXPECT_EQ(seq, 8u);
    ASSERT_TRUE(seqlock_try_copy(seq, words, out.data()));
    EXPECT_EQ(out, (std::array<uint64_t, 4>{}));
}

TEST(Seqlock, TwoRangesUnderOneSequence) {
    uint64_t seq = 0;
    std::array<uint64_t, 2> a{}, b{};
    const std::array<uint64_t, 2> va{5, 6}, vb{7, 8};
    const uint64_t odd = seqlock_write_begin(seq);
    seqlock_store_words(a, va.data());
    seqlock_store_words(b, vb.data());
    seqlock_write_end(seq, odd);
    std::array<uint64_t, 2> oa{}, ob{};
    ASSERT_TRUE(seqlock_try_copy(seq, a, oa.data(), b, ob.data()));
    EXPECT_EQ(oa, va);
    EXPECT_EQ(ob, vb);
}

// The torn-copy detector the stress tests rely on does catch a mixed copy.
TEST(Seqlock, DetectorFlagsAMixedCopy) {
    const slot_data a = test::pattern_slot(41);
    const slot_data b = test::pattern_slot(42);
    EXPECT_TRUE(test::is_pattern(a));
    EXPECT_TRUE(test::is_pattern(b));
    for (std::size_t w = 1; w < slot_payload_words; ++w) { // any single word from another generation
        slot_data m = a;
        std::memcpy(reinterpret_cast<std::byte*>(&m) + w * 8, reinterpret_cast<const std::byte*>(&b) + w * 8, 8);
        EXPECT_FALSE(test::is_pattern(m)) << "word " << w;
    }
    slot_data g = b;
    g.generation = 41; // generation word from one write, payload from another
    EXPECT_FALSE(test::is_pattern(g));
}

TEST(SeqlockStress, ThreadsNeverAcceptATornCopy) {
    using clock = std::chrono::steady_clock;
    shm_name n("stress-threads");
    constexpr uint32_t slots = 8; // few slots: readers and the writer collide constantly
    auto w = sessions_mapping::create(n, slots);
    ASSERT_TRUE(w);
    const auto until = clock::now() + test::stress_duration(1000);

    std::atomic<bool> stop{false};
    uint64_t writes = 0;
    bool writer_ok = true;
    std::thread writer([&] { writer_ok = test::write_until(*w, slots, [&] { return stop.load(std::memory_order_relaxed); }, writes); });
    std::vector<test::reader_stats> stats(3);
    std::vector<std::thread> readers;
    for (std::size_t i = 0; i < stats.size(); ++i)
        readers.emplace_back([&, i] { stats[i] = test::read_until<clock>(*w, slots, until, 1000 + i); });
    for (auto& t : readers) t.join();
    stop = true;
    writer.join();

    EXPECT_TRUE(writer_ok);
    EXPECT_GT(writes, 100u);
    for (const auto& s : stats) {
        EXPECT_EQ(s.torn_accepted, 0u);
        EXPECT_GT(s.accepted, 0u);
        EXPECT_GT(s.generations, 1u) << "the reader must have seen the writer's progress";
        RecordProperty("accepted", std::to_string(s.accepted));
        std::printf("reader: accepted %llu, rejected %llu (of which really torn %llu), generation changes %llu\n",
                    static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.rejected),
                    static_cast<unsigned long long>(s.rejected_torn), static_cast<unsigned long long>(s.generations));
    }
    std::printf("writer: %llu installs\n", static_cast<unsigned long long>(writes));
}

} // namespace
} // namespace srtpo::table
