#pragma once
// ZRTP (RFC 6189) on one media port: the media_path_keying of a leg whose method is
// keying_method::zrtp. A zrtp::endpoint runs on the port's ZRTP datagrams (first octet 16..19,
// RFC 7983); its T1/T2 retransmission timers (§6) and overall timeout are event_loop timers;
// retained secrets live in the runtime's ZID cache, shared by every leg of the process (§4.9).
// Our a=zrtp-hash goes into our SDP and the peer's is checked against its Hello (§8.1).
// Operators read zrtp_show_json() (state, algorithms, SAS, cache status: a mismatch is a
// possible MitM, §4.6.1.1) and mark the SAS verified with verify_sas() (§7.1).

#include <srtpo/cp/call/media_path_keying.hpp>
#include <srtpo/cp/media/deadline_timer.hpp>
#include <srtpo/cp/media/media_port.hpp>
#include <srtpo/cp/zrtp/endpoint.hpp>

#include <memory>
#include <optional>
#include <string>

namespace srtpo::cp {
class event_loop;
}

namespace srtpo::cp::media {

class media_runtime;

/// Thread-safety: event loop thread only. Ownership: owns its port, ZRTP endpoint and timer;
/// shares the call state of `stream_group` with the leg's other streams; `loop` and `rt` must
/// outlive it. The events may destroy the keyer from inside on_keyed/on_failed.
class zrtp_keying final : public call::media_path_keying {
public:
    /// Opens the media port on `local`. `stream_group` names the streams of one leg (same peer)
    /// of one call: the first keys in DH mode, later ones in Multistream mode (§4.4.3); empty =
    /// a stream of its own. Errors: invalid_argument "media port ..." or from the configured
    /// algorithms; internal if the RNG fails.
    static api::api_result<std::unique_ptr<zrtp_keying>> create(event_loop& loop, media_runtime& rt,
                                                                 const table::endpoint& local,
                                                                 call::media_path_events events,
                                                                 std::string_view stream_group = {});
    ~zrtp_keying() override;

    call::keying_method method() const noexcept override { return call::keying_method::zrtp; }
    /// a=zrtp-hash: "1.10 <sha-256 of our Hello>" (§8.1).
    std::vector<std::pair<std::string, std::string>> local_attributes() const override;
    std::vector<std::pair<std::string, std::string>> session_attributes() const override { return {}; }
    /// Reads a=zrtp-hash (optional; when present the peer's Hello must match it, §8.1) and the
    /// peer's media address (c=, m= port), then sends our Hello there. A ZRTP packet from another
    /// source before the exchange is secure moves the peer there (symmetric RTP, as ZRTP
    /// clients behind NAT need). Errors: invalid_argument "a=zrtp-hash: ...".
    api::api_status set_remote(const sdp::session_description& sd, std::size_t m, bool is_offer) override;
    /// zrtp_show_json().
    nlohmann::json status() const override;

    /// The `zrtp show` view: state, role, negotiated algorithms, SAS (rendered B32 or B256),
    /// sas_verified (our cache) and peer_sas_verified (the peer's V flag), cache status
    /// (new_peer / match / mismatch), peer ZID, multistream, last error, counters. Never keys.
    nlohmann::json zrtp_show_json() const;
    /// `zrtp verify`: marks (or clears) the SAS as verified for this peer's ZID in the cache
    /// (§7.1). Errors: invalid_argument "not secure yet"; internal if the cache cannot be written.
    api::api_status verify_sas(bool verified = true);

    const media_port& port() const noexcept { return *_port; }
    zrtp::endpoint_info info() const { return _ep->info(); }

private:
    zrtp_keying(event_loop& loop, std::unique_ptr<zrtp::endpoint> ep, call::media_path_events ev, zrtp::zid_cache& zids);
    void on_zrtp(std::span<const std::byte> d, const table::endpoint& src);
    void on_timer();
    void start_if_ready();
    void pump();

    event_loop& _loop;
    std::unique_ptr<zrtp::endpoint> _ep;
    call::media_path_events _ev;
    zrtp::zid_cache& _zids; ///< the runtime's (outlives every keyer); flushed after the events
    std::unique_ptr<media_port> _port;
    std::optional<table::endpoint> _peer;
    bool _started = false, _keyed = false, _peer_hash_signalled = false;
    deadline_timer _timer;
    std::shared_ptr<bool> _alive;
    uint64_t _discarded = 0, _refused = 0, _cache_errors = 0, _mismatch_events = 0;
    std::string _last_discard;
};

} // namespace srtpo::cp::media
