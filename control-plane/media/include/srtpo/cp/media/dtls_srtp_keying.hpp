#pragma once
// DTLS-SRTP (RFC 5763, RFC 5764) with an ICE-lite responder (RFC 8445 §2.5) on one media port:
// the media_path_keying of a leg whose method is keying_method::dtls_srtp.
//
// On the port, STUN Binding requests are answered by the ICE-lite agent with our a=ice-ufrag /
// a=ice-pwd (a valid check teaches us the peer's address), DTLS goes to a dtls::endpoint whose
// role comes from a=setup (RFC 5763 §5: an offer says actpass, the answerer picks active, so
// the offerer is the server), and whose peer certificate must match one of the peer's
// a=fingerprint lines. A new a=tls-id or fingerprint on a later offer/answer starts a new
// association (RFC 8842 §5): the new handshake_done is a rekey. The handshake's retransmission
// and overall timers are event_loop timers; the number of concurrent handshakes a source address
// may run is bounded by the runtime's limiter.

#include <srtpo/cp/call/media_path_keying.hpp>
#include <srtpo/cp/dtls/endpoint.hpp>
#include <srtpo/cp/dtls/setup_role.hpp>
#include <srtpo/cp/ice/ice_lite_agent.hpp>
#include <srtpo/cp/media/deadline_timer.hpp>
#include <srtpo/cp/media/media_port.hpp>

#include <memory>
#include <optional>
#include <string>

namespace srtpo::cp {
class event_loop;
}

namespace srtpo::cp::media {

class media_runtime;

/// Thread-safety: event loop thread only. Ownership: owns its port, DTLS endpoint, ICE agent
/// and timer; `loop` and `rt` must outlive it. The events may destroy the keyer from inside
/// on_keyed/on_failed; nothing of it is touched after they return.
class dtls_srtp_keying final : public call::media_path_keying {
public:
    /// Opens the media port on `local` and makes fresh ICE credentials and a tls-id.
    /// Errors: api_errc::invalid_argument "media port ..." if the port cannot be bound, internal
    /// if the RNG fails.
    static api::api_result<std::unique_ptr<dtls_srtp_keying>> create(event_loop& loop, media_runtime& rt,
                                                                      const table::endpoint& local,
                                                                      call::media_path_events events);
    ~dtls_srtp_keying() override;

    call::keying_method method() const noexcept override { return call::keying_method::dtls_srtp; }
    /// a=fingerprint (sha-256 of our certificate), a=setup (actpass in an offer; in an answer,
    /// what RFC 5763 §5 asks for the offer given to set_remote()), a=tls-id, a=ice-ufrag,
    /// a=ice-pwd, a=candidate (host, the port's address). Holds the ICE password: never log it.
    std::vector<std::pair<std::string, std::string>> local_attributes() const override;
    /// a=ice-lite (RFC 8839 §5.3).
    std::vector<std::pair<std::string, std::string>> session_attributes() const override;
    /// Reads a=fingerprint (required), a=setup (absent = active, RFC 4145 §4), a=tls-id,
    /// a=ice-ufrag/ice-pwd and c=/m= of section `m`; answering (is_offer), call it before
    /// local_attributes(). Starts the first handshake, or a new one (rekey) when the tls-id,
    /// a fingerprint or the role changed. Errors: invalid_argument "no a=fingerprint",
    /// "a=fingerprint: ...", "a=setup: ...", "a=tls-id: ...", "a=ice-pwd without a=ice-ufrag";
    /// unsupported for a=setup:holdconn.
    api::api_status set_remote(const sdp::session_description& sd, std::size_t m, bool is_offer) override;
    /// State, role, profile, association count, peer address, ICE and port counters. Never keys
    /// and never the ICE password.
    nlohmann::json status() const override;

    const media_port& port() const noexcept { return *_port; }

private:
    dtls_srtp_keying(event_loop& loop, media_runtime& rt, call::media_path_events ev, ice::ice_credentials creds,
                     uint64_t tie_breaker, std::string tls_id);
    void on_stun(std::span<const std::byte> d, const table::endpoint& src);
    void on_dtls(std::span<const std::byte> d, const table::endpoint& src);
    void on_timer();
    /// Sends queued datagrams, delivers events, re-arms the timer. Returns false if an event
    /// callback destroyed this keyer.
    bool pump();
    api::api_status new_association(dtls::dtls_role role);
    void release_slot();

    event_loop& _loop;
    media_runtime& _rt;
    call::media_path_events _ev;
    std::unique_ptr<media_port> _port;
    ice::ice_lite_agent _ice;
    std::string _local_tls_id;
    dtls::setup_attr _our_setup = dtls::offer_setup();
    std::optional<dtls::dtls_role> _role;
    std::vector<dtls::fingerprint> _remote_fps;
    std::optional<std::string> _remote_tls_id;
    std::optional<std::string> _remote_ufrag;
    std::unique_ptr<dtls::endpoint> _ep;
    std::optional<table::endpoint> _signalled;   ///< c=/m= of the peer's SDP
    std::optional<table::endpoint> _ice_checked; ///< source of the last valid Binding request
    std::optional<table::endpoint> _peer;        ///< where DTLS goes and comes from
    std::optional<std::string> _slot;            ///< limiter slot held for this source
    deadline_timer _timer;
    std::shared_ptr<bool> _alive;

    unsigned _associations = 0;
    std::optional<engine::suite> _profile;
    std::string _last_failure;
    /// The peer certificate against its a=fingerprint (RFC 5763 §5): unchecked, match, mismatch.
    std::string _peer_fingerprint = "unchecked";
    std::string _last_stun_rejection;
    uint64_t _stun_ok = 0, _stun_rejected = 0, _stun_ignored = 0, _alerts = 0;
    uint64_t _dtls_before_remote = 0, _dtls_other_source = 0, _dtls_unchecked_source = 0, _dtls_over_limit = 0;
};

} // namespace srtpo::cp::media
