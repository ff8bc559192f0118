// The call engine (call_engine.hpp, docs/calls.md): offer/answer on two legs, ports, per-leg
// keying and the flows of each stream.

#include <srtpo/cp/call/call_engine.hpp>

#include <srtpo/cp/call/offered_keying.hpp>

#include "flow_registry.hpp"
#include "log.hpp"
#include "media_anchor.hpp"
#include "port_pool.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/cp/sdes/negotiation.hpp>
#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sdp/media_rewrite.hpp>
#include <srtpo/engine/kdf.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace srtpo::cp::call {

using api::api_errc;
using api::make_api_error;
using nlohmann::json;

namespace {

constexpr std::size_t idx(side s) noexcept { return s == side::a ? 0 : 1; }
constexpr const char* name_of(side s) noexcept { return s == side::a ? "a" : "b"; }

/// One leg of one stream (one m= line as seen by one peer).
struct leg_media {
    uint16_t port = 0;                   ///< our RTP port on this leg (0: none)
    std::string addrtype = "IP4", address; ///< our media address on this leg
    std::optional<table::endpoint> peer; ///< where this leg's peer receives (its c= and m= port)
    bool rtcp_mux = false;               ///< RFC 5761 agreed on this leg
    keying_method method = keying_method::plain;
    std::optional<srtp_keying> keys;     ///< agreed keys; none on a plain leg
    /// Our last SDES answer to this leg's peer: RFC 4568 §7.1.4 lets a re-offer repeating the
    /// peer's key keep ours, so nothing is rekeyed.
    std::optional<sdes::answer_result> sdes_answer;
    /// MIKEY answered on this leg (RFC 4567): the peer's last I_MESSAGE (a re-offer repeating it
    /// changes nothing; answering it again would be a replay, RFC 3830 §5.4), our R_MESSAGE for
    /// the answer (empty without the V flag) and whether the offer carried it at session level.
    std::string mikey_offer;
    mikey::bytes mikey_reply;
    bool mikey_session_level = false;
    /// DTLS-SRTP / ZRTP: the keyer on this leg's media port; keys arrive through its events.
    std::shared_ptr<media_path_keying> path;
};

/// One m= line of the call.
struct stream {
    bool anchored = false; ///< an audio/video RTP stream with ports on both legs
    std::string media;
    std::array<leg_media, 2> legs;
    /// The flows in the registry: [0] matches legs[a].local, [1] legs[b].local.
    std::array<std::optional<api::flow_spec>, 2> installed;
};

/// An offer sent towards `to`, waiting for its answer: the proposed state of every stream.
struct pending_offer {
    side to = side::b;
    std::vector<stream> streams;
    std::vector<std::optional<sdes::offer_state>> sdes_offers; ///< our SDES offer to `to`, per stream
    std::vector<std::shared_ptr<mikey::initiator>> mikey_offers; ///< our MIKEY offer to `to`, per stream
    std::vector<uint16_t> new_ports;                     ///< taken for this exchange, released if it fails
    std::vector<engine::suite> to_suites;
};

api::api_error from_engine(const engine::error& e, const std::string& field) {
    api_errc c = api_errc::invalid_argument;
    switch (e.code) {
    case engine::errc::unknown_suite:
    case engine::errc::unsupported: c = api_errc::unsupported; break;
    case engine::errc::bad_key_length: c = api_errc::bad_key_length; break;
    case engine::errc::backend_failure:
    case engine::errc::io_error: c = api_errc::internal; break;
    case engine::errc::invalid_argument: break;
    }
    return make_api_error(c, field, field + ": " + e.message);
}

void wipe(std::string& s) noexcept { engine::secure_zero(s.data(), s.size()); }

/// SDP bodies carry keys in a=crypto / a=key-mgmt: every line is wiped before it is freed.
struct wiped_sdp {
    sdp::session_description sd;
    ~wiped_sdp() {
        for (auto& l : sd.session) wipe(l.value);
        for (auto& m : sd.media)
            for (auto& l : m.lines) wipe(l.value);
    }
};

bool is_unspecified(std::string_view a) { return a == "0.0.0.0" || a == "::"; }

api::api_result<table::endpoint> endpoint_of(std::string_view addrtype, std::string_view address, uint16_t port,
                                             const std::string& field) {
    if (address.find('/') != std::string_view::npos)
        return make_api_error(api_errc::unsupported, field, field + ": multicast c= (" + std::string(address) + ") is not anchored");
    std::string text = addrtype == "IP6" ? "[" + std::string(address) + "]:" : std::string(address) + ":";
    return api::parse_endpoint(text + std::to_string(port), field);
}

/// Attributes that key or reach a leg's media path: they never cross to the other leg
/// (the anchor terminates each leg's keying and ICE).
void strip_keying(sdp::media_description& m) {
    for (const char* a : {"crypto", "key-mgmt", "fingerprint", "setup", "tls-id", "zrtp-hash", "ice-ufrag", "ice-pwd",
                          "ice-options", "candidate", "end-of-candidates", "remote-candidates", "ice-lite", "connection"})
        m.remove_attributes(a);
}
void strip_session_keying(sdp::session_description& sd) {
    std::erase_if(sd.session, [](const sdp::line& l) {
        if (l.type != 'a') return false;
        for (std::string_view a : {"crypto", "key-mgmt", "fingerprint", "setup", "tls-id", "zrtp-hash", "ice-ufrag", "ice-pwd",
                                   "ice-options", "ice-lite"}) {
            std::string_view v = l.value;
            if (v.substr(0, a.size()) == a && (v.size() == a.size() || v[a.size()] == ':')) {
                engine::secure_zero(const_cast<char*>(l.value.data()), l.value.size());
                return true;
            }
        }
        return false;
    });
}

sdp::profile profile_for(keying_method k) {
    return k == keying_method::plain || k == keying_method::zrtp ? sdp::profile::avp : sdp::profile::savp;
}

/// Our SDES offer repeating the key we already send with (RFC 4568 §7.1.4: a re-offer that keeps
/// the key does not rekey).
sdes::offer_state repeat_offer(const srtp_keying& k) {
    sdes::offer_state st;
    sdes::crypto_attribute a;
    a.tag = 1;
    a.suite = k.suite;
    a.suite_name = std::string(engine::traits(k.suite).name);
    engine::sdes_key_params p;
    p.key_salt = k.local.key_salt;
    p.lifetime = k.local.lifetime;
    if (!k.local.mki.empty()) {
        engine::sdes_mki mki;
        mki.length = static_cast<uint8_t>(k.local.mki.size());
        mki.bytes = k.local.mki;
        for (auto b : k.local.mki) mki.value = (mki.value << 8) | static_cast<uint8_t>(b);
        p.mki = std::move(mki);
    }
    a.keys.push_back(std::move(p));
    st.offered.push_back(std::move(a));
    return st;
}

bool same_leg(const std::optional<api::leg_spec>& x, const std::optional<api::leg_spec>& y) {
    if (x.has_value() != y.has_value()) return false;
    if (!x) return true;
    return x->suite == y->suite && x->key_salt.size() == y->key_salt.size() && x->key_salt.equals(y->key_salt.bytes()) &&
           x->mki == y->mki && x->lifetime == y->lifetime && x->window == y->window && x->roc == y->roc &&
           x->unencrypted_srtp == y->unencrypted_srtp && x->unencrypted_srtcp == y->unencrypted_srtcp &&
           x->unauthenticated_srtp == y->unauthenticated_srtp;
}

bool same_flow(const api::flow_spec& x, const api::flow_spec& y) {
    return x.match == y.match && x.rtcp_mux == y.rtcp_mux && same_leg(x.in, y.in) && same_leg(x.out, y.out) &&
           x.authenticate_only == y.authenticate_only && x.send_from == y.send_from && x.send_to == y.send_to;
}

/// The a=key-mgmt:mikey value that applies to media section `m` (media level first, then session
/// level, RFC 4567 §3.1), and whether it came from the session level.
std::optional<std::pair<std::string, bool>> mikey_attribute(const sdp::session_description& sd, std::size_t m) {
    for (auto v : sd.media.at(m).attributes("key-mgmt"))
        if (v.substr(0, 6) == "mikey ") return std::pair{std::string(v), false};
    for (const auto& l : sd.session)
        if (l.type == 'a' && l.value.rfind("key-mgmt:mikey ", 0) == 0) return std::pair{l.value.substr(9), true};
    return std::nullopt;
}

/// The first a=ssrc (RFC 5576) of a media section: the SSRC the peer sends with.
std::optional<uint32_t> ssrc_of(const sdp::media_description& m) {
    auto v = m.attribute("ssrc");
    if (!v) return std::nullopt;
    uint32_t x = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (ec != std::errc{}) return std::nullopt;
    return x;
}

/// One leg's srtp_keying from the crypto sessions of a MIKEY bundle (RFC 3830 §4.1.3: each SSRC's
/// stream has its own TEK, used by whoever sends that SSRC). The peer's key is the session of
/// the SSRC its SDP announces (else the first); ours is another SSRC's session, or the same one
/// when the bundle has a single key (TEK+SALT, or one crypto session): srtpo-pmd does not rewrite
/// SSRCs, so a per-SSRC key for what we send is only right for the SSRC the other leg's peer uses.
api::api_result<srtp_keying> keying_from(const std::vector<mikey::crypto_session>& cs, std::optional<uint32_t> peer_ssrc,
                                         const std::string& field) {
    if (cs.empty()) return make_api_error(api_errc::invalid_argument, field, field + ": MIKEY gave no crypto session");
    const mikey::crypto_session* remote = &cs.front();
    if (peer_ssrc)
        for (const auto& s : cs)
            if (s.ssrc == peer_ssrc) remote = &s;
    const mikey::crypto_session* local = remote;
    for (const auto& s : cs)
        if (&s != remote && s.ssrc != remote->ssrc) {
            local = &s;
            break;
        }
    if (local->keying.suite != remote->keying.suite)
        return make_api_error(api_errc::unsupported, field, field + ": MIKEY crypto sessions with different SRTP policies on one leg");
    srtp_keying k;
    k.suite = remote->keying.suite;
    k.remote = remote->keying.remote;
    k.local = local->keying.local;
    k.params = remote->keying.params;
    k.protocol = "mikey";
    return k;
}

/// A leg's peer address from its SDP: the c= that applies to section `i` and its m= port.
/// c=0.0.0.0 is the old hold form (RFC 3264 §8.4): the stream keeps its last address.
api::api_status learn_peer(const sdp::session_description& sd, std::size_t i, const std::string& field, leg_media& leg) {
    auto conn = sdp::effective_connection(sd, i);
    if (!conn) return make_api_error(api_errc::invalid_argument, field, field + ": no c= line for this stream (RFC 8866 §5.7)");
    if (is_unspecified(conn->address)) return api::ok();
    auto peer = endpoint_of(conn->addrtype, conn->address, sd.media[i].port, field + ".c");
    if (!peer) return peer.err();
    leg.peer = *peer;
    return api::ok();
}

bool on_media_path(keying_method k) noexcept { return k == keying_method::dtls_srtp || k == keying_method::zrtp; }

/// A media-path keyer's attributes in our SDP: media-level ones in section `m` now; session-level
/// ones (a=ice-lite) collected, to be added once after the session-level strip.
void add_path_attributes(sdp::session_description& sd, std::size_t m, const media_path_keying& k, std::vector<std::string>& session) {
    auto& md = sd.media[m];
    for (const auto& [name, value] : k.local_attributes()) {
        if (value.empty()) md.add_attribute(name);
        else md.add_attribute(name, value);
    }
    if (k.method() == keying_method::dtls_srtp) // RFC 5764 §8: the DTLS-SRTP profile
        md.proto = md.proto.ends_with("AVPF") ? "UDP/TLS/RTP/SAVPF" : "UDP/TLS/RTP/SAVP";
    for (const auto& [name, value] : k.session_attributes()) {
        std::string text = value.empty() ? name : name + ":" + value;
        if (std::find(session.begin(), session.end(), text) == session.end()) session.push_back(std::move(text));
    }
}

/// Inserts session-level a= lines after t= (RFC 8866 §5: attributes follow the time fields).
void add_session_attributes(sdp::session_description& sd, const std::vector<std::string>& attrs) {
    for (auto a = attrs.rbegin(); a != attrs.rend(); ++a) {
        auto at = std::find_if(sd.session.begin(), sd.session.end(), [](const sdp::line& l) { return l.type == 't'; });
        sd.session.insert(at == sd.session.end() ? sd.session.end() : at + 1, sdp::line{'a', *a});
    }
}

std::string mikey_failure(const mikey::exchange_result& r) {
    if (!r.error) return "no keys agreed";
    return r.error->message + " (MIKEY ERR " + std::to_string(static_cast<unsigned>(r.error->err)) + ")";
}

} // namespace

struct call_engine::call_state {
    std::vector<stream> streams;
    std::optional<pending_offer> pending;
    std::array<uint64_t, 2> version{}; ///< o= sess-version of the SDP we last sent each leg (RFC 3264 §8)
};

namespace {

table::endpoint local_of(const leg_media& l) {
    auto e = endpoint_of(l.addrtype, l.address, l.port, "media.address");
    return e ? *e : table::endpoint{};
}

/// The flows a stream wants, or none when it cannot carry media yet (no peer address, or a leg
/// whose keys are still being agreed on the media path).
std::optional<std::array<api::flow_spec, 2>> wanted_flows(const stream& st, uint16_t window) {
    if (!st.anchored) return std::nullopt;
    std::array<anchor_leg, 2> al;
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& l = st.legs[i];
        if (l.port == 0 || !l.peer) return std::nullopt;
        if (l.method != keying_method::plain && !l.keys) return std::nullopt;
        al[i].local = local_of(l);
        al[i].peer = l.peer;
        al[i].keys = l.keys ? &*l.keys : nullptr;
        al[i].rtcp_mux = l.rtcp_mux;
        al[i].replay_window = window;
    }
    return anchor_flows(al[0], al[1]);
}

/// Brings the registry from the flows of `before` to those `after` wants, all-or-nothing: new
/// flows go in as one batch (atomic in the registry), changed ones are updated (the pmd keeps
/// ROC and replay state: same flow key, new generation) and rolled back if one fails, and flows
/// no longer wanted are removed last, once nothing can fail. On success `after`'s `installed`
/// records what the registry holds.
api::api_status apply_flows(flow_registry& reg, const std::vector<stream>& before, std::vector<stream>& after, uint16_t window) {
    std::vector<api::flow_spec> adds;
    std::vector<std::pair<std::size_t, std::size_t>> add_at; // (stream, flow) of each add
    std::vector<std::pair<std::size_t, std::size_t>> updates;
    std::vector<table::endpoint> removes;
    std::vector<std::array<std::optional<api::flow_spec>, 2>> next(after.size());
    for (std::size_t s = 0; s < std::max(before.size(), after.size()); ++s) {
        std::optional<std::array<api::flow_spec, 2>> want;
        if (s < after.size()) want = wanted_flows(after[s], window);
        for (std::size_t k = 0; k < 2; ++k) {
            const std::optional<api::flow_spec>* have = s < before.size() ? &before[s].installed[k] : nullptr;
            const bool has = have && have->has_value();
            if (want) next[s][k] = (*want)[k];
            if (!want) {
                if (has) removes.push_back((*have)->match);
            } else if (!has) {
                adds.push_back((*want)[k]);
                add_at.emplace_back(s, k);
            } else if ((*have)->match != (*want)[k].match) {
                removes.push_back((*have)->match);
                adds.push_back((*want)[k]);
                add_at.emplace_back(s, k);
            } else if (!same_flow(**have, (*want)[k])) {
                updates.emplace_back(s, k);
            }
        }
    }
    std::vector<table::endpoint> added;
    if (!adds.empty()) {
        auto r = reg.add(std::move(adds));
        if (!r) return r.err();
        for (const auto& a : *r) added.push_back(a.match);
    }
    for (std::size_t u = 0; u < updates.size(); ++u) {
        auto [s, k] = updates[u];
        auto spec = *next[s][k];
        if (auto r = reg.update(std::move(spec)); !r) {
            for (std::size_t back = 0; back < u; ++back) {
                auto [bs, bk] = updates[back];
                auto old = *before[bs].installed[bk];
                (void)reg.update(std::move(old));
            }
            for (const auto& m : added) (void)reg.remove(m);
            return r.err();
        }
    }
    for (const auto& m : removes) (void)reg.remove(m);
    for (std::size_t s = 0; s < after.size(); ++s) after[s].installed = std::move(next[s]);
    return api::ok();
}

void release_ports(port_pool& pool, const std::vector<uint16_t>& ports) {
    for (auto p : ports) pool.release(p);
}

} // namespace

call_engine::call_engine(flow_registry& reg, port_pool& ports, media_config cfg) : _reg(reg), _ports(ports), _cfg(std::move(cfg)) {}

call_engine::~call_engine() = default;

api::api_result<sdp_rewrite> call_engine::offer(std::string_view call_id, side from, std::string_view body,
                                                const leg_policy& to_policy) {
    if (call_id.empty() || call_id.size() > 256)
        return make_api_error(api_errc::invalid_argument, "call_id", "call_id: 1..256 characters");
    if (!_cfg.enabled) return make_api_error(api_errc::unsupported, "", "calls are disabled: no [media] address configured");
    wiped_sdp in;
    {
        auto p = sdp::parse(body);
        if (!p) return from_engine(p.err(), "sdp");
        in.sd = std::move(*p);
    }
    auto& sd = in.sd;
    auto it = _calls.find(call_id);
    const bool created = it == _calls.end();
    if (created) it = _calls.emplace(std::string(call_id), std::make_unique<call_state>()).first;
    call_state& c = *it->second;
    const side to = other(from);

    pending_offer p;
    p.to = to;
    // Whatever fails below leaves the call as it was: ports taken for this offer go back, a call
    // created by it disappears.
    struct undo {
        call_engine& e;
        pending_offer& p;
        std::string id;
        bool created, armed = true;
        ~undo() {
            if (!armed) return;
            release_ports(e._ports, p.new_ports);
            if (created) e._calls.erase(id);
        }
    } guard{*this, p, std::string(call_id), created};

    if (c.pending)
        return make_api_error(api_errc::invalid_argument, "call_id",
                              "call " + std::string(call_id) + ": an offer towards " + name_of(c.pending->to) +
                                  " is still waiting for its answer (RFC 3264 §4: one offer at a time; SIP answers 491)");
    if (sd.media.size() < c.streams.size())
        return make_api_error(api_errc::invalid_argument, "sdp",
                              "sdp: a re-offer keeps every m= line of the session (RFC 3264 §8): " + std::to_string(sd.media.size()) +
                                  " instead of " + std::to_string(c.streams.size()));

    // The leg we generate the offer for: its address, suites and keying method.
    std::string to_addrtype = _cfg.addrtype, to_address = _cfg.address;
    if (!to_policy.media_address.empty()) {
        auto sp = to_policy.media_address.find(' ');
        if (sp == std::string::npos) to_address = to_policy.media_address;
        else {
            to_addrtype = to_policy.media_address.substr(0, sp);
            to_address = to_policy.media_address.substr(sp + 1);
        }
        if (auto e = endpoint_of(to_addrtype, to_address, 1, "policy.media_address"); !e) return e.err();
    }
    p.to_suites = _cfg.suites;
    if (!to_policy.suites.empty()) {
        auto s = parse_suite_names(to_policy.suites, "policy.suites");
        if (!s) return from_engine(s.err(), "policy.suites");
        p.to_suites = std::move(*s);
    }
    sdes::policy from_pol;
    from_pol.preference = _cfg.suites;
    sdes::policy to_pol;
    to_pol.preference = p.to_suites;

    sdp_rewrite out;
    p.streams = c.streams;
    p.streams.resize(sd.media.size());
    p.sdes_offers.resize(sd.media.size());
    for (std::size_t i = 0; i < sd.media.size(); ++i) {
        auto& m = sd.media[i];
        auto& st = p.streams[i];
        auto& lf = st.legs[idx(from)];
        auto& lt = st.legs[idx(to)];
        const std::string field = "sdp.m[" + std::to_string(i) + "]";
        if ((m.media != "audio" && m.media != "video") || !m.is_rtp()) {
            // Only RTP audio/video is anchored; forwarding anything else would let media bypass
            // the anchor, so the other leg sees the stream disabled (RFC 3264 §6: port 0).
            if (m.port != 0) out.notes.push_back(field + ": m=" + m.media + " " + m.proto + " is not anchored; offered with port 0");
            strip_keying(m);
            m.port = 0;
            st.anchored = false;
            continue;
        }
        strip_keying(m);
        if (m.port == 0) { // the offerer disables the stream (RFC 3264 §8.2)
            st.anchored = false;
            continue;
        }
        st.anchored = true;
        st.media = m.media;
        if (auto r = learn_peer(sd, i, field, lf); !r) return r.err();
        for (auto* l : {&lf, &lt}) {
            if (l->port != 0) continue;
            auto port = _ports.allocate();
            if (!port) return make_api_error(api_errc::table_full, "", "media ports exhausted");
            p.new_ports.push_back(*port);
            l->port = *port;
            if (l == &lf) {
                l->addrtype = _cfg.addrtype;
                l->address = _cfg.address;
            } else {
                l->addrtype = to_addrtype;
                l->address = to_address;
            }
        }
        out.notes.push_back(field + ": " + name_of(from) + " port " + std::to_string(lf.port) + ", " + name_of(to) + " port " +
                            std::to_string(lt.port));
    }
    // Keying of each anchored stream. Read from the received body again: strip_keying above
    // removed the offerer's keying attributes from what we forward.
    wiped_sdp rx;
    {
        auto r = sdp::parse(body);
        if (!r) return from_engine(r.err(), "sdp");
        rx.sd = std::move(*r);
    }
    std::map<std::string, mikey::exchange_result> mikey_done;
    std::vector<std::string> session_attrs;
    p.mikey_offers.resize(sd.media.size());
    for (std::size_t i = 0; i < sd.media.size(); ++i) {
        auto& st = p.streams[i];
        if (!st.anchored) continue;
        auto& lf = st.legs[idx(from)];
        auto& lt = st.legs[idx(to)];
        const auto& om = rx.sd.media[i];
        const std::string field = "sdp.m[" + std::to_string(i) + "]";
        auto method = offered_keying(rx.sd, i);
        if (!method) return make_api_error(method.err().code, field, field + ": " + method.err().message);
        // RFC 5761 on a stream only when both legs multiplex: a flow carries one rtcp_mux for
        // what arrives and what leaves (the pmd sends RTCP that came on P + 1 to the peer's
        // P + 1), so the anchor offers mux to the other leg only if the offerer offered it, and
        // accepts the offerer's mux only if the other leg accepts it too (in answer()).
        lf.rtcp_mux = om.attribute("rtcp-mux").has_value();
        lt.rtcp_mux = lf.rtcp_mux && to_policy.rtcp_mux; // offered; settled by the answer
        if (auto rtcp = om.attribute("rtcp"); rtcp && !lf.rtcp_mux) {
            unsigned rp = 0;
            auto [end, ec] = std::from_chars(rtcp->data(), rtcp->data() + rtcp->size(), rp);
            (void)end;
            if (ec == std::errc{} && rp != static_cast<unsigned>(om.port) + 1)
                out.notes.push_back(field + ": a=rtcp port " + std::to_string(rp) + " is not RTP port + 1; RTCP is sent to port + 1");
        }
        bool from_key_kept = false;
        switch (*method) {
        case keying_method::sdes: {
            auto attrs = sdes::crypto_attributes(om);
            if (!attrs) return from_engine(attrs.err(), field + ".crypto");
            auto r = lf.sdes_answer && lf.method == keying_method::sdes ? sdes::answer_reoffer(*attrs, from_pol, *lf.sdes_answer)
                                                                         : sdes::answer_offer(*attrs, from_pol);
            if (!r) return from_engine(r.err(), field + ".crypto");
            from_key_kept = lf.keys && lf.keys->suite == r->keying.suite &&
                            lf.keys->local.key_salt.equals(r->keying.local.key_salt.bytes()) &&
                            lf.keys->remote.key_salt.equals(r->keying.remote.key_salt.bytes());
            lf.keys = r->keying;
            lf.sdes_answer = std::move(*r);
            break;
        }
        case keying_method::mikey: {
            auto attr = mikey_attribute(rx.sd, i);
            if (!attr) return make_api_error(api_errc::invalid_argument, field, field + ": no a=key-mgmt:mikey");
            if (lf.method == keying_method::mikey && lf.keys && attr->first == lf.mikey_offer) {
                from_key_kept = true; // the same I_MESSAGE again (hold, refresh): keys stay
                break;
            }
            auto msg = mikey::parse_key_mgmt(attr->first);
            if (!msg) return from_engine(msg.err(), field + ".key-mgmt");
            mikey::responder_config rc;
            rc.cred.psk = _cfg.mikey_psk;
            rc.cred.own_id.assign(_cfg.mikey_identity.begin(), _cfg.mikey_identity.end());
            rc.cred.peer_id.assign(_cfg.mikey_peer_identity.begin(), _cfg.mikey_peer_identity.end());
            rc.replay = &_mikey_replay;
            // PSK and DHHMAC from the PSK; DH and PK (signed, RFC 3830 §3.2/§3.3) only with our key
            // and the certificates we trust configured.
            rc.cred.own_key = _cfg.mikey_own_key;
            rc.cred.trust = _cfg.mikey_trust;
            rc.allow_dh = rc.allow_pk = _cfg.mikey_own_key && _cfg.mikey_trust;
            rc.allow_null_encr = rc.allow_null_mac = _cfg.mikey_allow_null;
            mikey::exchange_result res;
            if (auto done = mikey_done.find(attr->first); done != mikey_done.end()) {
                res = done->second; // a session-level message serves every stream (answered once)
            } else {
                res = mikey::responder(std::move(rc)).handle(*msg, std::chrono::system_clock::now());
                mikey_done.emplace(attr->first, res);
            }
            if (!res.ok()) return make_api_error(api_errc::unsupported, field, field + ": MIKEY: " + mikey_failure(res));
            auto k = keying_from(res.sessions, ssrc_of(om), field);
            if (!k) return k.err();
            lf.keys = std::move(*k);
            lf.sdes_answer.reset();
            lf.mikey_offer = attr->first;
            lf.mikey_reply = res.reply;
            lf.mikey_session_level = attr->second;
            break;
        }
        case keying_method::dtls_srtp:
        case keying_method::zrtp: {
            auto k = path_keyer(std::string(call_id), i, from, *method, local_of(lf), lf.method == *method ? lf.path : nullptr);
            if (!k) return make_api_error(k.err().code, field, field + ": " + k.err().message);
            if (auto r = (*k)->set_remote(rx.sd, i, true); !r) return make_api_error(r.err().code, field, field + ": " + r.err().message);
            if (lf.path != *k) lf.keys.reset(); // a new keyer: keys come with its on_keyed
            lf.path = std::move(*k);
            lf.sdes_answer.reset();
            break;
        }
        case keying_method::plain:
            lf.keys.reset();
            lf.sdes_answer.reset();
            break;
        default:
            return make_api_error(api_errc::unsupported, field,
                                  field + ": " + std::string(to_string(*method)) + " keying is not available on this srtpo-cp");
        }
        if (!on_media_path(*method)) lf.path.reset();
        lf.method = *method;

        keying_method to_method = to_policy.method == keying_method::same ? *method : to_policy.method;
        switch (to_method) {
        case keying_method::sdes: {
            // Keep the key we send the other leg when nothing changed on this one (a re-INVITE
            // for hold/resume, RFC 4568 §7.1.4), so neither leg is rekeyed.
            if (from_key_kept && lt.method == keying_method::sdes && lt.keys &&
                std::find(p.to_suites.begin(), p.to_suites.end(), lt.keys->suite) != p.to_suites.end()) {
                p.sdes_offers[i] = repeat_offer(*lt.keys);
            } else {
                auto o = sdes::make_offer(to_pol);
                if (!o) return from_engine(o.err(), "policy.suites");
                p.sdes_offers[i] = std::move(*o);
            }
            break;
        }
        case keying_method::mikey: {
            // The mode of [media] mikey_mode (PSK by default). One crypto session for the leg:
            // the pmd forwards the other leg's SSRCs unchanged, so one key for every SSRC is what
            // the peer can use (the CS map names the SSRC the offerer announced, if any). PSK and
            // PK carry one TEK+SALT; DH and DHHMAC agree a TGK and the TEK is derived from it
            // (RFC 3830 §4.1.3), the only transport those modes have.
            const auto mode = _cfg.mikey_mode;
            const bool uses_psk = mode == mikey::mode::psk || mode == mikey::mode::dhhmac;
            if (uses_psk && _cfg.mikey_psk.empty())
                return make_api_error(api_errc::unsupported, "policy.method",
                                      "policy.method: a MIKEY offer needs [media] mikey_psk_file");
            mikey::initiator_config ic;
            ic.m = mode;
            ic.cred.psk = _cfg.mikey_psk;
            ic.cred.own_id.assign(_cfg.mikey_identity.begin(), _cfg.mikey_identity.end());
            ic.cred.peer_id.assign(_cfg.mikey_peer_identity.begin(), _cfg.mikey_peer_identity.end());
            ic.cred.own_key = _cfg.mikey_own_key;
            ic.cred.trust = _cfg.mikey_trust;
            ic.cred.peer_cert = _cfg.mikey_peer_cert;
            ic.streams = {{ssrc_of(om).value_or(0), 0}};
            ic.policy.suite = p.to_suites.front();
            ic.transport = mode == mikey::mode::dh || mode == mikey::mode::dhhmac ? mikey::key_data_type::tgk
                                                                                   : mikey::key_data_type::tek_salt;
            ic.group = _cfg.mikey_dh_group;
            ic.verification = _cfg.mikey_verify;
            auto init = mikey::initiator::start(std::move(ic), std::chrono::system_clock::now());
            if (!init) return from_engine(init.err(), "policy.suites");
            p.mikey_offers[i] = std::make_shared<mikey::initiator>(std::move(*init));
            break;
        }
        case keying_method::dtls_srtp:
        case keying_method::zrtp: {
            auto k = path_keyer(std::string(call_id), i, to, to_method, local_of(lt), lt.method == to_method ? lt.path : nullptr);
            if (!k) return make_api_error(k.err().code, "policy.method", "policy.method: " + k.err().message);
            if (lt.path != *k) lt.keys.reset();
            lt.path = std::move(*k);
            break;
        }
        case keying_method::plain: break;
        default:
            return make_api_error(api_errc::unsupported, "policy.method",
                                  "policy.method: " + std::string(to_string(to_method)) + " keying is not available on this srtpo-cp");
        }
        if (!on_media_path(to_method)) lt.path.reset();
        if (to_method != lt.method && !on_media_path(to_method)) lt.keys.reset();
        lt.method = to_method;
        if (to_method == keying_method::plain) lt.keys.reset();

        auto& m = sd.media[i];
        sdp::anchor_endpoint ep;
        ep.addrtype = lt.addrtype;
        ep.address = lt.address;
        ep.rtp_port = lt.port;
        ep.rtcp_mux = lt.rtcp_mux;
        if (auto r = sdp::anchor_media(sd, i, ep, profile_for(to_method)); !r) return from_engine(r.err(), field);
        if (p.sdes_offers[i])
            if (auto r = sdes::set_crypto_attributes(m, p.sdes_offers[i]->offered); !r) return from_engine(r.err(), field);
        if (p.mikey_offers[i]) m.add_attribute("key-mgmt", mikey::key_mgmt_value(p.mikey_offers[i]->i_message()));
        if (lt.path) add_path_attributes(sd, i, *lt.path, session_attrs);
    }
    strip_session_keying(sd);
    add_session_attributes(sd, session_attrs);
    const auto& any_to = std::find_if(p.streams.begin(), p.streams.end(), [](const stream& s) { return s.anchored; });
    const std::string& addrtype = any_to != p.streams.end() ? any_to->legs[idx(to)].addrtype : to_addrtype;
    const std::string& address = any_to != p.streams.end() ? any_to->legs[idx(to)].address : to_address;
    if (auto r = sdp::anchor_session(sd, addrtype, address, c.version[idx(to)] + 1); !r) return from_engine(r.err(), "sdp.o");
    out.sdp = sdp::serialize(sd);
    c.version[idx(to)] += 1;
    guard.armed = false;
    c.pending = std::move(p);
    return out;
}

api::api_result<sdp_rewrite> call_engine::answer(std::string_view call_id, side from, std::string_view body) {
    auto it = _calls.find(call_id);
    if (it == _calls.end()) return make_api_error(api_errc::not_found, "call_id", "call " + std::string(call_id) + " is not known");
    call_state& c = *it->second;
    if (!c.pending || c.pending->to != from)
        return make_api_error(api_errc::not_found, "side",
                              "call " + std::string(call_id) + ": no offer is waiting for an answer from " + name_of(from));
    // The pending offer is consumed whatever happens (media_handler: a failed answer discards it).
    pending_offer p = std::move(*c.pending);
    c.pending.reset();
    struct undo {
        call_engine& e;
        pending_offer& p;
        std::string id;
        bool armed = true;
        ~undo() {
            if (!armed) return;
            release_ports(e._ports, p.new_ports);
            auto i = e._calls.find(id);
            if (i != e._calls.end() && i->second->streams.empty()) e._calls.erase(i);
        }
    } guard{*this, p, std::string(call_id)};

    const side offerer = other(from);
    wiped_sdp in;
    {
        auto r = sdp::parse(body);
        if (!r) return from_engine(r.err(), "sdp");
        in.sd = std::move(*r);
    }
    auto& sd = in.sd;
    if (sd.media.size() != p.streams.size())
        return make_api_error(api_errc::invalid_argument, "sdp",
                              "sdp: the answer has " + std::to_string(sd.media.size()) + " m= lines, the offer had " +
                                  std::to_string(p.streams.size()) + " (RFC 3264 §6)");
    sdes::policy to_pol;
    to_pol.preference = p.to_suites;
    sdp_rewrite out;
    std::string mikey_session_reply;
    std::vector<std::string> session_attrs;
    for (std::size_t i = 0; i < sd.media.size(); ++i) {
        auto& st = p.streams[i];
        auto& m = sd.media[i];
        const std::string field = "sdp.m[" + std::to_string(i) + "]";
        if (!st.anchored || m.port == 0) {
            if (st.anchored) out.notes.push_back(field + ": rejected by " + std::string(name_of(from)) + " (port 0)");
            st.anchored = false;
            strip_keying(m);
            m.port = 0;
            continue;
        }
        auto& la = st.legs[idx(from)];     // the answerer's leg
        auto& lo = st.legs[idx(offerer)];  // the offerer's leg
        if (auto r = learn_peer(sd, i, field, la); !r) return r.err();
        la.rtcp_mux = la.rtcp_mux && m.attribute("rtcp-mux").has_value();
        lo.rtcp_mux = la.rtcp_mux; // both legs multiplex, or neither (see offer())
        // MIKEY without the V flag answers with no key-mgmt at all (RFC 4567 §3.1): plain SAVP.
        // ZRTP's a=zrtp-hash is optional (RFC 6189 §8.1): an RTP/AVP answer to our ZRTP offer is ZRTP.
        const bool no_sdp_keys = m.attributes("crypto").empty() && !mikey_attribute(sd, i) && !m.attribute("fingerprint");
        auto method = la.method == keying_method::mikey && m.proto.find("SAVP") != std::string::npos && m.attributes("crypto").empty()
                          ? api::api_result<keying_method>(keying_method::mikey)
                      : la.method == keying_method::zrtp && no_sdp_keys && m.proto.find("SAVP") == std::string::npos
                          ? api::api_result<keying_method>(keying_method::zrtp)
                          : offered_keying(sd, i);
        if (!method) return make_api_error(method.err().code, field, field + ": " + method.err().message);
        if (*method != la.method)
            return make_api_error(api_errc::unsupported, field,
                                  field + ": answered with " + std::string(to_string(*method)) + " keying to a " +
                                      std::string(to_string(la.method)) + " offer");
        if (la.method == keying_method::sdes) {
            auto attrs = sdes::crypto_attributes(m);
            if (!attrs) return from_engine(attrs.err(), field + ".crypto");
            auto k = sdes::accept_answer(*p.sdes_offers[i], *attrs, to_pol);
            if (!k) return from_engine(k.err(), field + ".crypto");
            la.keys = std::move(*k);
            la.sdes_answer.reset();
        } else if (la.method == keying_method::mikey) {
            auto& init = *p.mikey_offers[i];
            mikey::exchange_result res;
            if (init.expects_response()) {
                auto attr = mikey_attribute(sd, i);
                if (!attr)
                    return make_api_error(api_errc::unsupported, field, field + ": MIKEY: the answer has no a=key-mgmt:mikey with the verification message we asked for");
                auto msg = mikey::parse_key_mgmt(attr->first);
                if (!msg) return from_engine(msg.err(), field + ".key-mgmt");
                res = init.handle_response(*msg, std::chrono::system_clock::now());
            } else {
                res = init.keys();
            }
            if (!res.ok()) return make_api_error(api_errc::unsupported, field, field + ": MIKEY: " + mikey_failure(res));
            auto k = keying_from(res.sessions, std::nullopt, field);
            if (!k) return k.err();
            la.keys = std::move(*k);
        } else if (la.path) {
            if (auto r = la.path->set_remote(sd, i, false); !r) return make_api_error(r.err().code, field, field + ": " + r.err().message);
        }
        strip_keying(m);
        sdp::anchor_endpoint ep;
        ep.addrtype = lo.addrtype;
        ep.address = lo.address;
        ep.rtp_port = lo.port;
        ep.rtcp_mux = lo.rtcp_mux;
        if (auto r = sdp::anchor_media(sd, i, ep, profile_for(lo.method)); !r) return from_engine(r.err(), field);
        if (lo.method == keying_method::sdes && lo.sdes_answer) {
            std::array<sdes::crypto_attribute, 1> one{lo.sdes_answer->answer};
            if (auto r = sdes::set_crypto_attributes(m, one); !r) return from_engine(r.err(), field);
        }
        if (lo.path) add_path_attributes(sd, i, *lo.path, session_attrs);
        if (lo.method == keying_method::mikey && !lo.mikey_reply.empty()) {
            const auto v = mikey::key_mgmt_value(lo.mikey_reply);
            if (!lo.mikey_session_level) m.add_attribute("key-mgmt", v);
            else if (mikey_session_reply.empty()) mikey_session_reply = v;
        }
    }
    strip_session_keying(sd);
    // A session-level I_MESSAGE gets its R_MESSAGE at session level (RFC 4567 §3.1), once.
    if (!mikey_session_reply.empty()) session_attrs.push_back("key-mgmt:" + mikey_session_reply);
    add_session_attributes(sd, session_attrs);
    const auto any = std::find_if(p.streams.begin(), p.streams.end(), [](const stream& s) { return s.anchored; });
    const std::string addrtype = any != p.streams.end() ? any->legs[idx(offerer)].addrtype : _cfg.addrtype;
    const std::string address = any != p.streams.end() ? any->legs[idx(offerer)].address : _cfg.address;
    if (auto r = sdp::anchor_session(sd, addrtype, address, c.version[idx(offerer)] + 1); !r) return from_engine(r.err(), "sdp.o");

    if (auto r = apply_flows(_reg, c.streams, p.streams, _cfg.replay_window); !r) return r.err();

    // Committed. Streams no longer anchored give their ports back and forget their keys.
    for (auto& st : p.streams) {
        if (st.anchored) continue;
        for (auto& l : st.legs) {
            if (l.port) _ports.release(l.port);
            l = leg_media{};
        }
    }
    out.sdp = sdp::serialize(sd);
    c.version[idx(offerer)] += 1;
    c.streams = std::move(p.streams);
    guard.armed = false;
    return out;
}

api::api_result<std::shared_ptr<media_path_keying>> call_engine::path_keyer(const std::string& call_id, std::size_t stream, side s,
                                                                            keying_method m, const table::endpoint& local,
                                                                            const std::shared_ptr<media_path_keying>& current) {
    if (current && current->method() == m) return current; // a re-offer: set_remote restarts or rekeys it
    if (!_factory)
        return make_api_error(api_errc::unsupported, "",
                              std::string(to_string(m)) + " keying is not available on this srtpo-cp (no media-path keyer configured)");
    // The keyer outlives neither the engine nor its leg; its events name the leg and check
    // that it is still the leg's keyer before touching anything.
    auto holder = std::make_shared<const media_path_keying*>(nullptr);
    media_path_events ev;
    ev.on_keyed = [this, call_id, stream, s, holder](const srtp_keying& k, const table::endpoint& peer) {
        on_path_keyed(call_id, stream, s, *holder, k, peer);
    };
    ev.on_failed = [this, call_id, stream, s, holder](const std::string& why) { on_path_failed(call_id, stream, s, *holder, why); };
    auto made = _factory(m, local, std::move(ev), call_id + "/" + name_of(s));
    if (!made) return made.err();
    if (!*made || (*made)->method() != m)
        return make_api_error(api_errc::internal, "", std::string(to_string(m)) + " keyer factory returned no keyer of that method");
    std::shared_ptr<media_path_keying> k(std::move(*made));
    *holder = k.get();
    return k;
}

void call_engine::on_path_keyed(const std::string& call_id, std::size_t i, side s, const media_path_keying* keyer, const srtp_keying& k,
                                const table::endpoint& peer) {
    auto it = _calls.find(call_id);
    if (it == _calls.end() || !keyer) return;
    auto& c = *it->second;
    // Keys may come before the answer that completes the exchange (a DTLS client starts as soon
    // as it has our offer): the pending state learns them too, so the commit keeps them.
    if (c.pending && i < c.pending->streams.size() && c.pending->streams[i].legs[idx(s)].path.get() == keyer) {
        c.pending->streams[i].legs[idx(s)].keys = k;
        c.pending->streams[i].legs[idx(s)].peer = peer;
    }
    if (i >= c.streams.size() || c.streams[i].legs[idx(s)].path.get() != keyer) return;
    auto next = c.streams;
    next[i].legs[idx(s)].keys = k;
    next[i].legs[idx(s)].peer = peer; // where the peer's media really comes from (ICE, NAT)
    if (auto r = apply_flows(_reg, c.streams, next, _cfg.replay_window); !r) {
        log_warn("call " + call_id + " stream " + std::to_string(i) + " leg " + name_of(s) + ": " + k.protocol +
                 " keys agreed but the flows were refused: " + r.err().message);
        return;
    }
    c.streams = std::move(next);
    log_info("call " + call_id + " stream " + std::to_string(i) + " leg " + name_of(s) + " keyed by " + k.protocol + " (" +
             std::string(engine::traits(k.suite).name) + ")");
}

void call_engine::on_path_failed(const std::string& call_id, std::size_t i, side s, const media_path_keying* keyer, const std::string& why) {
    auto it = _calls.find(call_id);
    if (it == _calls.end() || !keyer) return;
    auto& c = *it->second;
    if (c.pending && i < c.pending->streams.size() && c.pending->streams[i].legs[idx(s)].path.get() == keyer)
        c.pending->streams[i].legs[idx(s)].keys.reset();
    if (i >= c.streams.size() || c.streams[i].legs[idx(s)].path.get() != keyer) return;
    auto next = c.streams;
    next[i].legs[idx(s)].keys.reset(); // no keys, no flows: the stream's media stops at the anchor
    if (auto r = apply_flows(_reg, c.streams, next, _cfg.replay_window); r) c.streams = std::move(next);
    log_warn("call " + call_id + " stream " + std::to_string(i) + " leg " + name_of(s) + ": media-path keying failed: " + why);
}

void call_engine::reject_offer(std::string_view call_id, side to) {
    auto it = _calls.find(call_id);
    if (it == _calls.end() || !it->second->pending || it->second->pending->to != to) return;
    release_ports(_ports, it->second->pending->new_ports);
    it->second->pending.reset();
    if (it->second->streams.empty()) _calls.erase(it);
}

void call_engine::remove(std::string_view call_id) {
    auto it = _calls.find(call_id);
    if (it == _calls.end()) return;
    auto& c = *it->second;
    if (c.pending) release_ports(_ports, c.pending->new_ports);
    for (auto& st : c.streams) {
        for (auto& f : st.installed)
            if (f) (void)_reg.remove(f->match);
        for (auto& l : st.legs)
            if (l.port) _ports.release(l.port);
    }
    _calls.erase(it); // srtp_keying and SDES state wipe their keys
}

api::api_result<json> call_engine::describe(std::string_view call_id) const {
    auto it = _calls.find(call_id);
    if (it == _calls.end()) return make_api_error(api_errc::not_found, "call_id", "call " + std::string(call_id) + " is not known");
    const auto& c = *it->second;
    json streams = json::array();
    for (std::size_t i = 0; i < c.streams.size(); ++i) {
        const auto& st = c.streams[i];
        json js{{"index", i}, {"media", st.media}, {"anchored", st.anchored}};
        if (st.anchored) {
            json legs = json::object();
            for (auto s : {side::a, side::b}) {
                const auto& l = st.legs[idx(s)];
                json jl{{"method", to_string(l.method)},
                        {"local", api::to_string(local_of(l))},
                        {"rtcp", l.rtcp_mux ? "mux" : "port+1"}};
                jl["peer"] = l.peer ? json(api::to_string(*l.peer)) : json(nullptr);
                if (l.keys) jl["suite"] = engine::traits(l.keys->suite).name;
                if (l.path) jl["media_path"] = l.path->status();
                const auto& f = st.installed[idx(s)];
                jl["flow"] = f ? json(api::to_string(f->match)) : json(nullptr);
                legs[name_of(s)] = std::move(jl);
            }
            js["legs"] = std::move(legs);
        }
        streams.push_back(std::move(js));
    }
    json j{{"call_id", it->first}, {"streams", std::move(streams)}};
    j["pending_offer_to"] = c.pending ? json(name_of(c.pending->to)) : json(nullptr);
    return j;
}

api::api_result<std::vector<path_leg>> call_engine::path_legs(std::string_view call_id) const {
    auto it = _calls.find(call_id);
    if (it == _calls.end()) return make_api_error(api_errc::not_found, "call_id", "call " + std::string(call_id) + " is not known");
    std::vector<path_leg> out;
    for (std::size_t i = 0; i < it->second->streams.size(); ++i)
        for (auto s : {side::a, side::b})
            if (const auto& p = it->second->streams[i].legs[idx(s)].path) out.push_back({i, s, p});
    return out;
}

json call_engine::list() const {
    json calls = json::array();
    for (const auto& [id, c] : _calls) {
        std::size_t flows = 0, anchored = 0;
        for (const auto& st : c->streams) {
            anchored += st.anchored;
            for (const auto& f : st.installed) flows += f.has_value();
        }
        calls.push_back({{"call_id", id}, {"streams", anchored}, {"flows", flows},
                         {"pending_offer_to", c->pending ? json(name_of(c->pending->to)) : json(nullptr)}});
    }
    return json{{"calls", std::move(calls)}, {"count", _calls.size()}};
}

} // namespace srtpo::cp::call
