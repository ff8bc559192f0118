#include "zrtp_api.hpp"

#include "log.hpp"

#include <srtpo/cp/call/call_engine.hpp>
#include <srtpo/cp/media/zrtp_keying.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp {

using api::api_errc;
using api::make_api_error;
using nlohmann::json;

namespace {

struct zrtp_leg {
    std::size_t stream;
    call::side leg;
    media::zrtp_keying* keyer;
};

/// The call's ZRTP legs (only those of `stream` when given). Errors: not_found.
api::api_result<std::vector<zrtp_leg>> zrtp_legs(const call::call_engine& calls, const std::string& id,
                                                 std::optional<std::size_t> stream) {
    auto legs = calls.path_legs(id);
    if (!legs) return legs.err();
    std::vector<zrtp_leg> out;
    for (const auto& l : *legs) {
        if (stream && l.stream != *stream) continue;
        // Only zrtp_keying reports keying_method::zrtp (make_media_path_keying), so the cast holds.
        if (l.keyer->method() == call::keying_method::zrtp)
            out.push_back({l.stream, l.leg, static_cast<media::zrtp_keying*>(l.keyer.get())});
    }
    if (out.empty())
        return make_api_error(api_errc::not_found, stream ? "stream" : "call_id",
                              "call " + id + (stream ? " stream " + std::to_string(*stream) : std::string()) + " has no ZRTP leg");
    return out;
}

} // namespace

api::api_result<json> handle_zrtp_op(const call::call_engine& calls, const json& req) {
    const auto op = req.value("op", std::string());
    auto idit = req.find("call_id");
    if (idit == req.end() || !idit->is_string()) return make_api_error(api_errc::bad_request, "call_id", "call_id: a string is required");
    const auto id = idit->get<std::string>();
    std::optional<std::size_t> stream;
    if (auto s = req.find("stream"); s != req.end()) {
        if (!s->is_number_integer() || s->get<int64_t>() < 0)
            return make_api_error(api_errc::bad_request, "stream", "stream: a stream index (0, 1, ...)");
        stream = static_cast<std::size_t>(s->get<int64_t>());
    }
    if (op == "zrtp.show") {
        auto legs = zrtp_legs(calls, id, stream);
        if (!legs) return legs.err();
        json streams = json::array();
        for (const auto& l : *legs) {
            json j = l.keyer->zrtp_show_json();
            j["stream"] = l.stream;
            j["leg"] = l.leg == call::side::a ? "a" : "b";
            streams.push_back(std::move(j));
        }
        return json{{"call_id", id}, {"streams", std::move(streams)}};
    }
    if (op == "zrtp.verify") {
        bool verified = true;
        if (auto v = req.find("verified"); v != req.end()) {
            if (!v->is_boolean()) return make_api_error(api_errc::bad_request, "verified", "verified: true or false");
            verified = v->get<bool>();
        }
        auto legs = zrtp_legs(calls, id, stream);
        if (!legs) return legs.err();
        // All or nothing: refuse before touching the cache if any leg has no SAS yet (§7.1).
        for (const auto& l : *legs)
            if (l.keyer->zrtp_show_json().value("state", std::string()) != "secure")
                return make_api_error(api_errc::invalid_argument, "",
                                      "call " + id + " stream " + std::to_string(l.stream) +
                                          ": zrtp is not secure yet, there is no SAS to verify");
        json done = json::array();
        for (const auto& l : *legs) {
            if (auto r = l.keyer->verify_sas(verified); !r) return r.err();
            done.push_back(l.stream);
        }
        log_notice("call " + id + ": ZRTP SAS " + (verified ? "marked verified" : "verification cleared") + " by an operator");
        return json{{"call_id", id}, {"verified", verified}, {"streams", std::move(done)}};
    }
    return make_api_error(api_errc::bad_request, "op", "op: unknown op '" + op + "' (zrtp.show, zrtp.verify)");
}

} // namespace srtpo::cp
