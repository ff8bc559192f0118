#pragma once
// flow_index: srtpo-cp's map from a flow's match (local address:port) to its table slot, as one
// flat open-addressing array instead of a hash node per flow.
//
// Why: at a million flows, std::unordered_map's node per flow cost a malloc per install, and
// each lookup walked cold nodes (re-hashing every node of the bucket chain); together about a
// quarter of srtpo-cp's CPU during a bulk install (docs/PERFORMANCE.md §6, ADR 0016).
//
// Layout: 2^k buckets of 8 octets, at least twice the table's capacity (load <= 1/2, so linear
// probing stays short), allocated once. A bucket holds the low 32 bits of the key's hash (its
// home bucket and a fingerprint) and slot + 1 (0 = empty). The key itself lives in the caller's
// per-slot record: `match_of(slot)` returns it, and is called only when the fingerprint matches.
// Deletion shifts the following cluster back (no tombstones), so lookups never degrade.
//
// Thread-safety: none; the owner (flow_registry, on srtpo-cp's event loop) serializes all calls.
// Ownership: holds no keys, only hashes and slot numbers.

#include <srtpo/table/slot.hpp>

#include <cstdint>
#include <vector>

namespace srtpo::cp {

class flow_index {
public:
    static constexpr uint32_t npos = UINT32_MAX;

    /// Sizes the index for `capacity` flows (the table's slot count); it never grows.
    explicit flow_index(uint32_t capacity);

    /// The slot of `key`, or npos. `match_of(slot)` must return the match stored for that slot.
    template <class MatchOf>
    uint32_t find(const table::endpoint& key, const MatchOf& match_of) const noexcept {
        const uint32_t h = hash(key);
        for (uint32_t i = h & _mask;; i = (i + 1) & _mask) {
            const bucket b = _buckets[i];
            if (b.slot1 == 0) return npos;
            if (b.tag == h && match_of(b.slot1 - 1) == key) return b.slot1 - 1;
        }
    }

    /// Adds `key` -> `slot`. Precondition: `key` is absent and fewer than `capacity` keys are in.
    void insert(const table::endpoint& key, uint32_t slot) noexcept;

    /// Removes `key` (stored under `slot`); no-op when absent.
    void erase(const table::endpoint& key, uint32_t slot) noexcept;

    /// Removes every key.
    void clear() noexcept;

    /// Bytes held (for the memory accounting in docs/PERFORMANCE.md).
    std::size_t bytes() const noexcept { return _buckets.size() * sizeof(bucket); }

    /// 32-bit hash of a match: two multiplicative mixes of the address words and the port, then
    /// the murmur3 fmix64 avalanche; well spread for addresses that differ in one octet.
    static uint32_t hash(const table::endpoint& e) noexcept;

private:
    struct bucket {
        uint32_t tag = 0;   ///< low 32 bits of hash(key)
        uint32_t slot1 = 0; ///< slot + 1; 0 = empty
    };
    std::vector<bucket> _buckets;
    uint32_t _mask = 0;
};

} // namespace srtpo::cp
