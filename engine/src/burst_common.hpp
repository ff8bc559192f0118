#pragma once
// Shared machinery of the four burst functions: grouping by (backend, suite), running a group
// through its backend, and constant-time tag comparison.

#include "ct_equal.hpp"
#include "load_line.hpp"
#include "worker_ctx_impl.hpp"

#include <srtpo/engine/burst.hpp>

#include <algorithm>
#include <cstring>

namespace srtpo::engine::detail {

inline uint8_t group_of(const session_rt& s) noexcept {
    return static_cast<uint8_t>(static_cast<std::size_t>(s.backend) * 16u +
                                static_cast<std::size_t>(s.traits - all_suites.data()));
}

/// Counting sort of the ops still ok by group, into w.order / w.group_start. Stable, so within a
/// group ops keep their order. Returns the number of ops sorted.
inline std::size_t sort_by_group(worker_ctx::impl& w, std::span<op> ops) noexcept {
    // Common case first: every surviving op in one group (one suite on one backend) needs no
    // sort, just the list of survivors, made in the same pass that finds out.
    std::size_t n = 0;
    unsigned mixed = 0;
    uint8_t only = 0;
    for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i].st == status::ok) {
            if (n == 0) only = w.ops[i].group;
            mixed |= static_cast<unsigned>(w.ops[i].group ^ only);
            w.order[n++] = static_cast<uint16_t>(i);
        }
    if (!mixed) {
        w.group_start.fill(0);
        for (std::size_t k = std::size_t{only} + 1; k <= max_groups; ++k) w.group_start[k] = static_cast<uint16_t>(n);
        return n;
    }
    std::array<uint16_t, max_groups + 1> count{};
    for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i].st == status::ok) ++count[w.ops[i].group + 1u];
    for (std::size_t g = 1; g <= max_groups; ++g) count[g] = static_cast<uint16_t>(count[g] + count[g - 1]);
    w.group_start = count;
    for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i].st == status::ok) w.order[count[w.ops[i].group]++] = static_cast<uint16_t>(i);
    return n;
}

/// Calls fn(group, span of op indices) for each non-empty group.
template <class Fn>
void for_each_group(worker_ctx::impl& w, Fn&& fn) noexcept {
    for (std::size_t g = 0; g < max_groups; ++g) {
        const auto b = w.group_start[g], e = w.group_start[g + 1];
        if (e > b) fn(g, std::span<const uint16_t>{w.order.data() + b, static_cast<std::size_t>(e - b)});
    }
}

/// Copies a tag or an MKI: lengths known only at run time but almost always 0, 4, 10 or 16.
/// A plain memcpy of a variable length compiles to `rep movs`, whose start-up cost is a large
/// share of a per-packet budget of ~100 cycles; fixed-size copies do not have it.
inline void copy_small(std::byte* d, const std::byte* s, std::size_t n) noexcept {
    switch (n) {
    case 0: return;
    case 4: std::memcpy(d, s, 4); return;
    case 10: std::memcpy(d, s, 8); std::memcpy(d + 8, s + 8, 2); return;
    case 16: std::memcpy(d, s, 16); return;
    default: std::memcpy(d, s, n);
    }
}

/// Constant-time tag comparison (RFC 3711 §9.5 asks for no timing oracle on authentication).
inline bool tags_equal(const void* a, const void* b, std::size_t n) noexcept { return ct_equal(a, b, n); }

/// Tag length actually on the wire for SRTP of this session.
inline std::size_t srtp_tag_len(const session_rt& s) noexcept { return s.auth_srtp ? s.traits->srtp_tag_len : 0; }

/// Whether a key may process one more packet (RFC 3711 §9.2); `used` counts packets so far.
inline bool key_exhausted(uint64_t used, uint64_t limit) noexcept { return used >= limit; }

/// The traits of the AES-CM suite with the same key length: RFC 6904 header encryption uses
/// AES-CM even when the payload cipher is AEAD.
inline const suite_traits& header_cipher_traits(const suite_traits& t) noexcept {
    return traits(t.master_key_len == 32   ? suite::aes_256_cm_hmac_sha1_80
                  : t.master_key_len == 24 ? suite::aes_192_cm_hmac_sha1_80
                                           : suite::aes_cm_128_hmac_sha1_80);
}

/// RFC 9335 §5.2 treats CSRCs, extension data and payload as one contiguous run. We make it so by
/// rotating the 4-octet extension header in front of the CSRC list (and back afterwards):
/// [fixed 12][CSRCs][ext hdr][ext data] <-> [fixed 12][ext hdr][CSRCs][ext data].
inline void cryptex_rotate(std::byte* pkt, uint8_t cc, bool to_contiguous) noexcept {
    if (cc == 0) return;
    std::byte tmp[4];
    const std::size_t csrc = 4u * cc;
    if (to_contiguous) {
        std::memcpy(tmp, pkt + 12 + csrc, 4);
        std::memmove(pkt + 16, pkt + 12, csrc);
        std::memcpy(pkt + 12, tmp, 4);
    } else {
        std::memcpy(tmp, pkt + 12, 4);
        std::memmove(pkt + 12, pkt + 16, csrc);
        std::memcpy(pkt + 12 + csrc, tmp, 4);
    }
}

/// A new SSRC whose packets all failed leaves no trace (libsrtp, too, creates a stream from its
/// template only once a packet authenticated).
inline void release_unused(worker_ctx::impl& w) noexcept {
    for (std::size_t k = 0; k < w.n_pending; ++k)
        if (w.pending[k].st->state == stream_state::pending) w.pending[k].s->release(w.pending[k].st);
    w.n_pending = 0;
}

/// Loads, before a burst's prepare loop, the session lines that loop reads: every op's session
/// line 0, then — from the addresses line 0 holds — its active master key's hot line and stream
/// 0's two lines (ADR 0017, amendment 3). Loads, not prefetches: with thousands of cold sessions a
/// burst has a hundred or more lines to bring in, and on this project's reference CPU (AMD Zen 5,
/// in a VM) lines prefetched eight ops ahead, or a whole prepare loop earlier, were still missing
/// when read — most likely dropped once too many were outstanding (inferred, docs/PERFORMANCE.md
/// §7.8). Loads are never dropped; issued back to back, without dependences
/// between ops, the out-of-order core overlaps their misses as far as it can, and the loop after
/// finds its lines in. With the sessions in cache this costs four L1 hits per op.
/// The key block's lines are the backend's to load, just before its jobs run (imb_backend.cpp).
inline void load_session_lines(std::span<const op> ops) noexcept {
    unsigned sink = 0;
    const session_rt* prev = nullptr;
    for (const auto& o : ops)
        if (o.session && o.session != prev) {
            sink += load_line(o.session);
            prev = o.session;
        }
    prev = nullptr;
    for (const auto& o : ops) {
        const session_rt* s = o.session;
        if (!s || s == prev) continue; // a session's packets in a row: loaded once
        prev = s;
        sink += load_line(s->keys.data() + s->active_key);
        const auto* st = reinterpret_cast<const std::byte*>(s->streams.data());
        sink += load_line(st) + load_line(st + 64);
    }
    keep(sink);
}

/// Runs a chunk function over spans of at most max_burst ops (the scratch arrays' size).
template <class Chunk>
std::size_t in_chunks(worker_ctx& wc, std::span<op> ops, Chunk chunk) noexcept {
    std::size_t ok = 0;
    auto& w = wc.internals();
    for (std::size_t b = 0; b < ops.size(); b += max_burst)
        ok += chunk(w, ops.subspan(b, std::min(max_burst, ops.size() - b)));
    return ok;
}

} // namespace srtpo::engine::detail
