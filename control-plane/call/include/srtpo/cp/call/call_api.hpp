#pragma once
// The control API's call.* operations (docs/control-api.md#calls), so that an external SIP proxy
// drives srtpo-cp's call engine the way Kamailio drives rtpengine:
//
//   {"op": "call.offer",  "call_id": "c1", "from": "a", "sdp": "v=0...", "policy": {"method": "sdes",
//                         "suites": ["AEAD_AES_128_GCM"], "rtcp_mux": true, "media_address": "IP4 192.0.2.10"}}
//   {"op": "call.answer", "call_id": "c1", "from": "b", "sdp": "v=0..."}
//   {"op": "call.reject", "call_id": "c1", "to": "b"}
//   {"op": "call.delete", "call_id": "c1"}
//   {"op": "call.get",    "call_id": "c1"}
//   {"op": "call.list"}
//
// offer/answer return {"sdp": "...", "notes": [...]}: the rewritten body, which holds this leg's
// keys when it is SDES-keyed (the caller wipes its copy after sending). Nothing else returns keys.
//
// Thread-safety: event loop thread (as the engine).

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/cp/call/media_handler.hpp>

#include <nlohmann/json_fwd.hpp>

namespace srtpo::cp::call {

class call_engine;

/// Parses a "policy" object of call.offer. Errors: bad_request (wrong type, unknown field),
/// invalid_argument (unknown method). Thread-safety: pure.
api::api_result<leg_policy> parse_leg_policy(const nlohmann::json& j, const std::string& field);

/// Handles one call.* request (the op is already known to start with "call."). Errors:
/// bad_request for a malformed request or unknown call.* op, and the engine's errors.
api::api_result<nlohmann::json> handle_call_op(call_engine& engine, const nlohmann::json& req);

} // namespace srtpo::cp::call
