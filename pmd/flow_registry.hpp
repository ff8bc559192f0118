#pragma once
// flow_registry: the pmd's private lock-free lookup (issue 5 item 2). Workers never read the
// shared-memory table; they see only this:
//
//   flow_index (flow_index.hpp, ADR 0015):  flow_key -> (flow_entry*, rtcp_port) in 64-byte buckets
//   entries[id] (writer's view only)       id = table slot (stable), or a static flow
//
// One writer thread at a time (the main thread while loading static flows, then the sync thread)
// adds, replaces and removes entries; any number of workers look up concurrently without locks.
// A replaced or removed entry is retired, and freed (its sessions zeroize their keys) only after
// two RCU grace periods (rte_rcu_qsbr), one after the other: every worker reports a quiescent
// state once per loop iteration, and holds the entries a burst looked up across one report — a
// burst is staged in one iteration and runs in the next (worker.hpp, ADR 0023). After the
// second grace period, every worker has started an iteration after the first one ended, and
// no lookup since then can have found the entry. Index slots are reused at once: a reader checks
// a slot's ref around its key word (flow_index.hpp), never a freed entry.
//
// Keys: an entry of proto `rtp` binds its port P and, unless another entry binds P + 1
// explicitly, P + 1 as its RTCP port (RFC 3550 §11); `mux` (RFC 5761) and `rtcp` bind P only. An
// explicit binding replaces an implicit one, and the implicit one comes back when the explicit
// entry goes. A worker reads a key's binding and its entry pointer from one index slot (one
// consistent pair), so it can never run another flow's keys on a packet; the entry's `binding`
// serial (new for each key binding of an id, kept by a rekey) is the slot's 15-bit tag.

#include "flow_entry.hpp"
#include "flow_index.hpp"

#include <srtpo/engine/result.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

struct rte_rcu_qsbr;

namespace srtpo::pmd {

/// What a key maps to, for a worker: the entry (valid until the worker's second quiescent state
/// after the lookup).
using flow_match = index_match<flow_entry>;

class flow_registry {
public:
    /// `n_ids` entry slots, `max_workers` RCU reader threads. Allocates (DPDK memory for the index
    /// and the QSBR variable). Errors name the DPDK call that failed.
    static engine::result<std::unique_ptr<flow_registry>> create(uint32_t n_ids, unsigned max_workers, int socket_id);
    /// Frees every entry, current and retired. Precondition: no worker runs any more.
    ~flow_registry();
    flow_registry(const flow_registry&) = delete;
    flow_registry& operator=(const flow_registry&) = delete;

    // ---- workers (any number, concurrently with the writer; noexcept, no allocation) ----

    /// Looks up n <= 64 keys; bit i of the result is set when keys[i] matched, then out[i] says
    /// what (the entry, and whether the key is its implicit RTCP port P + 1); other out[i] are left
    /// alone. The entries found are not prefetched (flow_index::lookup_bulk).
    uint64_t lookup_bulk(const flow_key* const* keys, unsigned n, flow_match* out) const noexcept {
        return _index->lookup_bulk(keys, n, out);
    }
    /// Prefetches the index buckets of n keys, to be looked up later (flow_index::prefetch_bulk).
    void prefetch_bulk(const flow_key* keys, unsigned n) const noexcept { _index->prefetch_bulk(keys, n); }
    rte_rcu_qsbr* rcu() const noexcept { return _rcu; }

    // ---- writer (one thread at a time) ----

    /// Publishes `e` at e->id. If the id holds an entry with the same key and proto, `e` replaces
    /// it under the same binding (a rekey: set e->pred to current(e->id) first to have its state
    /// adopted); otherwise the old entry's keys are unbound and e's bound. Errors (nothing
    /// changed): the key is bound explicitly by another id ("duplicate match"), the index is full.
    engine::result<void> publish(std::unique_ptr<flow_entry> e);
    /// Unbinds and retires the entry at `id`, if any.
    void remove(uint32_t id);
    /// The published entry at `id` (writer's view), or null.
    flow_entry* current(uint32_t id) const noexcept { return _entries[id]; }
    /// Frees retired entries whose grace period is over. Returns how many are still waiting.
    std::size_t reclaim();

    uint32_t size() const noexcept { return static_cast<uint32_t>(_entries.size()); }
    std::size_t published() const noexcept { return _published; }
    std::size_t keys() const noexcept { return _index->size(); }
    /// Bytes of the index (its buckets), for the memory-per-flow figures.
    std::size_t index_bytes() const noexcept { return _index_bytes; }
    uint64_t freed() const noexcept { return _freed; }

private:
    flow_registry() = default;
    engine::result<void> bind(flow_entry& e);
    void unbind(const flow_entry& e);
    void retire(flow_entry* old, flow_entry* successor);
    bool ready(const flow_entry& e) const noexcept;

    struct retired_entry {
        flow_entry* e = nullptr;
        uint64_t token = 0;
        uint8_t periods = 0; ///< grace periods started: 0, 1 (token is the first's), 2 (the second's)
    };

    void* _index_mem = nullptr; ///< the buckets: DPDK memory on hugepages, else an anonymous mapping (THP)
    std::size_t _index_bytes = 0;
    bool _index_mmapped = false;
    std::unique_ptr<flow_index<flow_entry>> _index;
    rte_rcu_qsbr* _rcu = nullptr;

    std::vector<flow_entry*> _entries; ///< the writer's view: published entry per id (null: none)
    std::vector<retired_entry> _retired;
    uint32_t _next_binding = 0;
    std::size_t _published = 0;
    uint64_t _freed = 0;
};

} // namespace srtpo::pmd
