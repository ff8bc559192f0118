#pragma once
// Demand loads of cold cache lines, issued ahead of the code that reads them (ADR 0017,
// amendment 3). Lines prefetched a prepare loop earlier were missing when read
// (docs/PERFORMANCE.md §7.8) — too little time for their chains of misses, not dropped
// prefetches (§7.9); a load is waited for: a loop of independent loads, one per line, lets the
// out-of-order core overlap all their misses, and the code after finds the lines in. Where a
// caller knows the sessions a burst ahead, engine::prefetch_session gives the lines that time.

#include <cstdint>

namespace srtpo::engine::detail {

/// Reads one octet of the line holding p, so that the line is fetched now. The result only feeds
/// keep(); the volatile read is what stops the compiler from dropping the load.
template <class T>
inline uint32_t load_line(const T* p) noexcept {
    return *reinterpret_cast<const volatile uint8_t*>(p);
}

/// Consumes the loads' results so that none of them is optimised away; emits no instruction.
inline void keep(uint32_t sink) noexcept {
    asm volatile("" : : "r"(sink));
}

} // namespace srtpo::engine::detail
