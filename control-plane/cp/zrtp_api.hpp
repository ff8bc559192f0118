#pragma once
// The control API's zrtp.* operations (docs/control-api.md#zrtp): the operator's view of a
// call's ZRTP legs and the SAS verification of RFC 6189 §7.1.
//
//   {"op": "zrtp.show",   "call_id": "c1"}
//       -> {"call_id": "c1", "streams": [{"stream": 0, "leg": "a", "state": "secure", "sas": "...",
//           "algorithms": {...}, "cache": "new_peer", "peer_zid": "...", ...}, ...]}
//   {"op": "zrtp.verify", "call_id": "c1", "stream": 0, "verified": true}
//       -> {"call_id": "c1", "verified": true, "streams": [0]}
//
// zrtp.verify marks the SAS of every ZRTP leg of the call (or only those of "stream") verified,
// or clears the mark with "verified": false, in the ZID cache (0600). It is refused
// (invalid_argument) while any of those legs is not secure yet, and then changes nothing.
// Neither op returns keys. Thread-safety: event loop thread (as the engine).

#include <srtpo/cp/api/api_error.hpp>

#include <nlohmann/json_fwd.hpp>

namespace srtpo::cp::call {
class call_engine;
}

namespace srtpo::cp {

/// Handles one zrtp.* request. Errors: bad_request (malformed request, unknown zrtp.* op),
/// not_found (unknown call, or a call without a ZRTP leg / without that stream),
/// invalid_argument (verify before secure), internal (the cache cannot be written).
api::api_result<nlohmann::json> handle_zrtp_op(const call::call_engine& calls, const nlohmann::json& req);

} // namespace srtpo::cp
