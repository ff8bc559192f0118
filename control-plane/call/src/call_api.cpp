#include <srtpo/cp/call/call_api.hpp>

#include <srtpo/cp/call/call_engine.hpp>
#include <srtpo/cp/call/offered_keying.hpp>

#include "log.hpp"

#include <srtpo/engine/kdf.hpp>

#include <nlohmann/json.hpp>

namespace srtpo::cp::call {

using api::api_errc;
using api::make_api_error;
using nlohmann::json;

namespace {

api::api_error bad(const std::string& field, const std::string& msg) { return make_api_error(api_errc::bad_request, field, field + ": " + msg); }

api::api_result<std::string> string_field(const json& req, const char* name) {
    auto it = req.find(name);
    if (it == req.end()) return bad(name, "is missing");
    if (!it->is_string()) return bad(name, "must be a string");
    return it->get<std::string>();
}

api::api_result<side> side_field(const json& req, const char* name, std::optional<side> dflt) {
    auto it = req.find(name);
    if (it == req.end()) {
        if (dflt) return *dflt;
        return bad(name, "is missing (\"a\" or \"b\")");
    }
    if (*it == "a") return side::a;
    if (*it == "b") return side::b;
    return bad(name, "must be \"a\" or \"b\"");
}

/// The request's SDP copy holds the peer's keys (a=crypto, a=key-mgmt): wiped when done.
struct wiped_string {
    std::string s;
    ~wiped_string() { engine::secure_zero(s.data(), s.size()); }
};

json rewrite_json(sdp_rewrite&& r) { return json{{"sdp", std::move(r.sdp)}, {"notes", std::move(r.notes)}}; }

} // namespace

api::api_result<leg_policy> parse_leg_policy(const json& j, const std::string& field) {
    leg_policy p;
    if (j.is_null()) return p;
    if (!j.is_object()) return bad(field, "must be an object");
    for (const auto& [k, v] : j.items()) {
        if (k == "method") {
            if (!v.is_string() || !parse_keying_method(v.get<std::string>(), p.method))
                return make_api_error(api_errc::invalid_argument, field + ".method",
                                      field + ".method: plain, sdes, dtls-srtp, zrtp, mikey or same");
        } else if (k == "suites") {
            if (!v.is_array()) return bad(field + ".suites", "must be a list of SDES suite names");
            for (const auto& s : v) {
                if (!s.is_string()) return bad(field + ".suites", "must be a list of SDES suite names");
                p.suites.push_back(s.get<std::string>());
            }
        } else if (k == "rtcp_mux") {
            if (!v.is_boolean()) return bad(field + ".rtcp_mux", "must be true or false");
            p.rtcp_mux = v.get<bool>();
        } else if (k == "media_address") {
            if (!v.is_string()) return bad(field + ".media_address", "must be a string like \"IP4 192.0.2.10\"");
            p.media_address = v.get<std::string>();
        } else {
            return bad(field + "." + k, "unknown field");
        }
    }
    return p;
}

api::api_result<json> handle_call_op(call_engine& engine, const json& req) {
    const auto op = req.value("op", std::string());
    if (op == "call.list") return engine.list();
    auto id = string_field(req, "call_id");
    if (!id) return id.err();
    if (op == "call.offer") {
        auto from = side_field(req, "from", side::a);
        if (!from) return from.err();
        auto body = string_field(req, "sdp");
        if (!body) return body.err();
        wiped_string text{std::move(*body)};
        auto pol = parse_leg_policy(req.contains("policy") ? req["policy"] : json(), "policy");
        if (!pol) return pol.err();
        auto r = engine.offer(*id, *from, text.s, *pol);
        if (!r) return r.err();
        log_info("call " + *id + ": offer from " + (*from == side::a ? "a" : "b"));
        return rewrite_json(std::move(*r));
    }
    if (op == "call.answer") {
        auto from = side_field(req, "from", side::b);
        if (!from) return from.err();
        auto body = string_field(req, "sdp");
        if (!body) return body.err();
        wiped_string text{std::move(*body)};
        auto r = engine.answer(*id, *from, text.s);
        if (!r) return r.err();
        log_info("call " + *id + ": answer from " + (*from == side::a ? "a" : "b") + ", flows installed");
        return rewrite_json(std::move(*r));
    }
    if (op == "call.reject") {
        auto to = side_field(req, "to", side::b);
        if (!to) return to.err();
        engine.reject_offer(*id, *to);
        return json{{"call_id", *id}};
    }
    if (op == "call.delete") {
        const bool known = engine.describe(*id).operator bool();
        engine.remove(*id);
        if (!known) return make_api_error(api_errc::not_found, "call_id", "call " + *id + " is not known");
        log_info("call " + *id + ": deleted");
        return json{{"call_id", *id}, {"deleted", true}};
    }
    if (op == "call.get") return engine.describe(*id);
    return bad("op", "unknown op '" + op + "' (call.offer, call.answer, call.reject, call.delete, call.get, call.list)");
}

} // namespace srtpo::cp::call
