#pragma once
// srtpo-cp's SIP service: the socket transports and the B2BUA core wired together on the event
// loop, with the call engine behind a media_handler. main.cpp starts one when [sip] is enabled.
//
// Thread-safety: event loop thread only. Ownership: owns the transport and the core; borrows the
// loop and the media handler, which must outlive it.

#include <srtpo/cp/b2bua/b2bua.hpp>
#include <srtpo/cp/b2bua/socket_transport.hpp>

#include <nlohmann/json.hpp>

#include <memory>

namespace srtpo::cp::b2bua {

class sip_service {
public:
    /// Binds the listeners and starts answering. Errors: those of socket_transport::open.
    static engine::result<std::unique_ptr<sip_service>> start(const sip_config& cfg, event_loop& loop, call::media_handler& media);

    socket_transport& transport() noexcept { return *_tp; }
    b2bua& core() noexcept { return *_core; }

    /// The B2BUA's call counters (set up, ended, failed by reason, active, peak) and the
    /// transports' connection counters, as the `stats` op's "sip" object (docs/control-api.md).
    nlohmann::json stats_json() const;

private:
    sip_service() = default;
    std::unique_ptr<socket_transport> _tp;
    std::unique_ptr<b2bua> _core;
};

/// The media handler srtpo-cp uses while no call engine is linked in: every offer is refused
/// (the B2BUA answers 488 with the reason as Warning text), so SIP signalling can be tested but
/// no SDP, and no key, is ever passed from one leg to the other unprocessed.
class no_call_engine final : public call::media_handler {
public:
    api::api_result<call::sdp_rewrite> offer(std::string_view, call::side, std::string_view, const call::leg_policy&) override;
    api::api_result<call::sdp_rewrite> answer(std::string_view, call::side, std::string_view) override;
    void reject_offer(std::string_view, call::side) override {}
    void remove(std::string_view) override {}
};

} // namespace srtpo::cp::b2bua
