// prefetch_session: a burst's session lines asked for one burst ahead (ADR 0023).
//
// The burst calls load these lines themselves (burst_common.hpp, load_session_lines; the
// IPsec-MB worker's key-line loads) — loads, because the core cannot drop them. But loads issued
// just before the prepare loop overlap only with each other, and with 10 000 or more sessions a
// burst waits for them. A caller that received the next burst before running this one can issue
// prefetches for the next burst's sessions now: they complete while this burst's crypto runs
// (thousands of cycles), and the next burst's loads then find the lines in.

#include "session_impl.hpp"

#include <srtpo/engine/burst.hpp>

namespace srtpo::engine {

void prefetch_session(const session_rt* s) noexcept {
    if (!s) return;
    const auto* base = reinterpret_cast<const char*>(s);
    __builtin_prefetch(s->keys.data() + s->active_key);
    const auto* st = reinterpret_cast<const char*>(s->streams.data());
    __builtin_prefetch(st);
    __builtin_prefetch(st + 64);
    for (const auto& r : s->hot_runs)
        for (unsigned l = 0; l < r.count; ++l) __builtin_prefetch(base + 64 * (std::size_t{r.first} + l));
}

} // namespace srtpo::engine
