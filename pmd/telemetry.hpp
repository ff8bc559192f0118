#pragma once
// DPDK telemetry: /srtpo/stats and /srtpo/flows (read with dpdk-telemetry.py). The callbacks run
// on DPDK's telemetry thread, so they never read the worker's live counters: the worker
// publishes a copy every publish_interval under a mutex it only try_locks (it never waits), and
// the callbacks read that copy under the same mutex.

#include "flows_file.hpp"
#include "stats.hpp"

#include <mutex>
#include <vector>

namespace srtpo::pmd {

class stats_publisher {
public:
    /// Sizes the copy like `live` so that publish() never allocates.
    explicit stats_publisher(const worker_stats& live) : _snap(live) {}
    /// Control path: re-sizes the copy like `live` (allocates).
    void reset(const worker_stats& live) {
        std::lock_guard lk(_m);
        _snap = live;
    }
    /// Worker side: copies `live` unless a reader holds the lock right now.
    void publish(const worker_stats& live) noexcept {
        std::unique_lock lk(_m, std::try_to_lock);
        if (!lk) return;
        copy(live);
    }
    /// Reader side.
    template <class Fn>
    void read(Fn&& fn) const {
        std::lock_guard lk(_m);
        fn(_snap);
    }

private:
    void copy(const worker_stats& live) noexcept;
    mutable std::mutex _m;
    worker_stats _snap;
};

/// Registers the commands (once per process; DPDK has no unregister). The answers sum every
/// worker's published copy. `pubs` and `flows` must outlive the registration or be detached
/// with unregister_telemetry().
void register_telemetry(std::vector<const stats_publisher*> pubs, const std::vector<flow>& flows);
/// Detaches: the commands then answer with an empty dictionary.
void unregister_telemetry();

} // namespace srtpo::pmd
