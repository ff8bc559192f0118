// session_rt::hot_runs, the list engine::prefetch_session asks for (ADR 0023): every hot line
// lies inside the active key's SRTP expanded block (so a prefetch never reaches past it, and a
// layout change that moved the block would fail here), it follows the active key, and a backend
// without a line list gives none. A prefetch changes no result: a burst after it is unchanged.

#include "session_impl.hpp"

#include <srtpo/engine/backend.hpp>
#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

using namespace srtpo::engine;

namespace {

std::vector<std::byte> bytes(std::size_t n, uint8_t seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(seed + 7 * i);
    return v;
}

/// Two keys with one-octet MKIs, so that the active key can change.
session_ptr make(suite s, backend_kind be, direction d = direction::protect) {
    const auto& t = traits(s);
    static const auto k1 = bytes(32, 1), s1 = bytes(14, 2), k2 = bytes(32, 3), s2 = bytes(14, 4);
    static const std::array<std::byte, 1> m1{std::byte{1}}, m2{std::byte{2}};
    session_config c;
    c.s = s;
    c.dir = d;
    c.backend = be;
    c.keys.resize(2);
    c.keys[0].key = {k1.data(), t.master_key_len};
    c.keys[0].salt = {s1.data(), t.master_salt_len};
    c.keys[0].mki = m1;
    c.keys[1].key = {k2.data(), t.master_key_len};
    c.keys[1].salt = {s2.data(), t.master_salt_len};
    c.keys[1].mki = m2;
    auto r = make_session(c);
    EXPECT_TRUE(r) << (r ? "" : r.err().message);
    return r ? std::move(r.value()) : nullptr;
}

/// Every run of s.hot_runs lies in the active key's SRTP expanded block; returns the lines.
std::size_t check_runs_in_active_block(const session_rt& s) {
    const auto* base = reinterpret_cast<const std::byte*>(&s);
    const auto& kb = s.keys[s.active_key].srtp;
    const std::size_t from = static_cast<std::size_t>(kb.expanded - base) / 64;
    const std::size_t to = from + s.be->expanded_size(*s.traits) / 64;
    std::size_t lines = 0;
    for (const auto& r : s.hot_runs) {
        if (!r.count) continue;
        EXPECT_GE(r.first, from);
        EXPECT_LE(std::size_t{r.first} + r.count, to);
        EXPECT_LE((std::size_t{r.first} + r.count) * 64, session_memory(s));
        lines += r.count;
    }
    return lines;
}

class HotRuns : public ::testing::TestWithParam<suite> {};

TEST_P(HotRuns, LieInTheActiveKeysBlockAndFollowIt) {
    if (!backend_available(backend_kind::ipsec_mb)) GTEST_SKIP() << "IPsec-MB backend not available on this CPU";
    auto s = make(GetParam(), backend_kind::ipsec_mb);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->be->kind(), backend_kind::ipsec_mb);
    const std::size_t lines0 = check_runs_in_active_block(*s);
    EXPECT_GE(lines0, 3u) << "the AES schedule at least";
    const uint16_t first0 = s->hot_runs[0].first;
    ASSERT_TRUE(session_set_active_key(*s, 1));
    EXPECT_EQ(check_runs_in_active_block(*s), lines0);
    EXPECT_GT(s->hot_runs[0].first, first0) << "key 1's block lies after key 0's";
    ASSERT_TRUE(session_set_active_key(*s, 0));
    EXPECT_EQ(s->hot_runs[0].first, first0);
}

INSTANTIATE_TEST_SUITE_P(Suites, HotRuns,
                         ::testing::Values(suite::aes_cm_128_hmac_sha1_80, suite::aes_256_cm_hmac_sha1_80, suite::aead_aes_128_gcm,
                                           suite::aead_aes_256_gcm));

TEST(HotRunsOpenSsl, NoLinesWhereTheBackendNamesNone) {
    auto s = make(suite::aes_cm_128_hmac_sha1_80, backend_kind::openssl);
    ASSERT_TRUE(s);
    for (const auto& r : s->hot_runs) EXPECT_EQ(r.count, 0u);
}

TEST(PrefetchSession, ChangesNoResult) {
    // The same packet protected by two sessions of the same keys, one prefetched first.
    auto a = make(suite::aead_aes_128_gcm, default_backend());
    auto b = make(suite::aead_aes_128_gcm, default_backend());
    ASSERT_TRUE(a && b);
    prefetch_session(nullptr);
    prefetch_session(b.get());
    auto ctx = std::move(worker_ctx::create().value());
    std::array<std::array<std::byte, 256>, 2> pkt{};
    for (auto& p : pkt) {
        p[0] = std::byte{0x80};
        p[3] = std::byte{7};
        p[11] = std::byte{9};
        for (std::size_t i = 12; i < 172; ++i) p[i] = std::byte(i);
    }
    op oa{a.get(), {pkt[0].data(), 172, 256}, status::ok};
    op ob{b.get(), {pkt[1].data(), 172, 256}, status::ok};
    protect_rtp(*ctx, {&oa, 1});
    protect_rtp(*ctx, {&ob, 1});
    ASSERT_EQ(oa.st, status::ok);
    ASSERT_EQ(ob.st, status::ok);
    ASSERT_EQ(oa.pkt.len, ob.pkt.len);
    EXPECT_EQ(std::memcmp(pkt[0].data(), pkt[1].data(), oa.pkt.len), 0);
}

} // namespace
