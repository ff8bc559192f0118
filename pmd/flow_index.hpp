#pragma once
// flow_index: srtpo-pmd's private flow lookup table (issue 5 item 2, ADR 0015): flow_key ->
// (Entry*, alias) in one cache line per probe, so that a worker's lookup costs one memory miss
// per packet before the entry itself (rte_hash + an id array cost three).
//
// Layout: a power-of-two array of 64-byte buckets; each bucket holds a `displaced` counter and
// three 16-byte slots {word, ref}:
//   word  what the slot's key is. A "short" key (IPv4, or any address whose last 12 bytes are
//         zero) is stored whole: address (32 bits) | port << 32 | family << 48, bit 63 clear; the
//         match is exact without touching anything else. Any other key (IPv6) stores bit 63 and
//         a 63-bit fingerprint of its hash; a fingerprint match is confirmed against the entry's
//         own key (Entry::key), which the worker touches next anyway.
//   ref   the entry pointer (48 bits) | a 15-bit tag from the caller << 48 | alias << 63; 0 is
//         an empty slot. An alias slot maps Entry::key with port + 1 (the implicit RTCP port of
//         RFC 3550 §11), so the entry's key is what an alias slot's key is checked against too.
// Collisions: linear probing over buckets. displaced(b) counts the keys whose home bucket is b or
// before it and which are stored after b; a lookup moves on from bucket b only while it is > 0,
// so a miss usually costs one bucket, and an erase leaves no tombstone (a key's own path keeps
// its counters >= 1 for as long as it is stored).
//
// Concurrency: one writer thread at a time (insert, replace, erase, writer_find); any number of
// readers (find, lookup_bulk) without locks. A reader acquires ref, acquires word, and re-reads
// ref (the seqlock pattern with ref as the sequence; the writer stores word and ref with release): the writer only ever
// clears ref before it reuses a slot for another key, and a ref value names one key (an entry's
// key never changes, and the entry is not freed while a reader can still hold its pointer: the
// caller retires entries through RCU), so a stable ref with a matching word is that key's
// binding. A key that stays present is never missed: its slot's word never changes, a replace
// swaps ref in one store (the reader re-reads it), and entries never move between slots. The
// table frees nothing: memory is the caller's, entries are the caller's.

#include "flow_key.hpp"

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace srtpo::pmd {

/// What a reader gets for one key.
template <class Entry>
struct index_match {
    Entry* entry = nullptr;
    bool alias = false; ///< the key is Entry::key with port + 1
};

/// Hooks at the points where a concurrent writer and reader interleave; no-ops in srtpo-pmd.
/// The concurrency test widens these windows (delays) so that its interleavings are not left
/// to the scheduler of a busy two-core machine.
struct no_index_hooks {
    static void reader_between_loads() noexcept {}
    static void writer_after_store() noexcept {}
};

template <class Entry, class Hooks = no_index_hooks>
class flow_index {
public:
    static constexpr unsigned slots_per_bucket = 3;
    static constexpr unsigned max_bulk = 64;

    /// Bytes of (64-byte aligned, zeroed) memory for an index of at most `max_keys` keys: buckets
    /// for a load factor of at most 3/4. Thread-safety: pure.
    static std::size_t memory_size(uint32_t max_keys) noexcept { return bucket_count(max_keys) * sizeof(bucket); }

    /// An empty index in `mem` (memory_size(max_keys) bytes, 64-byte aligned, zeroed; owned by
    /// the caller, which frees it after the index is gone). `seed` keys the hash (a random value,
    /// so that the bucket of a key cannot be predicted from outside).
    flow_index(void* mem, uint32_t max_keys, uint64_t seed) noexcept
        : _b(static_cast<bucket*>(mem)), _mask(bucket_count(max_keys) - 1), _max_keys(max_keys), _seed(seed | 1) {
        for (std::size_t i = 0; i <= _mask; ++i) new (&_b[i]) bucket();
    }
    flow_index(const flow_index&) = delete;
    flow_index& operator=(const flow_index&) = delete;

    // ---- readers (any thread, concurrently with the writer; noexcept, no allocation) ----

    /// The binding of `k`, or {null, false}.
    index_match<Entry> find(const flow_key& k) const noexcept {
        const uint64_t h = hash(k);
        return confirm(k, probe(h, word_of(k, h)));
    }

    /// Asks for the home buckets of n keys (prefetches only: nothing is read or returned), for a
    /// caller that looks the keys up later, after other work (the worker's pipeline, ADR 0023).
    void prefetch_bulk(const flow_key* keys, unsigned n) const noexcept {
        for (unsigned i = 0; i < n; ++i) __builtin_prefetch(&_b[hash(keys[i]) & _mask], 0, 3);
    }

    /// Looks up n <= max_bulk keys (n is clamped); bit i of the result is set when keys[i] was
    /// found, then out[i] holds it (other out[i] are left alone). All hashes first, then every
    /// home bucket prefetched, then the probes (the misses of the burst overlap); long keys'
    /// fingerprints are confirmed last. The entries found are not prefetched: with a million
    /// flows those prefetches slowed the probes more than they saved the caller (ADR 0023), who
    /// prefetches them where it reads them.
    uint64_t lookup_bulk(const flow_key* const* keys, unsigned n, index_match<Entry>* out) const noexcept {
        if (n > max_bulk) n = max_bulk;
        uint64_t h[max_bulk];
        for (unsigned i = 0; i < n; ++i) {
            h[i] = hash(*keys[i]);
            __builtin_prefetch(&_b[h[i] & _mask], 0, 3);
        }
        uint64_t hit = 0, unconfirmed = 0;
        for (unsigned i = 0; i < n; ++i) {
            const uint64_t w = word_of(*keys[i], h[i]);
            const uint64_t r = probe(h[i], w);
            if (!r) continue;
            out[i] = {entry_of(r), (r & alias_bit) != 0};
            hit |= uint64_t{1} << i;
            if (w & long_bit) unconfirmed |= uint64_t{1} << i;
        }
        while (unconfirmed) {
            const unsigned i = static_cast<unsigned>(std::countr_zero(unconfirmed));
            unconfirmed &= unconfirmed - 1;
            if (matches(*keys[i], out[i])) continue;
            // A fingerprint collision (about 2^-60 per probe): the slow path checks every candidate.
            const auto m = find(*keys[i]);
            if (m.entry) out[i] = m;
            else hit &= ~(uint64_t{1} << i);
        }
        return hit;
    }

    // ---- writer (one thread at a time) ----

    enum class insert_status { ok, full, bad_pointer };

    /// Binds `k` (absent: precondition) to `e` (non-null; its key is `k`, or `k` with port - 1
    /// for an alias) with `tag` (15 bits kept). full: max_keys keys are stored already.
    insert_status insert(const flow_key& k, Entry* e, bool alias, uint16_t tag) noexcept {
        const auto p = reinterpret_cast<uintptr_t>(e);
        if (!e || (p & ~ptr_mask)) return insert_status::bad_pointer;
        if (_count >= _max_keys) return insert_status::full;
        const uint64_t h = hash(k);
        const std::size_t home = h & _mask;
        for (std::size_t d = 0; d <= _mask; ++d) {
            bucket& b = _b[(home + d) & _mask];
            for (auto& s : b.slots) {
                if (s.ref.load(std::memory_order_relaxed) != 0) continue;
                // Claim the path first: a reader looking for k beyond home must keep probing.
                for (std::size_t j = 0; j < d; ++j) {
                    auto& c = _b[(home + j) & _mask].displaced;
                    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                }
                Hooks::writer_after_store();
                // Release: a reader that loads this word also sees the slot's last clear (ref = 0),
                // so it cannot pair the word with the slot's previous ref.
                s.word.store(word_of(k, h), std::memory_order_release);
                Hooks::writer_after_store();
                s.ref.store(make_ref(e, alias, tag), std::memory_order_release);
                Hooks::writer_after_store();
                ++_count;
                return insert_status::ok;
            }
        }
        return insert_status::full; // unreachable while _count < _max_keys < slots
    }

    /// Rebinds the present key `k` to `e` in one store (readers see the old or the new entry,
    /// never neither). False (nothing changed): `k` is absent or `e` is not a valid pointer.
    bool replace(const flow_key& k, Entry* e, bool alias, uint16_t tag) noexcept {
        const auto p = reinterpret_cast<uintptr_t>(e);
        if (!e || (p & ~ptr_mask)) return false;
        slot* s = writer_slot(k, nullptr);
        if (!s) return false;
        s->ref.store(make_ref(e, alias, tag), std::memory_order_release);
        Hooks::writer_after_store();
        return true;
    }

    /// Unbinds `k`. False: it was absent.
    bool erase(const flow_key& k) noexcept {
        std::size_t dist = 0;
        slot* s = writer_slot(k, &dist);
        if (!s) return false;
        s->ref.store(0, std::memory_order_release);
        Hooks::writer_after_store();
        const std::size_t home = hash(k) & _mask;
        for (std::size_t j = 0; j < dist; ++j) {
            auto& c = _b[(home + j) & _mask].displaced;
            c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        }
        --_count;
        return true;
    }

    /// The writer's view of `k`, with the tag: {null, false} if absent.
    index_match<Entry> writer_find(const flow_key& k, uint16_t* tag = nullptr) const noexcept {
        const slot* s = writer_slot(k, nullptr);
        if (!s) return {};
        const uint64_t r = s->ref.load(std::memory_order_relaxed);
        if (tag) *tag = static_cast<uint16_t>(r >> tag_shift & tag_mask);
        return {entry_of(r), (r & alias_bit) != 0};
    }

    /// How many buckets past its home bucket `k` is stored (0: in it), or -1 if absent (writer;
    /// telemetry and tests).
    long probe_distance(const flow_key& k) const noexcept {
        std::size_t d = 0;
        return writer_slot(k, &d) ? static_cast<long>(d) : -1;
    }

    uint32_t size() const noexcept { return _count; }
    uint32_t max_keys() const noexcept { return _max_keys; }
    std::size_t buckets() const noexcept { return _mask + 1; }

private:
    struct slot {
        std::atomic<uint64_t> word{0};
        std::atomic<uint64_t> ref{0};
    };
    struct alignas(64) bucket {
        std::atomic<uint32_t> displaced{0};
        uint32_t reserved0 = 0;
        uint64_t reserved1 = 0;
        slot slots[slots_per_bucket];
    };
    static_assert(sizeof(bucket) == 64, "one cache line per bucket");
    static_assert(sizeof(void*) == 8, "refs pack a 48-bit pointer and 16 bits of tags");

    static constexpr uint64_t long_bit = uint64_t{1} << 63;
    static constexpr uint64_t alias_bit = uint64_t{1} << 63;
    static constexpr unsigned tag_shift = 48;
    static constexpr uint64_t tag_mask = 0x7fff;
    static constexpr uint64_t ptr_mask = (uint64_t{1} << tag_shift) - 1;

    static std::size_t bucket_count(uint32_t max_keys) noexcept {
        // ceil(max_keys / (3 * 3/4)) buckets, rounded up to a power of two (at least 2).
        const uint64_t need = (uint64_t{max_keys} * 4 + 8) / 9;
        return std::bit_ceil(need < 2 ? uint64_t{2} : need);
    }

    static uint64_t fmix(uint64_t x) noexcept {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ULL;
        x ^= x >> 33;
        return x;
    }
    uint64_t hash(const flow_key& k) const noexcept {
        uint64_t a, b;
        uint32_t c;
        std::memcpy(&a, k.addr.data(), 8);
        std::memcpy(&b, k.addr.data() + 8, 8);
        std::memcpy(&c, reinterpret_cast<const std::byte*>(&k) + 16, 4);
        return fmix((a ^ _seed) * 0x9e3779b97f4a7c15ULL ^ std::rotl(b * 0xc2b2ae3d27d4eb4fULL, 29) ^ (uint64_t{c} << 7) ^ (_seed >> 17));
    }
    static uint64_t word_of(const flow_key& k, uint64_t h) noexcept {
        uint32_t a;
        uint64_t rest0;
        uint32_t rest1;
        std::memcpy(&a, k.addr.data(), 4);
        std::memcpy(&rest0, k.addr.data() + 4, 8);
        std::memcpy(&rest1, k.addr.data() + 12, 4);
        if (rest0 == 0 && rest1 == 0 && k.pad == 0)
            return uint64_t{a} | uint64_t{k.port} << 32 | uint64_t{k.family} << 48;
        return long_bit | (fmix(h) >> 1);
    }
    static uint64_t make_ref(Entry* e, bool alias, uint16_t tag) noexcept {
        return reinterpret_cast<uintptr_t>(e) | (uint64_t{tag} & tag_mask) << tag_shift | (alias ? alias_bit : 0);
    }
    static Entry* entry_of(uint64_t r) noexcept { return reinterpret_cast<Entry*>(static_cast<uintptr_t>(r & ptr_mask)); }

    /// Whether the bound entry's key (port + 1 for an alias) is `k`.
    static bool matches(const flow_key& k, const index_match<Entry>& m) noexcept {
        if (!m.alias) return m.entry->key == k;
        flow_key e = m.entry->key;
        if (e.port == 0xffff) return false;
        e.port = static_cast<uint16_t>(e.port + 1);
        return e == k;
    }
    index_match<Entry> confirm(const flow_key& k, uint64_t r) const noexcept {
        if (!r) return {};
        index_match<Entry> m{entry_of(r), (r & alias_bit) != 0};
        if (word_of(k, hash(k)) & long_bit) {
            if (!matches(k, m)) return slow_find(k);
        }
        return m;
    }
    /// Every slot whose word matches, confirmed against the entry (long keys after a collision).
    index_match<Entry> slow_find(const flow_key& k) const noexcept {
        const uint64_t h = hash(k), w = word_of(k, h);
        for (std::size_t d = 0; d <= _mask; ++d) {
            const bucket& b = _b[(h + d) & _mask];
            for (const auto& s : b.slots) {
                const uint64_t r = stable_ref(s, w);
                if (!r) continue;
                index_match<Entry> m{entry_of(r), (r & alias_bit) != 0};
                if (matches(k, m)) return m;
            }
            if (b.displaced.load(std::memory_order_acquire) == 0) break;
        }
        return {};
    }

    /// The slot's ref if it is occupied by word `w` (a consistent pair), else 0.
    static uint64_t stable_ref(const slot& s, uint64_t w) noexcept {
        for (;;) {
            const uint64_t r1 = s.ref.load(std::memory_order_acquire);
            Hooks::reader_between_loads();
            // Acquire on the word (not a standalone fence, which ThreadSanitizer does not model;
            // the same form as table/seqlock.hpp): the second ref load cannot move above it.
            if (r1 == 0 || s.word.load(std::memory_order_acquire) != w) return 0;
            Hooks::reader_between_loads();
            if (s.ref.load(std::memory_order_relaxed) == r1) return r1;
            // The writer changed the slot meanwhile: read it again.
        }
    }

    /// The first occupied slot with word `w` on `h`'s probe path: its ref, or 0.
    uint64_t probe(uint64_t h, uint64_t w) const noexcept {
        for (std::size_t d = 0; d <= _mask; ++d) {
            const bucket& b = _b[(h + d) & _mask];
            for (const auto& s : b.slots)
                if (const uint64_t r = stable_ref(s, w)) return r;
            if (b.displaced.load(std::memory_order_acquire) == 0) return 0;
        }
        return 0;
    }

    /// The writer's slot of `k` (confirmed against the entry for long keys), or null.
    slot* writer_slot(const flow_key& k, std::size_t* dist) const noexcept {
        const uint64_t h = hash(k), w = word_of(k, h);
        for (std::size_t d = 0; d <= _mask; ++d) {
            bucket& b = _b[(h + d) & _mask];
            for (auto& s : b.slots) {
                const uint64_t r = s.ref.load(std::memory_order_relaxed);
                if (r == 0 || s.word.load(std::memory_order_relaxed) != w) continue;
                if ((w & long_bit) && !matches(k, {entry_of(r), (r & alias_bit) != 0})) continue;
                if (dist) *dist = d;
                return &s;
            }
            if (b.displaced.load(std::memory_order_relaxed) == 0) return nullptr;
        }
        return nullptr;
    }

    bucket* _b;
    std::size_t _mask;
    uint32_t _max_keys;
    uint32_t _count = 0;
    uint64_t _seed;
};

} // namespace srtpo::pmd
