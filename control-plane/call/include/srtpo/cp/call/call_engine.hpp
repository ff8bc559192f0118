#pragma once
// call_engine: srtpo-cp's media_handler (docs/calls.md). It anchors every audio/video stream of a
// call on srtp-offload's media address, keys each leg on its own, and keeps the two flows of each
// stream (media_anchor.hpp) in the session table through the flow_registry.
//
// Per call (id = SIP Call-ID or API call id), per m= line, per leg (a = first offerer, b = the
// other), the engine holds: our media port (a pair from port_pool), the peer's address (c= and m=
// port of its SDP), RTCP multiplexing, the keying method and the agreed srtp_keying. An offer
// from one side allocates ports for new streams, answers the offerer's keying (SDES: RFC 4568
// §7.1.2, fresh key) and generates the offer for the other leg per its leg_policy (SDES:
// make_offer, fresh keys; MIKEY: a PSK-mode I_MESSAGE in a=key-mgmt, RFC 4567; plain: RTP/AVP). The answer completes the other leg, rewrites the
// answer for the offerer and installs the flows all-or-nothing; a failed step leaves the call as
// it was (RFC 3264 §8), releasing only what the failed exchange had taken.
//
// DTLS-SRTP and ZRTP legs are keyed on the media path by media_path_keying objects from a factory
// the daemon installs (control-plane/media); without one such offers are refused as unsupported.
//
// Thread-safety: event loop thread only (as media_handler). Ownership: borrows the registry and
// the port pool, which outlive the engine; owns each call's keys (wiped on destruction).

#include <srtpo/cp/call/media_config.hpp>
#include <srtpo/cp/call/media_handler.hpp>
#include <srtpo/cp/call/media_path_keying.hpp>
#include <srtpo/cp/mikey/replay_cache.hpp>

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace srtpo::cp {
class flow_registry;
class port_pool;
} // namespace srtpo::cp

namespace srtpo::cp::call {

/// Creates the media-path keyer of one leg (DTLS-SRTP or ZRTP) bound to `local` (our media
/// address:port on that leg). `stream_group` is "<call-id>/<a|b>": the streams of one leg of one
/// call, i.e. one peer, which ZRTP keys in Multistream mode after the first (RFC 6189 §4.4.3).
/// Errors: unsupported for a method it does not implement, invalid_argument/internal for a
/// socket or certificate failure.
using media_path_factory = std::function<api::api_result<std::unique_ptr<media_path_keying>>(
    keying_method, const table::endpoint& local, media_path_events, const std::string& stream_group)>;

/// One running media-path keyer of a call (`zrtp.show`, `zrtp.verify`).
struct path_leg {
    std::size_t stream = 0;
    side leg = side::a;
    std::shared_ptr<media_path_keying> keyer;
};

class call_engine final : public media_handler {
public:
    /// Borrows `reg` and `ports` (must outlive the engine). `cfg` gives the media address and
    /// the default suite preference.
    call_engine(flow_registry& reg, port_pool& ports, media_config cfg);
    ~call_engine() override;
    call_engine(const call_engine&) = delete;
    call_engine& operator=(const call_engine&) = delete;

    api::api_result<sdp_rewrite> offer(std::string_view call_id, side from, std::string_view sdp,
                                       const leg_policy& to_policy) override;
    api::api_result<sdp_rewrite> answer(std::string_view call_id, side from, std::string_view sdp) override;
    void reject_offer(std::string_view call_id, side to) override;
    void remove(std::string_view call_id) override;

    /// Installs the DTLS-SRTP/ZRTP keyer factory (empty = refuse such legs).
    void set_media_path_factory(media_path_factory f) { _factory = std::move(f); }
    /// New preferences and media address for calls set up from now on (SIGHUP).
    void reconfigure(media_config cfg) { _cfg = std::move(cfg); }

    /// The state of one call for the API (`call.get`): per stream and leg the keying method,
    /// suite, local and peer addresses, RTCP mode and the flows' match addresses. Never keys.
    /// Errors: not_found.
    api::api_result<nlohmann::json> describe(std::string_view call_id) const;
    /// Every call id with its stream count and whether an offer is pending (`call.list`).
    nlohmann::json list() const;
    /// The media-path keyers of the call's committed streams, in stream then leg order (the
    /// pending offer's are not included). Errors: not_found. Shares ownership of each keyer.
    api::api_result<std::vector<path_leg>> path_legs(std::string_view call_id) const;
    std::size_t calls() const noexcept { return _calls.size(); }

    struct call_state; ///< defined in call_engine.cpp

private:
    /// The media-path keyer of one leg: the leg's current one when it already runs `m`, else a
    /// new one from the factory, bound to this call/stream/leg. Errors: unsupported without a
    /// factory, or the factory's.
    api::api_result<std::shared_ptr<media_path_keying>> path_keyer(const std::string& call_id, std::size_t stream, side s,
                                                                   keying_method m, const table::endpoint& local,
                                                                   const std::shared_ptr<media_path_keying>& current);
    /// media_path_events of a keyer: keys agreed (install or rekey the stream's flows) or failed
    /// (its flows go). A keyer that is no longer the leg's is ignored.
    void on_path_keyed(const std::string& call_id, std::size_t stream, side s, const media_path_keying* keyer, const srtp_keying& k,
                       const table::endpoint& peer);
    void on_path_failed(const std::string& call_id, std::size_t stream, side s, const media_path_keying* keyer, const std::string& why);

    flow_registry& _reg;
    port_pool& _ports;
    media_config _cfg;
    media_path_factory _factory;
    mikey::replay_cache _mikey_replay; ///< RFC 3830 §5.4, shared by every MIKEY leg we answer
    std::map<std::string, std::unique_ptr<call_state>, std::less<>> _calls;
};

} // namespace srtpo::cp::call
