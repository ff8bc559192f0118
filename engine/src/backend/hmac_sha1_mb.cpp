// HMAC-SHA1 on AVX-512, sixteen messages per register set, one or two sets per pass (ADR 0022).
//
// Why our own: IPsec-MB 1.3's multi-buffer HMAC-SHA1 spent ~38 ns per job on this project's
// machine (standalone measurement, ADR 0022) in its lane manager (submit, flush, inner-to-outer hand-over), more than the ~25 ns of
// SHA-1 rounds a 176-octet SRTP packet needs. An SRTP burst needs none of that bookkeeping: its
// messages are all known up front and mostly of one length, so a pass just runs the blocks of
// its messages side by side, then their outer blocks, which are built in registers.
//
// Layout of a pass: lane l of a register holds message l's 32-bit word. A block step loads 64
// octets from each lane's message (or, for the last one or two blocks, from a padded copy of its
// tail), transposes the 16 × 16 words and byte-swaps them (SHA-1 words are big-endian, FIPS
// 180-4 §3.1), and runs the 80 steps (§6.1.2) on all lanes; lanes past their last block are
// masked out of the final addition, so their chaining value stays.
//
// Constant time: no branch or address depends on message octets, keys or chaining values; the
// block counts (public lengths) decide the loop bounds.

#include "hmac_sha1_mb.hpp"

#include <srtpo/engine/kdf.hpp>

// GCC 12's _mm512_rol_epi32 passes _mm512_undefined_epi32(), whose self-initialisation GCC 12
// itself reports as uninitialised (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace srtpo::engine::detail {

#define SRTPO_AVX512 __attribute__((target("avx512f,avx512bw")))

namespace {

constexpr std::size_t lanes = 16;
constexpr std::size_t block = 64;

/// FIPS 180-4 §4.1.1 and §6.1.2, step t of 80, on sixteen lanes. The working variables rotate
/// through v[] instead of being moved: step t finds a, b, c, d, e at v[(5 - t % 5) % 5 + 0 … 4]
/// (mod 5), writes the new a over e and ROTL30(b) over b. W holds the last 16 schedule words.
template <int t>
SRTPO_AVX512 __attribute__((always_inline)) inline void step(__m512i (&v)[5], __m512i (&W)[16]) noexcept {
    constexpr int a = (100 - t) % 5, b = (101 - t) % 5, c = (102 - t) % 5, d = (103 - t) % 5, e = (104 - t) % 5;
    if constexpr (t >= 16) // W_t = ROTL1(W_t-3 ⊕ W_t-8 ⊕ W_t-14 ⊕ W_t-16)
        W[t & 15] = _mm512_rol_epi32(
            _mm512_ternarylogic_epi32(_mm512_xor_si512(W[(t - 3) & 15], W[(t - 8) & 15]), W[(t - 14) & 15], W[t & 15], 0x96), 1);
    // f_t: Ch (0xCA), Parity (0x96), Maj (0xE8), Parity, as ternary-logic truth tables of (b, c, d).
    constexpr int f_table = t < 20 ? 0xCA : t < 40 ? 0x96 : t < 60 ? 0xE8 : 0x96;
    constexpr uint32_t k = t < 20 ? 0x5A827999u : t < 40 ? 0x6ED9EBA1u : t < 60 ? 0x8F1BBCDCu : 0xCA62C1D6u;
    __m512i x = _mm512_add_epi32(_mm512_add_epi32(v[e], _mm512_set1_epi32(static_cast<int>(k))), W[t & 15]);
    x = _mm512_add_epi32(x, _mm512_ternarylogic_epi32(v[b], v[c], v[d], f_table));
    // Keeps ROTL5(a) the last addend: the compiler may otherwise reassociate the sum so that a's
    // rotation heads a chain of four additions, and each step waits for the previous one (the
    // step-to-step dependency is ROTL5 + one addition; measured: 600 against 395 cycles per pass).
    __asm__("" : "+v"(x));
    v[e] = _mm512_add_epi32(x, _mm512_rol_epi32(v[a], 5));
    v[b] = _mm512_rol_epi32(v[b], 30);
}

/// Step t on each of S independent sets of sixteen lanes. With two sets, each step's additions
/// and rotations wait on the previous step of their own set only, so the two chains overlap
/// (docs/PERFORMANCE.md §3.2: 282 against 403 cycles per sixteen lanes and block, alone; 3-8 %
/// fewer cycles per packet in the engine).
template <int S, int... t>
SRTPO_AVX512 __attribute__((always_inline)) inline void steps(__m512i (&v)[S][5], __m512i (&W)[S][16],
                                                            std::integer_sequence<int, t...>) noexcept {
    if constexpr (S == 1) (step<t>(v[0], W[0]), ...);
    else ((step<t>(v[0], W[0]), step<t>(v[1], W[1])), ...);
}

/// One SHA-1 compression of the blocks in W[s] on every lane of live[s]; other lanes keep their
/// chaining value.
template <int S>
SRTPO_AVX512 void compress(__m512i (&h)[S][5], __m512i (&W)[S][16], const __mmask16 (&live)[S]) noexcept {
    static_assert(S == 1 || S == 2);
    __m512i v[S][5];
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < 5; ++i) v[s][i] = h[s][i];
    steps<S>(v, W, std::make_integer_sequence<int, 80>{});
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < 5; ++i) h[s][i] = _mm512_mask_add_epi32(h[s][i], live[s], h[s][i], v[s][i]);
}

/// W[i] = big-endian word i of each lane's block: sixteen 64-octet loads, a 16 × 16 transpose of
/// 32-bit words (pairs, then quads, then 128-bit quarters), a byte swap.
SRTPO_AVX512 void load_blocks(__m512i (&W)[16], const std::byte* const (&p)[lanes]) noexcept {
    __m512i r[16], t[16];
    for (std::size_t l = 0; l < lanes; ++l) r[l] = _mm512_loadu_si512(p[l]);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // r[4g + j] now holds, in its 128-bit quarter q, words 4q + j' of lanes 4g … 4g + 3 for one
    // j'; the last stage gathers quarter q of groups 0 … 3 into word row 4q + j.
    for (int j = 0; j < 4; ++j) {
        const __m512i ab_lo = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44), ab_hi = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xEE);
        const __m512i cd_lo = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44), cd_hi = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0x88);
        t[4 + j] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0xDD);
        t[8 + j] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0x88);
        t[12 + j] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0xDD);
    }
    const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    for (int i = 0; i < 16; ++i) W[i] = _mm512_shuffle_epi8(t[i], bswap);
}

/// A chaining value per lane from five host-order words per message m[0 … 15] (null: zero).
SRTPO_AVX512 void load_states(__m512i (&h)[5], std::array<std::array<uint32_t, lanes>, 5>& scratch,
                              const hmac_sha1_msg* const* m, bool outer) noexcept {
    for (std::size_t l = 0; l < lanes; ++l)
        for (std::size_t w = 0; w < 5; ++w) {
            scratch[w][l] = 0;
            if (m[l]) std::memcpy(&scratch[w][l], (outer ? m[l]->opad : m[l]->ipad) + 4 * w, 4);
        }
    for (std::size_t w = 0; w < 5; ++w) h[w] = _mm512_loadu_si512(scratch[w].data());
}

/// Up to 16·S messages, longest first (so the pass runs blocks(m[0]) block steps); null
/// entries are idle lanes.
template <int S>
SRTPO_AVX512 void pass(const hmac_sha1_msg* const (&m)[S * lanes]) noexcept {
    constexpr std::size_t n = S * lanes;
    // The last one or two blocks of each message, padded (FIPS 180-4 §5.1.1). Copied before any
    // tag is written, so a tag may overlap its message's end.
    alignas(64) std::array<std::array<std::byte, 2 * block>, n> tail;
    alignas(64) static constexpr std::array<std::byte, block> idle{}; // what masked lanes read
    alignas(64) uint32_t full[n], blocks[n];
    uint32_t most = 0;
    for (std::size_t l = 0; l < n; ++l) {
        if (!m[l]) {
            full[l] = blocks[l] = 0;
            continue;
        }
        const uint32_t len = m[l]->len, rest = len % block;
        full[l] = len / block;
        blocks[l] = hmac_sha1_mb_blocks(len);
        most = std::max(most, blocks[l]);
        std::byte* d = tail[l].data();
        // The partial block by a masked load: no octet past the message is read.
        const __m512i partial = _mm512_maskz_loadu_epi8(rest ? ~0ull >> (block - rest) : 0, m[l]->data + std::size_t{full[l]} * block);
        _mm512_storeu_si512(d, partial);
        _mm512_storeu_si512(d + block, _mm512_setzero_si512());
        d[rest] = std::byte{0x80};
        const uint64_t bits = (uint64_t{len} + block) * 8; // the K ⊕ ipad block counts too
        const std::size_t end = (blocks[l] - full[l]) * block;
        for (std::size_t k = 0; k < 8; ++k) d[end - 1 - k] = static_cast<std::byte>(bits >> (8 * k));
    }

    __m512i h[S][5], W[S][16];
    __mmask16 live[S];
    std::array<std::array<uint32_t, lanes>, 5> words;
    for (int s = 0; s < S; ++s) load_states(h[s], words, m + s * lanes, false);
    for (uint32_t b = 0; b < most; ++b) {
        for (int s = 0; s < S; ++s) {
            const std::byte* p[lanes];
            for (std::size_t i = 0; i < lanes; ++i) {
                const std::size_t l = s * lanes + i;
                p[i] = b < full[l] ? m[l]->data + std::size_t{b} * block : b < blocks[l] ? tail[l].data() + (b - full[l]) * block : idle.data();
            }
            load_blocks(W[s], p);
            live[s] = _mm512_cmpgt_epu32_mask(_mm512_load_si512(blocks + s * lanes), _mm512_set1_epi32(static_cast<int>(b)));
        }
        compress<S>(h, W, live);
    }

    // Outer hash: one block, (K ⊕ opad) ‖ inner digest ‖ 0x80 ‖ 0… ‖ bit length 672, built in
    // registers: the inner digest already lies one word per register.
    for (int s = 0; s < S; ++s) {
        for (int i = 0; i < 5; ++i) W[s][i] = h[s][i];
        W[s][5] = _mm512_set1_epi32(static_cast<int>(0x80000000u));
        for (int i = 6; i < 15; ++i) W[s][i] = _mm512_setzero_si512();
        W[s][15] = _mm512_set1_epi32((block + 20) * 8);
        load_states(h[s], words, m + s * lanes, true);
        live[s] = 0xffff;
    }
    compress<S>(h, W, live);

    for (int s = 0; s < S; ++s) {
        for (std::size_t w = 0; w < 3; ++w) _mm512_storeu_si512(words[w].data(), h[s][w]);
        // Each tag as one 8-octet and one 4-octet store (big-endian words 0-1, then word 2): the
        // caller compares the tag with 8-octet loads right after this returns, and a load that
        // spans two narrower stores cannot take its data from them — it waits for both to reach
        // the cache (measured: 11 % of the unprotect loop's samples on that load).
        static_assert(std::endian::native == std::endian::little, "words 0-1 in one little-endian store");
        for (std::size_t i = 0; i < lanes && m[s * lanes + i]; ++i) {
            const uint64_t w01 = uint64_t{__builtin_bswap32(words[0][i])} | uint64_t{__builtin_bswap32(words[1][i])} << 32;
            const uint32_t w2 = __builtin_bswap32(words[2][i]);
            std::memcpy(m[s * lanes + i]->tag, &w01, 8);
            std::memcpy(m[s * lanes + i]->tag + 8, &w2, 4);
        }
    }
    // The chaining values are key-equivalent (ipad/opad states) or one step from the tag.
    secure_zero(words.data(), sizeof words);
}

} // namespace

bool hmac_sha1_mb_usable() noexcept {
    // GCC's and Clang's checks include the OS's XCR0 bits for the AVX-512 register state.
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

void hmac_sha1_mb(std::span<const hmac_sha1_msg> msgs) noexcept {
    // By block count, longest first, in runs of up to 64 messages (a burst): lanes of similar
    // length in each pass. Insertion sort: a burst is usually one length, already in order.
    constexpr std::size_t run = 64;
    for (std::size_t b = 0; b < msgs.size(); b += run) {
        const std::size_t n = std::min(run, msgs.size() - b);
        const hmac_sha1_msg* order[run];
        uint32_t key[run];
        for (std::size_t i = 0; i < n; ++i) {
            const hmac_sha1_msg* x = &msgs[b + i];
            const uint32_t kx = hmac_sha1_mb_blocks(x->len);
            std::size_t j = i;
            for (; j > 0 && key[j - 1] < kx; --j) {
                order[j] = order[j - 1];
                key[j] = key[j - 1];
            }
            order[j] = x;
            key[j] = kx;
        }
        // Two sets of sixteen per pass while more than sixteen are left, then one.
        for (std::size_t i = 0; i < n;) {
            if (n - i > lanes) {
                const hmac_sha1_msg* m[2 * lanes] = {};
                for (std::size_t l = 0; l < 2 * lanes && i < n; ++l) m[l] = order[i++];
                pass<2>(m);
            } else {
                const hmac_sha1_msg* m[lanes] = {};
                for (std::size_t l = 0; l < lanes && i < n; ++l) m[l] = order[i++];
                pass<1>(m);
            }
        }
    }
}

} // namespace srtpo::engine::detail
