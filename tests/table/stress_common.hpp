#pragma once
// The reader half of the seqlock stress tests, shared by the thread and the process variants.

#include "table_test_util.hpp"

#include <srtpo/table/mapping.hpp>
#include <srtpo/table/seqlock.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace srtpo::table::test {

struct reader_stats {
    uint64_t accepted = 0;      ///< copies the seqlock validated
    uint64_t torn_accepted = 0; ///< validated copies that were not one generation's image: the bug
    uint64_t rejected = 0;      ///< copies the seqlock refused (odd, or sequence moved)
    uint64_t rejected_torn = 0; ///< of those, how many really were torn (the check earns its keep)
    uint64_t generations = 0;   ///< times a reader saw a slot's generation change
};

inline std::chrono::milliseconds stress_duration(int default_ms) {
    if (const char* e = std::getenv("SRTPO_STRESS_MS")) return std::chrono::milliseconds(std::atoi(e));
    return std::chrono::milliseconds(default_ms);
}

/// Copies random slots in [0, n) through the seqlock until `until`, verifying every copy.
/// Uses seqlock_try_copy (what sessions_mapping::read loops over) so that rejections are counted.
template <class Clock>
reader_stats read_until(const sessions_mapping& m, uint32_t n, typename Clock::time_point until, uint64_t seed) {
    reader_stats s;
    uint64_t last[64] = {};
    uint64_t x = seed;
    slot_data d;
    uint32_t iter = 0;
    while ((++iter & 255) != 0 || Clock::now() < until) {
        x = mix(x);
        const uint32_t id = static_cast<uint32_t>(x % n);
        const session_slot& sl = m.slot(id);
        if (seqlock_try_copy(sl.seq, sl.words, &d)) {
            if (d.generation == 0) continue; // not written yet
            ++s.accepted;
            if (!is_pattern(d)) ++s.torn_accepted;
            if (d.generation != last[id % 64]) {
                ++s.generations;
                last[id % 64] = d.generation;
            }
        } else {
            ++s.rejected;
            if (d.generation != 0 && !is_pattern(d)) ++s.rejected_torn;
        }
    }
    wipe(d);
    return s;
}

/// Rewrites slots round-robin; slot content follows from its generation (pattern_slot).
/// Returns false if install() failed or handed out an unexpected generation.
template <class StopFn>
bool write_until(sessions_mapping& w, uint32_t n, StopFn stop, uint64_t& writes) {
    while (!stop()) {
        const uint64_t g = w.header().next_generation + 1; // only this thread writes it
        const slot_data d = pattern_slot(g);
        auto r = w.install(static_cast<uint32_t>(g % n), d);
        if (!r || *r != g) return false;
        ++writes;
    }
    return true;
}

} // namespace srtpo::table::test
