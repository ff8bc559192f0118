#pragma once
// flow_registry: srtpo-cp's view of its flows and the only writer of the sessions table.
//
// Every mutation is all-or-nothing: a request (one flow or a batch) is parsed and checked in full
// — syntax, duplicates inside the batch and against the table, free slots, the slot image — before
// the first slot is written, so a refused request leaves the table exactly as it was.
// Master keys are kept here (wiped on delete) only so that `flow get --reveal-keys` can show them;
// the table carries derived keys. After a restart the registry is rebuilt from the table
// (recover()), and recovered flows have no master keys: they keep working, and a rekey gives them
// new ones.
//
// Thread-safety: one thread (srtpo-cp's event loop) owns the registry and its table mapping.

#include "flow_index.hpp"
#include "slot_image.hpp"

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/cp/api/flow_spec.hpp>
#include <srtpo/table/mapping.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace srtpo::cp {

/// One flow as the API reports it.
struct flow_view {
    uint32_t slot = 0;
    uint64_t generation = 0;
    api::flow_spec spec;      ///< with master keys when srtpo-cp holds them
};

/// Where an added flow went.
struct added_flow {
    table::endpoint match;
    uint32_t slot = 0;
    uint64_t generation = 0;
};

/// New keys for a rekey (RFC 3711 §3.1 / RFC 4568 §7.1.4: a new master key under a new MKI).
struct rekey_request {
    table::endpoint match;
    std::optional<api::leg_spec> in, out;
    std::optional<uint16_t> grace_ms;
};

class flow_registry {
public:
    /// Borrows a writable mapping, which must outlive the registry. `default_grace_ms` applies to
    /// flows and rekeys that do not give their own. With `prefault`, the entries' storage for the
    /// table's capacity (up to 1 Mi flows, ~330 MiB there) is allocated now, on transparent huge
    /// pages where the kernel has them, instead of page by page during installs (srtpo-cp does
    /// this, as it does for the table; docs/PERFORMANCE.md §6.2).
    flow_registry(table::sessions_mapping& t, uint16_t default_grace_ms, bool prefault = false);

    /// Rebuilds the flows from the table's active slots (srtpo-cp restart). Returns their number.
    std::size_t recover();

    /// Adds flows (one request may carry many). Returns their slot ids in order.
    /// Errors: duplicate ("flows[3].match: 192.0.2.1:5004 is already a flow"), table_full, and
    /// those of build_slot.
    api::api_result<std::vector<added_flow>> add(std::vector<api::flow_spec>&& flows);
    /// Replaces a flow's fields; a leg without a key keeps its current keys (same suite). The pmd
    /// keeps ROC and replay state across the change (same flow key, new generation).
    api::api_result<flow_view> update(api::flow_spec&& f);
    /// Deletes the flow: zeroizes its slot (the pmd drops the flow) and wipes the master keys.
    api::api_status remove(const table::endpoint& match);
    /// Installs new keys for one or both legs. For the in leg, a new MKI lets the pmd accept the
    /// old key until the new one is seen or `grace_ms` passes (make-before-break); without an MKI
    /// (or with the same one) the switch is immediate, which the result says.
    /// Errors: not_found; invalid_argument (no leg given, suite change without key ...).
    api::api_result<flow_view> rekey(rekey_request&& r, bool& make_before_break);

    std::optional<flow_view> get(const table::endpoint& match) const;
    std::vector<flow_view> list() const;
    std::size_t size() const noexcept { return _count; }
    uint32_t capacity() const noexcept { return _table.capacity(); }
    void set_default_grace(uint16_t ms) noexcept { _default_grace = ms; }

private:
    struct entry {
        bool used = false;
        uint32_t slot = 0;
        uint64_t generation = 0;
        api::flow_spec spec;
    };
    entry* find(const table::endpoint& match) noexcept;
    const entry* find(const table::endpoint& match) const noexcept;
    /// Records a new flow in `slot` (free in the registry).
    void put(uint32_t slot, uint64_t generation, api::flow_spec&& spec);
    /// Forgets the flow in `e`'s slot; its master keys are wiped (key_salt_buffer).
    void drop(entry& e) noexcept;
    api::api_result<uint64_t> write(uint32_t slot, const api::flow_spec& f, const table::slot_data* current);
    api::api_result<uint64_t> install(uint32_t slot, const table::slot_data& image);
    /// Index of the first flow of `flows` whose match is taken (by a flow or an earlier item), or
    /// flows.size() when none is.
    std::size_t first_duplicate(const std::vector<api::flow_spec>& flows) const;
    flow_view view(const entry& e) const { return {e.slot, e.generation, e.spec}; }

    table::sessions_mapping& _table;
    uint16_t _default_grace;
    /// Flows by slot (the slot ids srtpo-cp hands out are dense from 0). Space for the table's
    /// capacity is reserved at start-up and entries are constructed as slots come into use, so it
    /// never reallocates; no node per flow (ADR 0016).
    std::vector<entry> _entries;
    flow_index _index; ///< match -> slot
    std::size_t _count = 0;
    std::vector<uint32_t> _free; ///< free slot ids, lowest on top
};

} // namespace srtpo::cp
