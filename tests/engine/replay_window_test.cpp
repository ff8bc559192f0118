// Replay window edges (RFC 3711 §3.3.2): check is read-only, commit slides.

#include <srtpo/engine/replay_window.hpp>

#include <gtest/gtest.h>

#include <vector>

using srtpo::engine::replay_verdict;
using srtpo::engine::replay_window;

namespace {

struct window_fixture {
    std::vector<uint64_t> bits;
    replay_window w;
    explicit window_fixture(uint32_t size) : bits((std::bit_ceil(size) + 63) / 64), w(bits, size) {}
};

class replay : public ::testing::TestWithParam<uint32_t> {};

TEST_P(replay, edges) {
    const uint32_t size = GetParam();
    window_fixture f(size);
    auto& w = f.w;
    w.reset(1000);
    EXPECT_EQ(w.check(0), replay_verdict::duplicate);
    EXPECT_EQ(w.check(1), replay_verdict::fresh);
    // The oldest index still inside the window, and the first one outside it.
    EXPECT_EQ(w.check(-static_cast<int64_t>(size) + 1), replay_verdict::fresh);
    EXPECT_EQ(w.check(-static_cast<int64_t>(size)), replay_verdict::too_old);
    // check() is read-only.
    EXPECT_EQ(w.check(-5), replay_verdict::fresh);
    EXPECT_EQ(w.check(-5), replay_verdict::fresh);
    w.commit(-5);
    EXPECT_EQ(w.check(-5), replay_verdict::duplicate);
    EXPECT_EQ(w.highest(), 1000u);
    // Slide by one: old entries keep their bits.
    w.commit(1);
    EXPECT_EQ(w.highest(), 1001u);
    EXPECT_EQ(w.check(-6), replay_verdict::duplicate);
    EXPECT_EQ(w.check(-1), replay_verdict::duplicate);
    // Slide by more than the window: everything before is forgotten (too old).
    w.commit(static_cast<int64_t>(size) + 10);
    EXPECT_EQ(w.check(-1), replay_verdict::fresh);
    EXPECT_EQ(w.check(-static_cast<int64_t>(size) + 1), replay_verdict::fresh);
    EXPECT_EQ(w.check(0), replay_verdict::duplicate);
}

TEST_P(replay, sliding_keeps_exactly_the_window) {
    const uint32_t size = GetParam();
    window_fixture f(size);
    f.w.reset(0);
    // Accept every other index for a while; then all accepted within the window are duplicates.
    for (uint64_t i = 2; i < 4 * size; i += 2) f.w.commit(2);
    const uint64_t hi = f.w.highest();
    for (uint64_t back = 0; back < size + 4; ++back) {
        const auto v = f.w.check(-static_cast<int64_t>(back));
        if (back >= size) EXPECT_EQ(v, replay_verdict::too_old) << back;
        else if ((hi - back) % 2 == 0) EXPECT_EQ(v, replay_verdict::duplicate) << back;
        else EXPECT_EQ(v, replay_verdict::fresh) << back;
    }
}

INSTANTIATE_TEST_SUITE_P(sizes, replay, ::testing::Values(64u, 96u, 128u, 1024u, 32768u));

} // namespace
