#pragma once
// flow_registry: the pmd's private lock-free lookup (issue 5 item 2). Workers never read the
// shared-memory table; they see only this:
//
//   rte_hash (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF):  flow_key -> (id, binding, rtcp_port)
//   std::atomic<flow_entry*> entries[id]               id = table slot (stable), or a static flow
//
// One writer thread at a time (the main thread while loading static flows, then the sync thread)
// adds, replaces and removes entries; any number of workers look up concurrently without locks.
// A replaced or removed entry is retired, and freed (its sessions zeroize their keys) only after
// an RCU grace period (rte_rcu_qsbr): every worker reports a quiescent state once per loop
// iteration, between bursts, when it holds no entry pointer. The hash frees deleted key slots
// through the same QSBR variable (rte_hash_rcu_qsbr_add, defer-queue mode).
//
// Keys: an entry of proto `rtp` binds its port P and, unless another entry binds P + 1
// explicitly, P + 1 as its RTCP port (RFC 3550 §11); `mux` (RFC 5761) and `rtcp` bind P only. An
// explicit binding replaces an implicit one, and the implicit one comes back when the explicit
// entry goes. A hash value carries the id's `binding` serial: a worker that looked a key up just
// before its id was rebound to another key sees a different serial and drops the packet as
// no_flow instead of running another flow's keys on it.

#include "flow_entry.hpp"

#include <srtpo/engine/result.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

struct rte_hash;
struct rte_rcu_qsbr;

namespace srtpo::pmd {

/// What a key maps to.
struct flow_ref {
    uint32_t id = 0;
    uint32_t binding = 0;
    bool rtcp_port = false; ///< the key is the RTCP port (P + 1) of an `rtp` entry
};

class flow_registry {
public:
    /// `n_ids` entry slots, `max_workers` RCU reader threads. Allocates (DPDK memory for the hash
    /// and the QSBR variable). Errors name the DPDK call that failed.
    static engine::result<std::unique_ptr<flow_registry>> create(uint32_t n_ids, unsigned max_workers, int socket_id);
    /// Frees every entry, current and retired. Precondition: no worker runs any more.
    ~flow_registry();
    flow_registry(const flow_registry&) = delete;
    flow_registry& operator=(const flow_registry&) = delete;

    // ---- workers (any number, concurrently with the writer; noexcept, no allocation) ----

    /// Looks up n <= 64 keys; bit i of the result is set when keys[i] matched, then out[i] says what.
    uint64_t lookup_bulk(const flow_key* const* keys, unsigned n, flow_ref* out) const noexcept;
    /// The entry for a looked-up key, or null if it went away or the id was rebound meanwhile.
    /// The check does not touch the entry: the slot holds the pointer tagged with the low 16 bits
    /// of its binding (user-space pointers fit in 48 bits; publish() checks).
    flow_entry* resolve(const flow_ref& r) const noexcept {
        const uintptr_t v = _entries[r.id].load(std::memory_order_acquire);
        return (v >> tag_shift) == (r.binding & tag_mask) ? reinterpret_cast<flow_entry*>(v & ptr_mask) : nullptr;
    }
    /// resolve() for the hits of one lookup_bulk (others: null), with the id slots prefetched
    /// first so that their cache misses overlap.
    void resolve_bulk(const flow_ref* refs, uint64_t hit, unsigned n, flow_entry** out) const noexcept;
    rte_rcu_qsbr* rcu() const noexcept { return _rcu; }

    // ---- writer (one thread at a time) ----

    /// Publishes `e` at e->id. If the id holds an entry with the same key and proto, `e` replaces
    /// it under the same binding (a rekey: set e->pred to current(e->id) first to have its state
    /// adopted); otherwise the old entry's keys are unbound and e's bound. Errors (nothing
    /// changed): the key is bound explicitly by another id ("duplicate match"), the hash is full.
    engine::result<void> publish(std::unique_ptr<flow_entry> e);
    /// Unbinds and retires the entry at `id`, if any.
    void remove(uint32_t id);
    /// The published entry at `id` (writer's view), or null.
    flow_entry* current(uint32_t id) const noexcept {
        return reinterpret_cast<flow_entry*>(_entries[id].load(std::memory_order_relaxed) & ptr_mask);
    }
    /// Frees retired entries whose grace period is over. Returns how many are still waiting.
    std::size_t reclaim();

    uint32_t size() const noexcept { return static_cast<uint32_t>(_entries.size()); }
    std::size_t published() const noexcept { return _published; }
    std::size_t keys() const noexcept { return _keys; }
    uint64_t freed() const noexcept { return _freed; }

private:
    flow_registry() = default;
    engine::result<void> bind(const flow_entry& e);
    void unbind(const flow_entry& e);
    void retire(flow_entry* old, flow_entry* successor);
    bool ready(const flow_entry& e) const noexcept;

    struct retired_entry {
        flow_entry* e = nullptr;
        uint64_t token = 0;
        bool started = false;
    };

    rte_hash* _h = nullptr;
    rte_rcu_qsbr* _rcu = nullptr;
    static constexpr unsigned tag_shift = 48;
    static constexpr uintptr_t ptr_mask = (uintptr_t{1} << tag_shift) - 1;
    static constexpr uint32_t tag_mask = 0xffff;
    void store(uint32_t id, flow_entry* e) noexcept;

    std::vector<std::atomic<uintptr_t>> _entries; ///< tagged pointers (0: none)
    std::vector<retired_entry> _retired;
    uint32_t _next_binding = 0;
    std::size_t _published = 0, _keys = 0;
    uint64_t _freed = 0;
};

} // namespace srtpo::pmd
