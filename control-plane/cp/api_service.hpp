#pragma once
// The control API's requests and responses (docs/control-api.md): one JSON object per request,
// one per response, dispatched on "op". Transport-free, so tests and the benchmark call it
// directly; control_socket.cpp carries it over the Unix socket.
//
//   {"id": 7, "op": "flow.add", "flow": {...}}          -> {"id": 7, "ok": true, "result": {...}}
//   {"id": 8, "op": "flow.get", "match": "x"}            -> {"id": 8, "ok": false,
//                                                            "error": {"code": "not_found", "field": "match", "message": "..."}}
//
// Thread-safety: one thread (the event loop) owns the service, its registry and its mappings.

#include "config.hpp"
#include "flow_registry.hpp"

#include <srtpo/cp/api/flow_batch_reader.hpp>

#include <srtpo/table/mapping.hpp>

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace srtpo::cp {

/// Who sent a request (SO_PEERCRED), for the audit log of key reveals.
struct peer_identity {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

class api_service {
public:
    /// Borrows the registry and the writable sessions mapping; both outlive the service.
    api_service(flow_registry& reg, table::sessions_mapping& sessions, const config& cfg);

    /// Handles one request. Never throws: malformed input yields a bad_request response.
    /// Ownership: `req` may hold key material (base64); the caller wipes its text afterwards.
    nlohmann::json handle(const nlohmann::json& req, const peer_identity& who);

    /// Handles a request line when it is a flow.add batch of the plain shape
    /// ({"op": "flow.add", "flows": [...]}), read without a JSON DOM (api::flow_batch_reader);
    /// the answer is the one handle() would give. Returns nullopt for any other line, which the
    /// caller parses and passes to handle(). Never throws.
    /// Ownership: `line` holds key material; the caller wipes it afterwards.
    std::optional<nlohmann::json> handle_batch_line(std::string_view line, const peer_identity& who);

    /// Attaches the pmd's status region if it exists and is not attached yet, or re-attaches when
    /// the pmd recreated it; connects the doorbell consumer. Called on a timer and before stats.
    void refresh_status();
    void reconfigure(const config& cfg) noexcept { _cfg = cfg; }

    /// Ops served outside this class (the call engine's call.*, docs/calls.md): every op that
    /// starts with `prefix` goes to `handler`, whose error becomes the response's error.
    /// Ownership: the handler's captures must outlive the service.
    using op_handler = std::function<api::api_result<nlohmann::json>(const nlohmann::json& req)>;
    void add_ops(std::string prefix, op_handler handler) { _extensions.emplace_back(std::move(prefix), std::move(handler)); }

    /// Sections of the `stats` reply kept outside this class (the calls, the SIP B2BUA): the
    /// reply gets `name: section()` for each, in the order added.
    /// Ownership: the section's captures must outlive the service.
    using stats_section = std::function<nlohmann::json()>;
    void add_stats(std::string name, stats_section section) { _stats_sections.emplace_back(std::move(name), std::move(section)); }

private:
    nlohmann::json dispatch(const nlohmann::json& req, const peer_identity& who);
    nlohmann::json op_add(const nlohmann::json& req);
    nlohmann::json install_flows(std::vector<api::flow_spec>&& flows, bool batch);
    nlohmann::json op_update(const nlohmann::json& req);
    nlohmann::json op_delete(const nlohmann::json& req);
    nlohmann::json op_get(const nlohmann::json& req, const peer_identity& who);
    nlohmann::json op_list(const nlohmann::json& req);
    nlohmann::json op_rekey(const nlohmann::json& req);
    nlohmann::json op_stats(const nlohmann::json& req);
    nlohmann::json op_health();
    nlohmann::json live_json(const flow_view& v) const;

    flow_registry& _reg;
    api::flow_batch_reader _batch; ///< reused: its arena and flow list keep their capacity
    table::sessions_mapping& _sessions;
    config _cfg;
    std::optional<table::status_mapping> _status;
    std::vector<std::pair<std::string, op_handler>> _extensions;
    std::vector<std::pair<std::string, stats_section>> _stats_sections;
    std::chrono::steady_clock::time_point _started = std::chrono::steady_clock::now();
};

} // namespace srtpo::cp
