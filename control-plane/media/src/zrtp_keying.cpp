#include <srtpo/cp/media/zrtp_keying.hpp>

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

api::api_result<std::unique_ptr<zrtp_keying>> zrtp_keying::create(event_loop& loop, media_runtime& rt,
                                                                  const table::endpoint& local,
                                                                  call::media_path_events events,
                                                                  std::string_view stream_group) {
    zrtp::endpoint_config cfg = rt.config().zrtp.exchange;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&cfg.ssrc), sizeof cfg.ssrc) != 1)
        return make_api_error(api_errc::internal, "", "zrtp: the random number generator failed");
    auto ep = zrtp::endpoint::create(rt.zrtp_call(stream_group), std::move(cfg));
    if (!ep) return make_api_error(api_errc::invalid_argument, "", "zrtp: " + ep.err().message);
    std::unique_ptr<zrtp_keying> k(new zrtp_keying(loop, std::move(*ep), std::move(events), rt.zid_cache()));
    port_handlers h;
    h.zrtp = [raw = k.get()](std::span<const std::byte> d, const table::endpoint& s) { raw->on_zrtp(d, s); };
    auto port = media_port::open(loop, local, std::move(h));
    if (!port) return make_api_error(api_errc::invalid_argument, "", "media port: " + port.err().message);
    k->_port = std::move(*port);
    return k;
}

zrtp_keying::zrtp_keying(event_loop& loop, std::unique_ptr<zrtp::endpoint> ep, call::media_path_events ev, zrtp::zid_cache& zids)
    : _loop(loop), _ep(std::move(ep)), _ev(std::move(ev)), _zids(zids), _timer(loop, [this] { on_timer(); }),
      _alive(std::make_shared<bool>(true)) {}

zrtp_keying::~zrtp_keying() { *_alive = false; }

std::vector<std::pair<std::string, std::string>> zrtp_keying::local_attributes() const {
    return {{"zrtp-hash", _ep->zrtp_hash()}};
}

api::api_status zrtp_keying::set_remote(const sdp::session_description& sd, std::size_t m, bool /*is_offer*/) {
    if (auto r = check_media_index(sd, m); !r) return r;
    if (auto h = attribute_value(sd, m, "zrtp-hash")) {
        // §8.1: a Hello already received is checked at once; a mismatch fails the endpoint,
        // which pump() reports through on_failed.
        if (auto r = _ep->set_peer_zrtp_hash(*h); !r)
            return make_api_error(api_errc::invalid_argument, "sdp", "a=zrtp-hash: " + r.err().message);
        _peer_hash_signalled = true;
    }
    if (!_peer) _peer = signalled_address(sd, m);
    start_if_ready();
    pump();
    return api::ok();
}

void zrtp_keying::start_if_ready() {
    if (_started || !_peer) return;
    _started = true;
    _ep->start(clock::now());
}

void zrtp_keying::on_zrtp(std::span<const std::byte> d, const table::endpoint& src) {
    if (_ep->current_state() != zrtp::state::secure) _peer = src;
    else if (_peer != src) return; // after Secure, only the keyed peer's address speaks ZRTP
    start_if_ready();
    _ep->receive(std::span(reinterpret_cast<const uint8_t*>(d.data()), d.size()), clock::now());
    pump();
}

void zrtp_keying::on_timer() {
    _ep->on_timer(clock::now());
    pump();
}

void zrtp_keying::pump() {
    for (const auto& p : _ep->take_outgoing())
        if (_peer) (void)_port->send_to(std::as_bytes(std::span(p)), *_peer);
    _timer.arm(_ep->next_timeout());
    const auto alive = _alive;
    auto& zids = _zids;
    // The retained secret of a secure exchange is written after on_keyed has installed the
    // flows (zid_cache::defer_saves): the peer sends SRTP right after Conf2ACK (RFC 6189 §4.6).
    struct flush_after {
        zrtp::zid_cache& z;
        zrtp_keying* k;
        const std::shared_ptr<bool>& alive;
        ~flush_after() {
            if (auto r = z.flush(); !r && *alive) ++k->_cache_errors;
        }
    } flush{zids, this, alive};
    for (const auto& e : _ep->take_events()) {
        switch (e.kind) {
        case zrtp::event_kind::secure:
            if (auto k = _ep->keying(); k && _ev.on_keyed) {
                _keyed = true;
                _ev.on_keyed(*k, _peer.value_or(table::endpoint{}));
            }
            break;
        case zrtp::event_kind::failed:
            _timer.cancel();
            if (_ev.on_failed) _ev.on_failed("zrtp " + e.detail);
            break;
        case zrtp::event_kind::cache_mismatch: ++_mismatch_events; break;
        case zrtp::event_kind::discarded:
            ++_discarded;
            _last_discard = e.detail;
            break;
        case zrtp::event_kind::refused: ++_refused; break;
        case zrtp::event_kind::cache_error: ++_cache_errors; break;
        }
        if (!*alive) return;
    }
}

nlohmann::json zrtp_keying::status() const { return zrtp_show_json(); }

nlohmann::json zrtp_keying::zrtp_show_json() const {
    const auto i = _ep->info();
    static constexpr char hexd[] = "0123456789abcdef";
    std::string zid;
    for (auto b : i.peer_zid) {
        zid += hexd[b >> 4];
        zid += hexd[b & 15];
    }
    nlohmann::json j{{"method", "zrtp"},
                     {"state", zrtp::to_string(i.st)},
                     {"role", i.r == zrtp::role::initiator ? "initiator" : i.r == zrtp::role::responder ? "responder" : "undecided"},
                     {"zrtp_hash", _ep->zrtp_hash()},
                     {"peer_zrtp_hash_signalled", _peer_hash_signalled},
                     {"cache", zrtp::to_string(i.cache)},
                     {"sas_verified", i.sas_verified},
                     {"peer_sas_verified", i.peer_sas_verified},
                     {"multistream", i.multistream},
                     {"counters", {{"discarded", _discarded}, {"refused", _refused}, {"cache_errors", _cache_errors}}},
                     {"port", _port->counters_json()}};
    if (i.negotiated) {
        // Wire words are 4 characters padded with blanks ("B32 ", §5.1.6); operators get them trimmed.
        const auto word = [](std::string_view w) { return std::string(w.substr(0, w.find_last_not_of(' ') + 1)); };
        j["algorithms"] = {{"hash", word(zrtp::name(i.algorithms.hash))},
                           {"cipher", word(zrtp::name(i.algorithms.cipher))},
                           {"auth_tag", word(zrtp::name(i.algorithms.auth))},
                           {"key_agreement", word(zrtp::name(i.algorithms.ka))},
                           {"sas_type", word(zrtp::name(i.algorithms.sas))}};
        j["peer_zid"] = zid;
    }
    if (!i.sas.empty()) j["sas"] = i.sas;
    if (i.cache == zrtp::cache_status::mismatch)
        j["warning"] = "retained secret mismatch: possible man-in-the-middle, compare the SAS (RFC 6189 §4.6.1.1)";
    if (i.last_error) j["last_error"] = i.last_error;
    if (!i.failure.empty()) j["failure"] = i.failure;
    if (!_last_discard.empty()) j["last_discard"] = _last_discard;
    if (_peer) j["peer"] = to_string(*_peer);
    return j;
}

api::api_status zrtp_keying::verify_sas(bool verified) {
    if (_ep->current_state() != zrtp::state::secure)
        return make_api_error(api_errc::invalid_argument, "", "zrtp: not secure yet, there is no SAS to verify");
    if (auto r = _ep->verify_sas(verified); !r)
        return make_api_error(api_errc::internal, "", "zrtp cache: " + r.err().message);
    return api::ok();
}

} // namespace srtpo::cp::media
