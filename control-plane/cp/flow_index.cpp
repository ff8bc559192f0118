#include "flow_index.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace srtpo::cp {

flow_index::flow_index(uint32_t capacity) {
    // Twice the capacity, rounded up to a power of two: load stays <= 1/2 even in a full table.
    // The table's capacity is at most 2^24 (abi.hpp), so this fits in 32 bits.
    const uint64_t n = std::bit_ceil(std::max<uint64_t>(16, uint64_t{capacity} * 2));
    _buckets.assign(static_cast<std::size_t>(n), bucket{});
    _mask = static_cast<uint32_t>(n - 1);
}

uint32_t flow_index::hash(const table::endpoint& e) noexcept {
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, e.addr.octets.data(), 8);
    std::memcpy(&lo, e.addr.octets.data() + 8, 8);
    uint64_t h = hi * 0x9e3779b97f4a7c15ull ^ (lo + e.port) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return static_cast<uint32_t>(h);
}

void flow_index::insert(const table::endpoint& key, uint32_t slot) noexcept {
    const uint32_t h = hash(key);
    uint32_t i = h & _mask;
    while (_buckets[i].slot1 != 0) i = (i + 1) & _mask;
    _buckets[i] = {h, slot + 1};
}

void flow_index::erase(const table::endpoint& key, uint32_t slot) noexcept {
    const uint32_t h = hash(key);
    uint32_t i = h & _mask;
    for (;; i = (i + 1) & _mask) {
        if (_buckets[i].slot1 == 0) return;
        if (_buckets[i].slot1 == slot + 1) break;
    }
    // Backward-shift deletion (linear probing): move each later member of the cluster into the
    // hole when its home bucket does not lie cyclically in (hole, its position].
    for (uint32_t j = i;;) {
        j = (j + 1) & _mask;
        const bucket b = _buckets[j];
        if (b.slot1 == 0) break;
        const uint32_t home = b.tag & _mask;
        if (((j - home) & _mask) >= ((j - i) & _mask)) {
            _buckets[i] = b;
            i = j;
        }
    }
    _buckets[i] = bucket{};
}

void flow_index::clear() noexcept { std::fill(_buckets.begin(), _buckets.end(), bucket{}); }

} // namespace srtpo::cp
