#pragma once
// Seqlock over 8-byte words in shared memory: one writer, any number of readers, readers never
// write (they may map the region PROT_READ) and never block the writer.
//
// Every access goes through std::atomic_ref<uint64_t>, so the protocol has no C++ data race
// (Boehm, "Can Seqlocks Get Along with Programming Language Memory Models?", MSPC 2012), and only
// 8-byte words are used: a 16-byte atomic load compiles to cmpxchg16b (x86) or a LDXP/STXP loop
// (AArch64), which *writes*, and so faults on a PROT_READ mapping (model-codebases.md §7.6).
//
// Ordering. Writer: seq = odd (relaxed); payload stores (release); seq = even (release).
// Reader: s0 = seq (acquire), retry if odd; payload loads (acquire); s1 = seq (relaxed); accept
// iff s1 == s0. If a payload load returns a value stored by a later write section, that load
// synchronizes with its release store, which follows that section's odd seq store; the s1 load
// comes after the acquire load, so s1 is at least that odd value and the copy is refused. If s0 was
// published by the section that wrote the values, its acquire makes all of that section's stores
// visible, so no load can return an older value. Hence an accepted copy is exactly the state at s0.
//
// This is the "acquire payload loads" form of Boehm §4 rather than relaxed loads plus
// atomic_thread_fence, because ThreadSanitizer does not model standalone fences (GCC rejects them
// under -fsanitize=thread with -Werror=tsan) and one code path should be the one TSan checks. On
// x86-64 acquire loads and release stores are plain MOVs, so it costs nothing there; on AArch64 it
// is LDAR/STLR per word, paid only by the pmd's sync thread, never by a worker.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace srtpo::table {

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "seqlock words must be lock-free");
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free, "doorbell entries must be lock-free");

/// Atomic load of a word that may live in a read-only mapping. atomic_ref<const T> is C++26
/// (P3323); until then the const_cast is sound because an 8-byte lock-free load never writes.
inline uint64_t load_word(const uint64_t& w, std::memory_order o) noexcept {
    return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(w)).load(o);
}
inline void store_word(uint64_t& w, uint64_t v, std::memory_order o) noexcept {
    std::atomic_ref<uint64_t>(w).store(v, o);
}

// ---- writer side (one writer per seq word; not thread-safe against another writer) ----

/// Opens a write section: makes `seq` odd. Returns the odd value for seqlock_write_end().
[[nodiscard]] inline uint64_t seqlock_write_begin(uint64_t& seq) noexcept {
    const uint64_t odd = load_word(seq, std::memory_order_relaxed) | 1u;
    // If a previous writer died mid-section seq is already odd; keep it odd and finish normally.
    store_word(seq, odd, std::memory_order_relaxed);
    return odd;
}

/// Stores `dst.size()` words taken from `src` (dst.size() * 8 bytes, any alignment).
inline void seqlock_store_words(std::span<uint64_t> dst, const void* src) noexcept {
    const auto* p = static_cast<const std::byte*>(src);
    for (std::size_t i = 0; i < dst.size(); ++i) {
        uint64_t v;
        std::memcpy(&v, p + i * sizeof v, sizeof v);
        store_word(dst[i], v, std::memory_order_release);
    }
}

/// Stores zero in every word (zeroization: atomic stores to shared memory are never elided).
inline void seqlock_zero_words(std::span<uint64_t> dst) noexcept {
    for (auto& w : dst) store_word(w, 0, std::memory_order_release);
}

/// Closes a write section: makes `seq` even (odd + 1) and publishes the payload.
inline void seqlock_write_end(uint64_t& seq, uint64_t odd) noexcept {
    store_word(seq, odd + 1, std::memory_order_release);
}

// ---- reader side (any thread, any process; read-only) ----

/// Starts a read. Returns false (and the caller retries later) while a write is in progress.
inline bool seqlock_read_begin(const uint64_t& seq, uint64_t& token) noexcept {
    token = load_word(seq, std::memory_order_acquire);
    return (token & 1u) == 0;
}

/// Copies `src.size()` words into `dst` (src.size() * 8 bytes). The copy may be torn until
/// seqlock_read_valid() says otherwise: the caller must not act on it before.
inline void seqlock_load_words(std::span<const uint64_t> src, void* dst) noexcept {
    auto* p = static_cast<std::byte*>(dst);
    for (std::size_t i = 0; i < src.size(); ++i) {
        const uint64_t v = load_word(src[i], std::memory_order_acquire);
        std::memcpy(p + i * sizeof v, &v, sizeof v);
    }
}

/// True when no write section overlapped the copy that began with `token`.
inline bool seqlock_read_valid(const uint64_t& seq, uint64_t token) noexcept {
    return load_word(seq, std::memory_order_relaxed) == token;
}

/// One attempt at a consistent copy of up to two word ranges guarded by one sequence word.
/// Returns false if a write overlapped (the contents of dst are then unspecified).
inline bool seqlock_try_copy(const uint64_t& seq, std::span<const uint64_t> a, void* dst_a,
                             std::span<const uint64_t> b = {}, void* dst_b = nullptr) noexcept {
    uint64_t token;
    if (!seqlock_read_begin(seq, token)) return false;
    seqlock_load_words(a, dst_a);
    if (!b.empty()) seqlock_load_words(b, dst_b);
    return seqlock_read_valid(seq, token);
}

} // namespace srtpo::table
