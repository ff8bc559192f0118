// Index estimation, RFC 3711 §3.3.1 / Appendix A. The uint8_t instantiation crosses a rollover in
// 256 packets, so the wrap logic is exercised exhaustively and cheaply (libsrtp's ROC_TEST idea).

#include <srtpo/engine/roc.hpp>

#include <gtest/gtest.h>

#include <cstdint>

using srtpo::engine::estimate_index;
using srtpo::engine::packet_index;

namespace {

/// Reference: the index in [highest - half, highest + half) congruent to seq, as Appendix A means.
template <class Seq>
int64_t nearest(int64_t highest, Seq seq) {
    constexpr int64_t span = int64_t{std::numeric_limits<Seq>::max()} + 1;
    int64_t base = highest - (highest % span) + seq;
    int64_t best = base;
    for (int64_t c : {base - span, base, base + span})
        if (std::llabs(c - highest) < std::llabs(best - highest) ||
            (std::llabs(c - highest) == std::llabs(best - highest) && c < best))
            best = c;
    return best;
}

TEST(roc, small_sequence_space_every_pair) {
    // For every highest index over 3 rollovers and every seq: estimate = nearest index, except
    // that there is no index below 0 (ROC 0 cannot guess ROC - 1).
    for (int64_t highest = 0; highest < 256 * 3; ++highest) {
        const auto roc = static_cast<uint32_t>(highest / 256);
        const auto s_l = static_cast<uint8_t>(highest % 256);
        for (int s = 0; s < 256; ++s) {
            const auto seq = static_cast<uint8_t>(s);
            const auto g = estimate_index<uint8_t>(roc, s_l, seq);
            const int64_t got = int64_t{g.roc} * 256 + seq;
            int64_t want = nearest<uint8_t>(highest, seq);
            if (want < 0) want += 256;
            // Appendix A's tie (exactly half away) goes to the newer side when s_l is in the
            // lower half and to the older side otherwise; both are RFC behaviour.
            if (std::llabs(got - highest) == 128) continue;
            ASSERT_EQ(got, want) << "highest=" << highest << " seq=" << s;
            ASSERT_EQ(g.delta, got - highest);
        }
    }
}

TEST(roc, sixteen_bit_wrap_and_reorder) {
    // In order across the wrap: 65535 (ROC 0) then 0 → ROC 1.
    auto g = estimate_index<uint16_t>(0, 65535, 0);
    EXPECT_EQ(g.roc, 1u);
    EXPECT_EQ(g.delta, 1);
    // A late packet from before the wrap, after we moved to ROC 1: keeps ROC 0.
    g = estimate_index<uint16_t>(1, 2, 65534);
    EXPECT_EQ(g.roc, 0u);
    EXPECT_EQ(g.delta, -4);
    // Far ahead but within half the space: same ROC.
    g = estimate_index<uint16_t>(7, 100, 30000);
    EXPECT_EQ(g.roc, 7u);
    EXPECT_EQ(g.delta, 29900);
    // ROC 0 never guesses -1.
    g = estimate_index<uint16_t>(0, 10, 60000);
    EXPECT_EQ(g.roc, 0u);
    EXPECT_EQ(g.delta, 59990);
    EXPECT_EQ(packet_index(3, 0x1234), 0x31234u);
}

} // namespace
