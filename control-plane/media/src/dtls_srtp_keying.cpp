#include <srtpo/cp/media/dtls_srtp_keying.hpp>

#include <srtpo/cp/dtls/fingerprint.hpp>
#include <srtpo/cp/dtls/srtp_profile.hpp>
#include <srtpo/cp/ice/ice_sdp.hpp>
#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/media/media_runtime.hpp>
#include <srtpo/cp/media/remote_sdp.hpp>
#include <srtpo/cp/sdp/session_description.hpp>

#include "event_loop.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

namespace srtpo::cp::media {

using api::api_errc;
using api::make_api_error;
using clock = std::chrono::steady_clock;

namespace {

api::api_error sdp_error(std::string msg) { return make_api_error(api_errc::invalid_argument, "sdp", std::move(msg)); }

std::string_view state_name(const dtls::endpoint* ep) {
    if (!ep) return "waiting_for_remote";
    switch (ep->state()) {
    case dtls::endpoint_state::idle: return "idle";
    case dtls::endpoint_state::handshaking: return "handshaking";
    case dtls::endpoint_state::connected: return "connected";
    case dtls::endpoint_state::failed: return "failed";
    case dtls::endpoint_state::closed: return "closed";
    }
    return "unknown";
}

} // namespace

api::api_result<std::unique_ptr<dtls_srtp_keying>> dtls_srtp_keying::create(event_loop& loop, media_runtime& rt,
                                                                            const table::endpoint& local,
                                                                            call::media_path_events events) {
    auto creds = ice::generate_credentials();
    auto tls_id = dtls::make_tls_id();
    uint64_t tie = 0;
    if (!creds || !tls_id || RAND_bytes(reinterpret_cast<unsigned char*>(&tie), sizeof tie) != 1)
        return make_api_error(api_errc::internal, "", "dtls-srtp: the random number generator failed");
    std::unique_ptr<dtls_srtp_keying> k(
        new dtls_srtp_keying(loop, rt, std::move(events), std::move(*creds), tie, std::move(*tls_id)));
    port_handlers h;
    h.stun = [raw = k.get()](std::span<const std::byte> d, const table::endpoint& s) { raw->on_stun(d, s); };
    h.dtls = [raw = k.get()](std::span<const std::byte> d, const table::endpoint& s) { raw->on_dtls(d, s); };
    auto port = media_port::open(loop, local, std::move(h));
    if (!port) return make_api_error(api_errc::invalid_argument, "", "media port: " + port.err().message);
    k->_port = std::move(*port);
    return k;
}

dtls_srtp_keying::dtls_srtp_keying(event_loop& loop, media_runtime& rt, call::media_path_events ev,
                                   ice::ice_credentials creds, uint64_t tie_breaker, std::string tls_id)
    : _loop(loop), _rt(rt), _ev(std::move(ev)), _ice(std::move(creds), std::nullopt, tie_breaker),
      _local_tls_id(std::move(tls_id)), _timer(loop, [this] { on_timer(); }), _alive(std::make_shared<bool>(true)) {}

dtls_srtp_keying::~dtls_srtp_keying() {
    *_alive = false;
    release_slot();
}

std::vector<std::pair<std::string, std::string>> dtls_srtp_keying::local_attributes() const {
    std::vector<std::pair<std::string, std::string>> a;
    a.emplace_back("fingerprint", _rt.dtls_context()->cert().sdp_fingerprint(dtls::hash_func::sha_256));
    a.emplace_back("setup", std::string(dtls::to_string(_our_setup)));
    a.emplace_back("tls-id", _local_tls_id);
    const ice::host_candidate host{ip_string(_port->local()), _port->local().port};
    if (auto lines = ice::ice_media_lines(_ice.local(), std::span(&host, 1))) {
        for (const auto& l : *lines) {
            // "a=name:value" -> (name, value)
            const auto body = std::string_view(l).substr(2);
            const auto colon = body.find(':');
            a.emplace_back(std::string(body.substr(0, colon)),
                           colon == std::string_view::npos ? std::string() : std::string(body.substr(colon + 1)));
        }
    }
    return a;
}

std::vector<std::pair<std::string, std::string>> dtls_srtp_keying::session_attributes() const {
    return {{"ice-lite", ""}};
}

api::api_status dtls_srtp_keying::set_remote(const sdp::session_description& sd, std::size_t m, bool is_offer) {
    if (auto r = check_media_index(sd, m); !r) return r;
    // RFC 8122 §5 / RFC 5763 §5: the certificate must match one of the fingerprints.
    std::vector<dtls::fingerprint> fps;
    for (const auto& v : attribute_values(sd, m, "fingerprint")) {
        auto fp = dtls::parse_fingerprint(v);
        if (!fp) return sdp_error("a=fingerprint: " + fp.err().message);
        fps.push_back(std::move(*fp));
    }
    if (fps.empty()) return sdp_error("no a=fingerprint: DTLS-SRTP needs the peer's certificate fingerprint (RFC 5763 §5)");

    // RFC 4145 §4: a missing a=setup means active.
    dtls::setup_attr theirs = dtls::setup_attr::active;
    if (auto v = attribute_value(sd, m, "setup")) {
        auto s = dtls::parse_setup(*v);
        if (!s) return sdp_error(s.err().message);
        theirs = *s;
    }
    if (theirs == dtls::setup_attr::holdconn)
        return make_api_error(api_errc::unsupported, "sdp", "a=setup:holdconn: the peer wants no DTLS association");
    const dtls::setup_attr ours = is_offer ? dtls::answer_setup(theirs) : _our_setup;
    auto role = dtls::negotiate_role(ours, theirs);
    if (!role) return sdp_error(role.err().message);

    const auto tls_id = attribute_value(sd, m, "tls-id");
    auto action = dtls::tls_id_action(_remote_tls_id ? std::optional<std::string_view>(*_remote_tls_id) : std::nullopt,
                                      tls_id ? std::optional<std::string_view>(*tls_id) : std::nullopt);
    if (!action) return sdp_error("a=tls-id: " + action.err().message);

    const auto ufrag = attribute_value(sd, m, "ice-ufrag");
    const auto pwd = attribute_value(sd, m, "ice-pwd");
    if (ufrag.has_value() != pwd.has_value())
        return sdp_error(ufrag ? "a=ice-ufrag without a=ice-pwd" : "a=ice-pwd without a=ice-ufrag");
    if (ufrag && (!ice::valid_ufrag(*ufrag) || !ice::valid_pwd(*pwd)))
        return sdp_error("a=ice-ufrag/a=ice-pwd: not 4..256 / 22..256 ice-chars (RFC 8839 §5.4)");

    // Everything is valid: apply it.
    const bool first = !_ep;
    const bool renew = first || *role != _role || fps != _remote_fps ||
                       (tls_id && *action == dtls::association_action::new_association) ||
                       _ep->state() == dtls::endpoint_state::failed;
    _our_setup = ours;
    _remote_fps = std::move(fps);
    _remote_tls_id = tls_id;
    if (ufrag) {
        if (_remote_ufrag && *_remote_ufrag != *ufrag) _ice_checked.reset(); // ICE restart, RFC 8445 §9
        _remote_ufrag = *ufrag;
        _ice.set_remote(ice::ice_credentials{*ufrag, *pwd});
    }
    _signalled = signalled_address(sd, m);
    if (!renew) return api::ok();
    if (!first) {
        // RFC 8842 §5: each new association has a fresh tls-id on our side too.
        if (auto id = dtls::make_tls_id()) _local_tls_id = std::move(*id);
    }
    return new_association(*role);
}

api::api_status dtls_srtp_keying::new_association(dtls::dtls_role role) {
    release_slot();
    const auto now = clock::now();
    const auto& s = _rt.config().dtls;
    if (_ep && _role == role) {
        if (auto r = _ep->restart(now, _remote_fps); !r)
            return make_api_error(api_errc::internal, "", "dtls restart: " + r.err().message);
    } else {
        dtls::endpoint_config cfg;
        cfg.role = role;
        cfg.profiles = s.profiles;
        cfg.selection = s.selection;
        cfg.remote_fingerprints = _remote_fps;
        cfg.mtu = s.mtu;
        cfg.timers = s.timers;
        auto ep = dtls::endpoint::create(_rt.dtls_context(), std::move(cfg));
        if (!ep) return make_api_error(api_errc::invalid_argument, "", "dtls: " + ep.err().message);
        _ep = std::move(*ep);
        if (auto r = _ep->start(now); !r) return make_api_error(api_errc::internal, "", "dtls start: " + r.err().message);
    }
    _role = role;
    // The client sends to the address a valid ICE check came from, else to the SDP's address;
    // the server learns its peer from the first ClientHello.
    if (role == dtls::dtls_role::client)
        _peer = _ice_checked ? _ice_checked : _signalled;
    else
        _peer.reset();
    pump();
    return api::ok();
}

void dtls_srtp_keying::release_slot() {
    if (_slot) _rt.handshake_limiter().release(*_slot);
    _slot.reset();
}

void dtls_srtp_keying::on_stun(std::span<const std::byte> d, const table::endpoint& src) {
    const auto r = _ice.handle(d, to_transport_address(src));
    using k = ice::binding_result::kind;
    if (r.k == k::success || r.k == k::error) (void)_port->send_to(r.response, src);
    if (r.k != k::success) {
        if (r.k == k::error) {
            ++_stun_rejected;
            _last_stun_rejection = std::to_string(r.error_code) + " " + r.reason;
        } else {
            ++_stun_ignored;
        }
        return;
    }
    ++_stun_ok;
    _ice_checked = src;
    // A lite agent's peer moves only by checks (RFC 8445 §2.5): the client follows the checked
    // address until its handshake is done, and then sends what is queued there.
    if (_ep && _role == dtls::dtls_role::client && _ep->state() != dtls::endpoint_state::connected && _peer != src) {
        _peer = src;
        pump();
    }
}

void dtls_srtp_keying::on_dtls(std::span<const std::byte> d, const table::endpoint& src) {
    if (!_ep) {
        // Without the peer's SDP there is no fingerprint to check: the peer retransmits.
        ++_dtls_before_remote;
        return;
    }
    if (!_peer) { // server role: the first ClientHello picks the peer
        if (_remote_ufrag && _ice_checked && *_ice_checked != src) {
            ++_dtls_unchecked_source; // the peer does ICE: only a checked address may speak DTLS
            return;
        }
        const auto source = ip_string(src);
        if (!_rt.handshake_limiter().try_acquire(source)) {
            ++_dtls_over_limit;
            return;
        }
        _slot = source;
        _peer = src;
    } else if (*_peer != src) {
        ++_dtls_other_source;
        return;
    }
    _ep->receive(d, clock::now());
    pump();
}

void dtls_srtp_keying::on_timer() {
    if (!_ep) return;
    _ep->on_timer(clock::now());
    pump();
}

bool dtls_srtp_keying::pump() {
    if (_peer) {
        while (auto d = _ep->poll_datagram()) (void)_port->send_to(*d, *_peer);
    }
    _timer.arm(_ep->next_timeout());
    const auto alive = _alive;
    while (auto e = _ep->poll_event()) {
        if (auto* done = std::get_if<dtls::handshake_done>(&*e)) {
            release_slot();
            ++_associations;
            _profile = done->keying.suite;
            _last_failure.clear();
            _peer_fingerprint = "match"; // a handshake completes only with a matching certificate
            if (_ev.on_keyed) _ev.on_keyed(done->keying, _peer.value_or(table::endpoint{}));
        } else if (auto* f = std::get_if<dtls::handshake_failed>(&*e)) {
            release_slot();
            _last_failure = std::string(dtls::to_string(f->reason)) + ": " + f->message;
            if (f->reason == dtls::failure::fingerprint_mismatch) _peer_fingerprint = "mismatch";
            _timer.cancel();
            if (_ev.on_failed) _ev.on_failed("dtls " + _last_failure);
        } else if (std::get_if<dtls::alert>(&*e)) {
            ++_alerts;
        }
        if (!*alive) return false;
    }
    return true;
}

nlohmann::json dtls_srtp_keying::status() const {
    nlohmann::json j{{"method", "dtls-srtp"},
                     {"state", state_name(_ep.get())},
                     {"setup", dtls::to_string(_our_setup)},
                     {"local_tls_id", _local_tls_id},
                     {"associations", _associations},
                     {"fingerprint", _rt.dtls_context()->cert().sdp_fingerprint(dtls::hash_func::sha_256)}};
    if (_role) j["role"] = *_role == dtls::dtls_role::client ? "client" : "server";
    if (_remote_tls_id) j["remote_tls_id"] = *_remote_tls_id;
    if (_profile)
        j["profile"] = std::string(dtls::openssl_profile_name(*_profile).value_or(dtls::rfc_profile_name(*_profile).value_or("?")));
    if (_ep && _ep->stack()) j["stack"] = std::string(dtls::to_string(*_ep->stack()));
    if (_peer) j["peer"] = to_string(*_peer);
    if (!_last_failure.empty()) j["failure"] = _last_failure;
    j["peer_fingerprint"] = _peer_fingerprint;
    nlohmann::json ice{{"local_ufrag", _ice.local().ufrag},
                       {"checks_ok", _stun_ok},
                       {"checks_rejected", _stun_rejected},
                       {"stun_ignored", _stun_ignored}};
    if (_remote_ufrag) ice["remote_ufrag"] = *_remote_ufrag;
    if (_ice_checked) ice["checked_address"] = to_string(*_ice_checked);
    if (!_last_stun_rejection.empty()) ice["last_rejection"] = _last_stun_rejection;
    j["ice"] = std::move(ice);
    j["dtls_drops"] = {{"before_remote_sdp", _dtls_before_remote},
                       {"other_source", _dtls_other_source},
                       {"unchecked_source", _dtls_unchecked_source},
                       {"handshake_limit", _dtls_over_limit}};
    j["alerts"] = _alerts;
    j["port"] = _port->counters_json();
    return j;
}

} // namespace srtpo::cp::media
