// srtpo-cp's SIP service: transports + B2BUA core.

#include <srtpo/cp/b2bua/sip_service.hpp>

namespace srtpo::cp::b2bua {

engine::result<std::unique_ptr<sip_service>> sip_service::start(const sip_config& cfg, event_loop& loop, call::media_handler& media) {
    std::unique_ptr<sip_service> s(new sip_service());
    auto tp = socket_transport::open(cfg, loop);
    if (!tp) return tp.err();
    s->_tp = std::move(*tp);
    s->_core = std::make_unique<b2bua>(cfg, loop, *s->_tp, media);
    s->_tp->set_user(s->_core.get());
    return s;
}

nlohmann::json sip_service::stats_json() const {
    const auto& c = _core->stats();
    nlohmann::json failed = nlohmann::json::object();
    uint64_t failed_total = 0;
    for (const auto& [reason, n] : c.failed) {
        failed[reason] = n;
        failed_total += n;
    }
    const auto& t = _tp->stats();
    return {{"calls", {{"active", _core->calls_active()},
                       {"peak_active", c.peak_active},
                       {"set_up", c.calls_set_up},
                       {"ended", c.calls_ended},
                       {"failed", failed_total},
                       {"failed_by_reason", std::move(failed)}}},
            {"connections", {{"accepted", t.accepted},
                             {"connected", t.connected},
                             {"closed", t.closed},
                             {"refused_limit", t.refused_limit},
                             {"tls_failures", t.tls_failures},
                             {"parse_errors", t.parse_errors},
                             {"framing_errors", t.framing_errors},
                             {"keepalive_pings", t.pings},
                             {"idle_closed", t.idle_closed}}}};
}

api::api_result<call::sdp_rewrite> no_call_engine::offer(std::string_view, call::side, std::string_view, const call::leg_policy&) {
    return api::make_api_error(api::api_errc::unsupported, "", "no call engine in this srtpo-cp build");
}

api::api_result<call::sdp_rewrite> no_call_engine::answer(std::string_view, call::side, std::string_view) {
    return api::make_api_error(api::api_errc::unsupported, "", "no call engine in this srtpo-cp build");
}

} // namespace srtpo::cp::b2bua
