#pragma once
// flow_entry: one flow as the workers see it — published by pointer in the flow_registry, never
// changed once published (a change is a new entry), and freed only after an RCU grace period.
// Fields are grouped by their single writer (ARCHITECTURE.md principle 5).

#include "classify.hpp"
#include "flows_file.hpp"

#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/table/slot.hpp>
#include <srtpo/table/status_region.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

namespace srtpo::pmd {

inline constexpr uint32_t no_static_index = std::numeric_limits<uint32_t>::max();
inline constexpr uint16_t no_owner = std::numeric_limits<uint16_t>::max();

/// Wipes the copy of a leg's keys before freeing it.
struct leg_wiper {
    void operator()(table::leg_crypto* l) const noexcept {
        engine::secure_zero(l, sizeof *l);
        delete l;
    }
};
using leg_copy = std::unique_ptr<table::leg_crypto, leg_wiper>;

/// Laid out for the data path (ADR 0017): the fields a worker reads or writes for every packet
/// fill lines 0-2 of a 64-byte aligned entry (three prefetches), the sync thread's own fields
/// follow on later lines (no false sharing with the owner worker's counters).
struct alignas(64) flow_entry {
    // ---- set by the builder (main thread or sync thread); immutable once published ----
    uint32_t id = 0;          ///< registry index: the table slot id, or capacity + i for static flows
    uint32_t binding = 0;     ///< serial of this id's key binding (also in the hash value; see flow_registry)
    uint64_t generation = 0;  ///< slot generation; 0 for a static flow
    flow_key key;             ///< the match key (destination address and port)
    table::flow_proto proto = table::flow_proto::rtp;
    action act = action::forward;
    engine::session_ptr in;   ///< direction::unprotect
    engine::session_ptr out;  ///< direction::protect

    // ---- owner worker (the lcore that receives the flow's packets) ----
    /// The worker that owns the sessions: claimed (compare-exchange) by the first worker that
    /// receives a packet of the flow; packets reaching any other worker are dropped and counted
    /// (drop_reason::not_owner), so two lcores never touch one session's stream state.
    std::atomic<uint16_t> owner{no_owner};
    std::atomic<bool> adopted{false}; ///< released once pred's state is in (or there was none)
    uint32_t last_ssrc = 0;   ///< SSRC whose progress the status entry shows
    uint64_t packets = 0, octets = 0, auth_fail = 0, replay_drop = 0; ///< totals for the status entry
    uint64_t touched = 0;     ///< serial of the last burst that updated the status entry

    // ---- builder, read per packet ----
    table::live_state* live = nullptr;       ///< status entry (table flows); its owner worker writes it
    uint32_t static_index = no_static_index; ///< index in worker_stats::flows (static flows)
    std::optional<endpoint> send_from, send_to;
    bool has_next_hop = false; ///< next_hop (the flows file's next_hop_mac) applies
    mac_address next_hop;
    // ---- builder, read on a flow's first packet only ----
    /// The entry this one replaces for the same flow key (rekey, make-before-break rebuild): its
    /// sessions' stream state is moved in by the owner worker before this entry's first packet.
    flow_entry* pred = nullptr;
    bool resume = false;      ///< `live` already describes this generation (pmd restart): keep it

    // ---- sync thread ----
    alignas(64) flow_entry* succ = nullptr; ///< entry that adopts from this one once retired (null: none)
    bool retired = false;
    uint64_t rebuild_at_ns = 0; ///< make-before-break: when to drop the previous in key (0: never)
    leg_copy in_leg;            ///< the slot's in leg (rekey detection, previous key), wiped on free
};

} // namespace srtpo::pmd
