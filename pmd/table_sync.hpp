#pragma once
// table_sync: the pmd's sync thread (issue 5 item 2; docs/pmd.md "The session table").
//
// It is the only code of srtpo-pmd that reads the shared-memory session table, and the single
// writer of the status region's header words. Every ~1 ms it takes the changed slot ids off the
// doorbell (or, when srtpo-cp asked for a resync, compares every slot's generation with the one
// it applied), copies each changed slot through its seqlock, validates it, builds the engine
// sessions from the derived keys and publishes a new flow_entry in the flow_registry. Workers
// only ever see the registry. The thread also heartbeats the status region, rebuilds
// make-before-break entries once their grace time is over, and reclaims retired entries after
// their RCU grace period.
//
// Thread-safety: open() and initial_sync() on the main thread before any worker starts; then
// start() runs poll_once() on a DPDK control thread (rte_ctrl_thread_create: a non-EAL thread
// whose CPU affinity excludes the worker lcores, so a busy-polling worker never starves it)
// until stop(). poll_once()
// may also be called directly when no thread was started (tests, benchmarks). stats() after stop().

#include "flow_registry.hpp"

#include <srtpo/engine/result.hpp>
#include <srtpo/table/mapping.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <pthread.h>
#include <vector>

namespace srtpo::pmd {

struct sync_counters {
    uint64_t applied = 0;   ///< new flows published
    uint64_t rekeyed = 0;   ///< entries replaced for the same flow key (state adopted)
    uint64_t rebuilt = 0;   ///< make-before-break entries rebuilt with the new key only
    uint64_t removed = 0;   ///< flows deleted (slot erased)
    uint64_t refused = 0;   ///< slots that failed validation or building (logged, not applied)
    uint64_t resumed = 0;   ///< flows whose ROC came from the status region (restart)
    uint64_t resyncs = 0;   ///< full rescans (start-up, doorbell overflow, srtpo-cp request)
    uint64_t busy = 0;      ///< seqlock reads that gave up for now (retried next poll)
};

class table_sync {
public:
    /// Attaches the sessions region `name` read-only (every header field checked) and opens or
    /// creates `name`.status with the same capacity as its single writer. Errors
    /// (invalid_argument / io_error) carry table's precise message ("'/t' has ABI version 7 ...").
    static engine::result<std::unique_ptr<table_sync>> open(std::string_view name, flow_registry& reg);
    ~table_sync();
    table_sync(const table_sync&) = delete;
    table_sync& operator=(const table_sync&) = delete;

    uint32_t capacity() const noexcept { return _sessions.capacity(); }
    const std::string& status_name() const noexcept { return _status.name(); }

    /// Start-up: connects the doorbell consumer and applies every installed slot (full scan), so
    /// the flows are in place before the first rx burst. Main thread, before start().
    engine::result<void> initial_sync();
    /// Runs poll_once() every `period` on a control thread named "srtpo-sync" until stop().
    /// Errors: the thread could not be created.
    engine::result<void> start(std::chrono::microseconds period = std::chrono::microseconds(1000));
    void stop();

    /// One cycle: heartbeat, resync if asked, doorbell ids, busy retries, make-before-break
    /// rebuilds, RCU reclaim. Returns the number of slots read.
    std::size_t poll_once();
    /// Compares every slot's generation with the applied one and applies the differences.
    std::size_t full_scan();

    const sync_counters& stats() const noexcept { return _c; }

private:
    table_sync(flow_registry& reg) : _reg(reg) {}
    void apply(uint32_t id, bool rebuild);
    void refuse(uint32_t id, const std::string& why);

    flow_registry& _reg;
    table::sessions_mapping _sessions;
    table::status_mapping _status;
    table::doorbell_consumer _db;
    bool _resume_ok = false;          ///< status entries refer to this table instance
    std::vector<uint64_t> _known;     ///< generation applied per slot
    std::vector<uint32_t> _retry;     ///< slots whose read was busy
    std::vector<uint32_t> _ids;       ///< doorbell scratch
    std::vector<std::pair<uint32_t, const flow_entry*>> _rebuilds;
    sync_counters _c;
    static void* thread_main(void* self);
    std::chrono::microseconds _period{1000};
    pthread_t _t{};
    bool _running = false;
    std::atomic<bool> _stop{false};
};

} // namespace srtpo::pmd
