#pragma once
// Shared by the benchmarks: packet pools, sessions, an allocation counter and a TSC reader.

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <x86intrin.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace srtpo::bench {

/// Heap allocations made by this process (the benchmark binaries replace operator new).
extern std::atomic<uint64_t> allocations;

inline uint64_t tsc() noexcept { return __rdtsc(); }

/// A fixed-size pool of packet buffers with tailroom; packet i of `count` is an RTP packet with a
/// 12-octet header, SSRC 0x1000 + i % ssrcs, consecutive sequence numbers per SSRC.
struct rtp_pool {
    static constexpr std::size_t stride = 2048;
    std::vector<std::byte> mem;
    std::vector<uint16_t> len;
    std::size_t count = 0;

    rtp_pool(std::size_t n, std::size_t payload, uint32_t ssrcs, uint16_t first_seq = 1) : mem(n * stride), len(n), count(n) {
        std::mt19937 rng(1);
        for (std::size_t i = 0; i < n; ++i) {
            std::byte* p = at(i);
            const auto ssrc = static_cast<uint32_t>(0x1000 + i % ssrcs);
            const auto seq = static_cast<uint16_t>(first_seq + i / ssrcs);
            p[0] = std::byte{0x80};
            p[1] = std::byte{0};
            p[2] = std::byte(seq >> 8);
            p[3] = std::byte(seq & 0xff);
            for (int k = 0; k < 4; ++k) p[4 + k] = std::byte((i * 160) >> (24 - 8 * k));
            for (int k = 0; k < 4; ++k) p[8 + k] = std::byte(ssrc >> (24 - 8 * k));
            for (std::size_t k = 0; k < payload; ++k) p[12 + k] = std::byte(rng() & 0xff);
            len[i] = static_cast<uint16_t>(12 + payload);
        }
    }
    std::byte* at(std::size_t i) noexcept { return mem.data() + i * stride; }
};

inline engine::session_ptr make_session(engine::suite s, engine::direction d, engine::backend_kind b, uint32_t streams) {
    const auto& t = engine::traits(s);
    static std::vector<std::byte> key(46, std::byte{0x5a});
    engine::session_config c;
    c.s = s;
    c.dir = d;
    c.backend = b;
    c.max_streams = streams;
    c.keys.push_back({std::span{key}.first(t.master_key_len), std::span{key}.subspan(t.master_key_len, t.master_salt_len), {}, 0});
    auto r = engine::make_session(c);
    if (!r) return nullptr;
    return std::move(r.value());
}

} // namespace srtpo::bench
