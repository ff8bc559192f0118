#pragma once
// slot_flow: turns one session-table slot (docs/shm-abi.md) into what the data path runs: the
// action, the engine sessions built from the slot's *derived* keys (the pmd never sees a master
// key), the match key and the rewrite endpoints. No DPDK here: unit-testable, and the sync thread
// (table_sync.cpp) is its only caller in srtpo-pmd.

#include "classify.hpp"
#include "flows_file.hpp"

#include <srtpo/engine/result.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/table/slot.hpp>
#include <srtpo/table/status_region.hpp>

#include <cstdint>
#include <optional>

namespace srtpo::pmd {

/// Streams (SSRCs) per session of a table flow: the table has no field for it, and memory is
/// reserved up front for each, so it stays small (a call has one or two SSRCs per direction).
inline constexpr uint32_t table_max_streams = 16;
/// On restart the out leg's SRTCP index skips this far past the last one recorded: the last
/// burst may have been sent before its status was written, and reusing an index under the same
/// key reuses keystream (RFC 3711 §9.1; docs/shm-abi.md "status region").
inline constexpr uint32_t restart_index_skip = 64;

/// An IPv4-mapped table address (RFC 4291 §2.5.5.2) as the parser's family + bytes. Thread-safe (pure).
net::ip_address to_net(const table::ip_address& a) noexcept;
/// The hash key packets are looked up by (destination address and port of the slot's flow key).
/// Thread-safe (pure).
flow_key to_flow_key(const table::flow_key& k) noexcept;

struct slot_build_options {
    /// Make-before-break: the in leg as installed before this rekey. Its keys are added to the
    /// in session under their MKI when both legs use the same suite and MKIs of the same,
    /// non-zero length that differ; otherwise only the new key is accepted.
    const table::leg_crypto* previous_in = nullptr;
    /// Restart: the status entry of this very generation. Its ROCs become the sessions'
    /// initial_roc and the out leg's SRTCP index continues past the recorded one.
    const table::live_snapshot* resume = nullptr;
};

struct slot_flow {
    action act = action::forward;
    table::flow_proto proto = table::flow_proto::none;
    flow_key key;
    engine::session_ptr in;  ///< direction::unprotect (unprotect, transcrypt, authenticate)
    engine::session_ptr out; ///< direction::protect (protect, transcrypt)
    std::optional<endpoint> send_from, send_to;
    bool two_in_keys = false; ///< the in session also accepts previous_in's key
};

/// Builds the flow of an active (or retiring) slot. The slot must have passed table::validate.
/// Allocates (control path: the sync thread). Errors name the slot's field and never hold keys.
/// Thread-safety: touches only its arguments.
engine::result<slot_flow> build_slot_flow(const table::slot_data& d, const table::hdrext_record* hx,
                                          const slot_build_options& o = {});

/// Whether two in legs hold the same keys and crypto parameters (constant-time compare).
/// Thread-safe (pure).
bool same_leg(const table::leg_crypto& a, const table::leg_crypto& b) noexcept;

} // namespace srtpo::pmd
