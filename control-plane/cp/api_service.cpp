#include "api_service.hpp"

#include "log.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/api/flow_fields.hpp>

#include <time.h>

namespace srtpo::cp {

using api::api_errc;
using api::api_error;
using api::make_api_error;
using nlohmann::json;

namespace {

struct refused {
    api_error e;
};

json error_body(const api_error& e) {
    json j{{"code", api::to_string(e.code)}, {"message", e.message}};
    if (!e.field.empty()) j["field"] = e.field;
    return j;
}

const json& field(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end()) throw refused{make_api_error(api_errc::bad_request, name, std::string(name) + " is missing")};
    return *it;
}

table::endpoint match_of(const json& req) {
    const auto& m = field(req, "match");
    if (!m.is_string()) throw refused{make_api_error(api_errc::bad_request, "match", "match must be a string \"address:port\"")};
    auto e = api::parse_endpoint(m.get_ref<const std::string&>(), "match");
    if (!e) throw refused{e.err()};
    return *e;
}

template <class T>
T value_or_throw(api::api_result<T>&& r) {
    if (!r) throw refused{r.err()};
    return std::move(r.value());
}

json flow_json(const flow_view& v, bool reveal) {
    json j = api::to_json(v.spec, reveal);
    j["slot"] = v.slot;
    j["generation"] = v.generation;
    return j;
}

uint64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace

api_service::api_service(flow_registry& reg, table::sessions_mapping& sessions, const config& cfg)
    : _reg(reg), _sessions(sessions), _cfg(cfg) {}

namespace {
/// Runs `op` and turns what it returns or throws into the response object.
template <class Op>
json respond(json resp, Op&& op) {
    try {
        resp["result"] = op();
        resp["ok"] = true;
    } catch (const refused& r) {
        resp.erase("result");
        resp["ok"] = false;
        resp["error"] = error_body(r.e);
    } catch (const std::exception& e) {
        // nlohmann type errors (a field of the wrong type deep inside) and allocation failures.
        resp.erase("result");
        resp["ok"] = false;
        resp["error"] = error_body(make_api_error(api_errc::bad_request, "", std::string("malformed request: ") + e.what()));
    }
    return resp;
}
} // namespace

json api_service::handle(const json& req, const peer_identity& who) {
    json resp = json::object();
    if (req.is_object())
        if (auto id = req.find("id"); id != req.end()) resp["id"] = *id;
    return respond(std::move(resp), [&] {
        if (!req.is_object()) throw refused{make_api_error(api_errc::bad_request, "", "a request is a JSON object with \"op\"")};
        return dispatch(req, who);
    });
}

std::optional<json> api_service::handle_batch_line(std::string_view line, const peer_identity&) {
    try {
        if (_batch.read(line) != api::flow_batch_reader::outcome::read) return std::nullopt;
    } catch (const std::exception&) { // allocation failure: the DOM path answers
        _batch.clear();
        return std::nullopt;
    }
    json resp = respond(json::object(), [&] {
        const auto items = _batch.flows();
        std::vector<api::flow_spec> flows;
        flows.reserve(items.size());
        for (std::size_t i = 0; i < items.size(); ++i)
            flows.push_back(value_or_throw(api::parse_flow_fields(items[i], true, "flows[" + std::to_string(i) + "]", true)));
        return install_flows(std::move(flows), true);
    });
    _batch.clear();
    return resp;
}

json api_service::dispatch(const json& req, const peer_identity& who) {
    const auto& op = field(req, "op");
    if (!op.is_string()) throw refused{make_api_error(api_errc::bad_request, "op", "op must be a string")};
    const auto& o = op.get_ref<const std::string&>();
    if (o == "flow.add") return op_add(req);
    if (o == "flow.update") return op_update(req);
    if (o == "flow.delete") return op_delete(req);
    if (o == "flow.get") return op_get(req, who);
    if (o == "flow.list") return op_list(req);
    if (o == "flow.rekey") return op_rekey(req);
    if (o == "stats") return op_stats(req);
    if (o == "health") return op_health();
    for (const auto& [prefix, handler] : _extensions)
        if (o.starts_with(prefix)) return value_or_throw(handler(req));
    throw refused{make_api_error(api_errc::bad_request, "op",
                                 "unknown op '" + o +
                                     "' (flow.add, flow.update, flow.delete, flow.get, flow.list, flow.rekey, stats, health)")};
}

json api_service::op_add(const json& req) {
    std::vector<api::flow_spec> flows;
    const bool batch = req.contains("flows");
    if (batch == req.contains("flow"))
        throw refused{make_api_error(api_errc::bad_request, "flow", "give either \"flow\" (one) or \"flows\" (a list)")};
    if (batch) {
        const auto& a = req["flows"];
        if (!a.is_array() || a.empty()) throw refused{make_api_error(api_errc::bad_request, "flows", "flows must be a non-empty list")};
        flows.reserve(a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            flows.push_back(value_or_throw(api::parse_flow(a[i], "flows[" + std::to_string(i) + "]")));
    } else {
        flows.push_back(value_or_throw(api::parse_flow(req["flow"], "flow")));
    }
    return install_flows(std::move(flows), batch);
}

json api_service::install_flows(std::vector<api::flow_spec>&& flows, bool batch) {
    auto added = value_or_throw(_reg.add(std::move(flows)));
    if (!batch) {
        log_info("flow add " + api::to_string(added[0].match) + " slot " + std::to_string(added[0].slot));
        return json{{"flows", json::array({{{"match", api::to_string(added[0].match)}, {"slot", added[0].slot},
                                             {"generation", added[0].generation}}})}};
    }
    // A batch answers with plain numbers, in request order: thousands of per-flow objects would
    // cost more than the install itself.
    json slots = json::array(), gens = json::array();
    slots.get_ref<json::array_t&>().reserve(added.size());
    gens.get_ref<json::array_t&>().reserve(added.size());
    for (const auto& v : added) {
        slots.push_back(v.slot);
        gens.push_back(v.generation);
    }
    log_info("flow add: " + std::to_string(added.size()) + " flows");
    return json{{"added", added.size()}, {"slots", std::move(slots)}, {"generations", std::move(gens)}};
}

json api_service::op_update(const json& req) {
    auto f = value_or_throw(api::parse_flow(field(req, "flow"), "flow", false));
    auto v = value_or_throw(_reg.update(std::move(f)));
    log_info("flow update " + api::to_string(v.spec.match));
    return flow_json(v, false);
}

json api_service::op_delete(const json& req) {
    const auto m = match_of(req);
    value_or_throw(_reg.remove(m));
    log_info("flow delete " + api::to_string(m));
    return json{{"match", api::to_string(m)}, {"deleted", true}};
}

json api_service::op_get(const json& req, const peer_identity& who) {
    const auto m = match_of(req);
    bool reveal = false;
    if (auto it = req.find("reveal_keys"); it != req.end()) {
        if (!it->is_boolean()) throw refused{make_api_error(api_errc::bad_request, "reveal_keys", "reveal_keys must be true or false")};
        reveal = it->get<bool>();
    }
    auto v = _reg.get(m);
    if (!v) throw refused{make_api_error(api_errc::not_found, "match", api::to_string(m) + " is not a flow")};
    if (reveal)
        log_notice("flow get " + api::to_string(m) + ": master keys revealed to pid " + std::to_string(who.pid) + " uid " +
                   std::to_string(who.uid));
    json j = flow_json(*v, reveal);
    j["live"] = live_json(*v);
    return j;
}

json api_service::op_list(const json&) {
    json out = json::array();
    for (const auto& v : _reg.list()) out.push_back(flow_json(v, false));
    return json{{"flows", std::move(out)}, {"count", _reg.size()}, {"capacity", _reg.capacity()}};
}

json api_service::op_rekey(const json& req) {
    rekey_request r;
    r.match = match_of(req);
    const auto cur = _reg.get(r.match);
    if (!cur) throw refused{make_api_error(api_errc::not_found, "match", api::to_string(r.match) + " is not a flow")};
    for (const char* side : {"in", "out"}) {
        auto it = req.find(side);
        if (it == req.end()) continue;
        json leg = *it;
        const auto& old = std::string_view(side) == "in" ? cur->spec.in : cur->spec.out;
        if (leg.is_object() && !leg.contains("suite") && old) leg["suite"] = engine::traits(old->suite).name;
        auto l = value_or_throw(api::parse_leg(leg, side, true));
        (std::string_view(side) == "in" ? r.in : r.out) = std::move(l);
        if (leg.contains("key")) leg["key"].get_ref<std::string&>().assign(leg["key"].get_ref<std::string&>().size(), '\0');
    }
    if (auto it = req.find("grace_ms"); it != req.end()) {
        if (!it->is_number_unsigned() || it->get<uint64_t>() > 60000)
            throw refused{make_api_error(api_errc::invalid_argument, "grace_ms", "grace_ms must be 0..60000")};
        r.grace_ms = it->get<uint16_t>();
    }
    bool mbb = false;
    auto v = value_or_throw(_reg.rekey(std::move(r), mbb));
    log_info("flow rekey " + api::to_string(v.spec.match) + (mbb ? " (make-before-break)" : " (immediate)"));
    json j = flow_json(v, false);
    j["make_before_break"] = mbb;
    if (!mbb && v.spec.in)
        j["note"] = "the in leg switched at once: make-before-break needs a new MKI of the same length as the old one";
    return j;
}

void api_service::refresh_status() {
    const std::string name = _cfg.table_name + ".status";
    if (_status) {
        // The pmd recreated its region (new instance): re-attach.
        auto again = table::status_mapping::attach(name, table::attach_expect(_sessions.capacity()));
        if (again && again->instance_id() == _status->instance_id()) return;
        _sessions.disconnect_consumer();
        _status.reset();
        if (!again) return;
        _status = std::move(again.value());
    } else {
        auto st = table::status_mapping::attach(name, table::attach_expect(_sessions.capacity()));
        if (!st) return;
        _status = std::move(st.value());
    }
    _sessions.connect_consumer(*_status);
    log_info("attached the pmd's status region " + name + " (pmd pid " + std::to_string(_status->writer_pid()) + ")");
}

json api_service::live_json(const flow_view& v) const {
    if (!_status) return nullptr;
    const auto s = _status->load(v.slot);
    json j{{"current", s.generation == v.generation},
           {"packets", s.packets},
           {"octets", s.octets},
           {"auth_fail", s.auth_fail},
           {"replay_drop", s.replay_drop}};
    if (s.in.valid) j["in"] = {{"roc", s.in.roc}, {"seq", s.in.seq}, {"pressure", s.in.pressure}};
    if (s.out.valid) j["out"] = {{"roc", s.out.roc}, {"seq", s.out.seq}, {"pressure", s.out.pressure}};
    if (s.srtcp.in_valid) j["srtcp_in_index"] = s.srtcp.in_index;
    if (s.srtcp.out_valid) j["srtcp_out_index"] = s.srtcp.out_index;
    return j;
}

json api_service::op_stats(const json& req) {
    refresh_status();
    std::vector<flow_view> flows;
    if (req.contains("match")) {
        auto v = _reg.get(match_of(req));
        if (!v) throw refused{make_api_error(api_errc::not_found, "match", "no such flow")};
        flows.push_back(std::move(*v));
    } else {
        flows = _reg.list();
    }
    json out = json::array();
    uint64_t packets = 0, octets = 0, auth_fail = 0, replay_drop = 0;
    for (const auto& v : flows) {
        json l = live_json(v);
        if (!l.is_null()) {
            packets += l["packets"].get<uint64_t>();
            octets += l["octets"].get<uint64_t>();
            auth_fail += l["auth_fail"].get<uint64_t>();
            replay_drop += l["replay_drop"].get<uint64_t>();
        }
        out.push_back({{"match", api::to_string(v.spec.match)}, {"slot", v.slot}, {"action", table::to_string(api::action_of(v.spec))},
                       {"live", std::move(l)}});
    }
    json reply{{"pmd_attached", _status.has_value()},
               {"flows", std::move(out)},
               {"total", {{"packets", packets}, {"octets", octets}, {"auth_fail", auth_fail}, {"replay_drop", replay_drop}}}};
    for (const auto& [name, section] : _stats_sections) reply[name] = section();
    return reply;
}

json api_service::op_health() {
    refresh_status();
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - _started).count();
    json pmd{{"attached", _status.has_value()}};
    if (_status) {
        const uint64_t hb = _status->last_heartbeat(), now = monotonic_ns();
        pmd["pid"] = _status->writer_pid();
        pmd["heartbeat_age_ms"] = hb && now > hb ? (now - hb) / 1000000 : 0;
        pmd["alive"] = hb && now - hb < 2'000'000'000ull;
    }
    return json{{"status", "ok"},
                {"uptime_s", up},
                {"table", {{"name", _cfg.table_name},
                           {"capacity", _reg.capacity()},
                           {"flows", _reg.size()},
                           {"resync_epoch", _sessions.resync_epoch()},
                           {"doorbell_produced", _sessions.doorbell_produced()}}},
                {"pmd", std::move(pmd)}};
}

} // namespace srtpo::cp
