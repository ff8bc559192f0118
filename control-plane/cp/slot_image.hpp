#pragma once
// flow_spec <-> table::slot_data. srtpo-cp derives the session keys here (RFC 3711 §4.3, KDR 0),
// so master keys never reach shared memory (ARCHITECTURE.md, "Shared-memory session table").

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/cp/api/flow_spec.hpp>
#include <srtpo/table/slot.hpp>

namespace srtpo::cp {

/// Builds the slot image of `f`: flow key (proto mux with rtcp_mux, else rtp: RTCP on port + 1),
/// action, peers, and for each keyed leg the suite, window, ROC, lifetime, MKI, flags and the
/// derived SRTP and SRTCP keys. A leg whose spec has no master key (an update that keeps keys)
/// takes its crypto from `current` (same suite required). `grace_ms` is the make-before-break
/// time written to the slot. The image passes table::validate() or an error says why.
/// Errors: invalid_argument (e.g. "in.key: a new suite needs a key"), internal (derivation or
/// validation failed). Ownership: `out` holds keys; the caller wipes it (table::wipe).
/// Thread-safety: pure.
api::api_status build_slot(const api::flow_spec& f, const table::slot_data* current, uint16_t grace_ms,
                           table::slot_data& out);

/// The flow a slot describes, without master keys (recovery after a restart, `flow get` of a
/// recovered flow). Thread-safety: pure.
api::flow_spec spec_of(const table::slot_data& d);

} // namespace srtpo::cp
