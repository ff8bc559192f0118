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

api::api_result<call::sdp_rewrite> no_call_engine::offer(std::string_view, call::side, std::string_view, const call::leg_policy&) {
    return api::make_api_error(api::api_errc::unsupported, "", "no call engine in this srtpo-cp build");
}

api::api_result<call::sdp_rewrite> no_call_engine::answer(std::string_view, call::side, std::string_view) {
    return api::make_api_error(api::api_errc::unsupported, "", "no call engine in this srtpo-cp build");
}

} // namespace srtpo::cp::b2bua
