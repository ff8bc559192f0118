// The B2BUA core: two RFC 3261 user agents back to back (UAS on leg A, UAC on leg B), one call.

#include <srtpo/cp/b2bua/b2bua.hpp>
#include <srtpo/cp/sdes/negotiation.hpp>
#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/response.hpp>

#include "log.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <functional>
#include <memory>

namespace srtpo::cp::b2bua {

using side = call::side;
using sip::ms;

namespace {

enum purpose : int { p_invite, p_cancel, p_bye, p_relay };

ms now_ms() {
    return std::chrono::duration_cast<ms>(event_loop::clock::now().time_since_epoch());
}
event_loop::clock::time_point at(ms t) { return event_loop::clock::time_point(std::chrono::duration_cast<event_loop::clock::duration>(t)); }

// SDP bodies carry SDES keys (RFC 4568): wipe our copies once they are sent.
void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

uint32_t cseq_of(const sip::message& m) {
    const auto* h = m.header("CSeq");
    auto q = h ? sip::parse_cseq(*h) : sip::result<sip::cseq>(engine::make_error(engine::errc::invalid_argument, "no CSeq"));
    return q ? q->number : 0;
}

std::string to_tag_of(const sip::message& m) {
    const auto* h = m.header("To");
    auto n = h ? sip::parse_name_addr(*h) : sip::result<sip::name_addr>(engine::make_error(engine::errc::invalid_argument, "no To"));
    return n ? std::string(n->tag()) : std::string{};
}
std::string from_tag_of(const sip::message& m) {
    const auto* h = m.header("From");
    auto n = h ? sip::parse_name_addr(*h) : sip::result<sip::name_addr>(engine::make_error(engine::errc::invalid_argument, "no From"));
    return n ? std::string(n->tag()) : std::string{};
}
std::string call_id_of(const sip::message& m) { return m.header("Call-ID") ? *m.header("Call-ID") : std::string{}; }

bool is_sdp(const sip::message& m) {
    const auto* ct = m.header("Content-Type");
    return ct && sip::iequals(sip::trim(std::string_view(*ct).substr(0, std::string_view(*ct).find(';'))), "application/sdp");
}

constexpr std::string_view allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY";

// Out-of-dialog methods we know but do not serve: 405 with Allow (§21.4.6); anything else 501.
bool known_method(std::string_view m) {
    for (std::string_view k : {"REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH"})
        if (m == k) return true;
    return false;
}

// Arms the loop timer of a transaction entry (server or client) at its next_timer(); when it fires,
// `fire` gets the entry if it still exists. The map outlives its timers (~b2bua cancels them).
template <class Map, class Fire>
void arm_tx_timer(event_loop& loop, Map& entries, const std::string& key, Fire fire) {
    auto it = entries.find(key);
    if (it == entries.end()) return;
    auto& e = *it->second;
    if (e.timer) loop.cancel(e.timer);
    e.timer = 0;
    const auto next = e.tx.next_timer();
    if (!next) return;
    e.timer = loop.at(at(*next), [&entries, key, fire] {
        auto i = entries.find(key);
        if (i == entries.end()) return;
        i->second->timer = 0;
        fire(*i->second);
    });
}

} // namespace

struct b2bua::server_entry {
    sip::server_transaction tx;
    peer from;
    std::string call_id;
    event_loop::timer_id timer = 0;
    bool answered_2xx = false; ///< INVITE answered 2xx: kept to absorb retransmitted INVITEs until the ACK
};

struct b2bua::client_entry {
    sip::client_transaction tx;
    peer to;
    std::string call_id;
    int purpose = p_invite;
    std::string server_key; ///< p_relay: the server transaction the response goes to
    event_loop::timer_id timer = 0;
};

namespace {
struct leg {
    sip::dialog dlg;
    peer remote;
    call::leg_policy policy;
    bool has_dialog = false;
};
} // namespace

struct b2bua::bridged_call {
    std::string id;
    leg legs[2];
    leg& of(side s) { return legs[s == side::a ? 0 : 1]; }
    bool established = false;
    // The INVITE transaction being bridged (the first one or a re-INVITE).
    bool inv_active = false, inv_initial = true, inv_offer = false;
    bool inv_provisional = false, inv_cancel_pending = false, inv_cancelled = false;
    side inv_from = side::a;
    std::string inv_server;
    sip::message inv_in, inv_out;
    // Our 2xx to inv_from, retransmitted until its ACK (§13.3.1.4).
    bool ack_wait = false, late_offer = false;
    std::string ok_wire;
    uint32_t ok_cseq = 0, out_cseq = 0;
    ms ok_interval{0}, ok_deadline{0};
    event_loop::timer_id ok_timer = 0;
    // The ACK we sent for each leg's last 2xx, resent when that 2xx is retransmitted.
    std::string ack_wire[2];
    uint32_t ack_cseq[2] = {0, 0};
};

b2bua::b2bua(const sip_config& cfg, event_loop& loop, transport& tp, call::media_handler& media)
    : _cfg(cfg), _loop(loop), _tp(tp), _media(media), _timers{cfg.t1, cfg.t2, cfg.t4} {
    auto b = sip::new_branch();
    _branch_prefix = b ? b->substr(0, 15) : "z9hG4bKsrtpo000";
}

b2bua::~b2bua() {
    for (auto& [k, e] : _servers)
        if (e->timer) _loop.cancel(e->timer);
    for (auto& [k, e] : _clients)
        if (e->timer) _loop.cancel(e->timer);
    for (auto& [k, c] : _calls) {
        if (c->ok_timer) _loop.cancel(c->ok_timer);
        _media.remove(c->id);
    }
}

std::string b2bua::branch() {
    auto b = sip::new_branch();
    return _branch_prefix + (b ? b->substr(7) : std::to_string(now_ms().count()));
}

std::string b2bua::contact(transport_kind t) const {
    return "<sip:srtpo@" + _tp.sent_by(t) + ";transport=" + std::string(to_string(t)) + ">";
}

std::string b2bua::local_tag(const bridged_call& c, side s) const { return c.legs[s == side::a ? 0 : 1].dlg.local_tag; }

void b2bua::transmit(const std::vector<std::string>& wires, const peer& to) {
    for (const auto& w : wires)
        if (auto r = _tp.send(to, w); !r) log_info("sip: send to " + to.host + ":" + std::to_string(to.port) + ": " + r.err().message);
}

// ---------------------------------------------------------------------------------------------
// Transactions

std::string b2bua::start_server(const sip::message& m, const peer& from) {
    auto key = sip::transaction_key(m, true);
    if (!key) return {};
    auto e = std::make_unique<server_entry>(server_entry{sip::server_transaction(m, is_stream(from.transport), now_ms(), _timers), from, {}, 0, false});
    transmit(e->tx.started().send, from);
    _servers[*key] = std::move(e);
    return *key;
}

void b2bua::respond(const std::string& key, const sip::message& resp) {
    auto it = _servers.find(key);
    if (it == _servers.end()) return;
    auto& e = *it->second;
    auto a = e.tx.respond(resp, now_ms());
    transmit(a.send, e.from);
    if (e.tx.state() == sip::tx_state::terminated) {
        if (e.tx.request().method == "INVITE" && resp.status_code < 300) {
            e.answered_2xx = true; // kept until the ACK or the end of the call
            return;
        }
        if (e.timer) _loop.cancel(e.timer);
        _servers.erase(it);
        return;
    }
    schedule_server(key);
}

void b2bua::respond_code(const std::string& key, int code, std::string_view reason) {
    auto it = _servers.find(key);
    if (it == _servers.end()) return;
    auto r = sip::make_response(it->second->tx.request(), code, {}, reason);
    if (code > 100 && to_tag_of(r).empty()) {
        // make_response adds the tag we pass; an error before any dialog gets a fresh one.
        auto t = sip::new_tag();
        r = sip::make_response(it->second->tx.request(), code, t ? *t : "srtpo", reason);
    }
    respond(key, r);
}

void b2bua::schedule_server(const std::string& key) {
    arm_tx_timer(_loop, _servers, key, [this, key](server_entry& e) {
        auto a = e.tx.on_timer(now_ms());
        transmit(a.send, e.from);
        if (e.tx.state() == sip::tx_state::terminated && !e.answered_2xx) _servers.erase(key);
        else schedule_server(key);
    });
}

b2bua::client_entry* b2bua::start_client(sip::message req, const peer& to, const std::string& call_id, int purpose,
                                         const std::string& server_key) {
    auto key = sip::transaction_key(req, false);
    if (!key) return nullptr;
    auto e = std::make_unique<client_entry>(
        client_entry{sip::client_transaction(std::move(req), is_stream(to.transport), now_ms(), _timers), to, call_id, purpose, server_key, 0});
    auto* p = e.get();
    _clients[*key] = std::move(e);
    for (const auto& w : p->tx.started().send) {
        auto r = _tp.send(p->to, w);
        if (!r) {
            log_info("sip: " + p->tx.request().method + " to " + to.host + ":" + std::to_string(to.port) + ": " + r.err().message);
            _transport_failure = true;
            on_client_actions(*key, p->tx.on_transport_error()); // §17.1.4
            _transport_failure = false;
            return nullptr;
        }
        if (is_stream(p->to.transport)) p->to.connection = *r; // responses come back on it (§18.1.2)
    }
    schedule_client(*key);
    return p;
}

void b2bua::schedule_client(const std::string& key) {
    arm_tx_timer(_loop, _clients, key, [this, key](client_entry& e) { on_client_actions(key, e.tx.on_timer(now_ms())); });
}

void b2bua::on_client_actions(const std::string& key, sip::tx_actions a) {
    auto it = _clients.find(key);
    if (it == _clients.end()) return;
    transmit(a.send, it->second->to);
    const int purpose = it->second->purpose;
    const std::string call_id = it->second->call_id;
    for (const auto& r : a.deliver) {
        if (purpose == p_invite) {
            if (auto c = _calls.find(call_id); c != _calls.end()) on_invite_response(*c->second, r);
        } else if (purpose == p_relay) {
            if (auto e = _clients.find(key); e != _clients.end()) on_relay_response(*e->second, r);
        }
    }
    if (a.timed_out) {
        if (purpose == p_invite) {
            if (auto c = _calls.find(call_id); c != _calls.end())
                on_invite_failure(*c->second, _transport_failure ? 503 : 408, _transport_failure ? "Next Hop Unreachable" : "");
        } else if (purpose == p_relay) {
            if (auto e = _clients.find(key); e != _clients.end()) respond_code(e->second->server_key, 408);
        }
    }
    it = _clients.find(key);
    if (it == _clients.end()) return;
    if (it->second->tx.state() == sip::tx_state::terminated) {
        if (it->second->timer) _loop.cancel(it->second->timer);
        _clients.erase(it);
    } else {
        schedule_client(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

void b2bua::on_message(sip::message m, const peer& from) {
    if (m.is_request()) on_request(std::move(m), from);
    else on_response(m);
    wipe(m.body);
}

b2bua::bridged_call* b2bua::find_call(std::string_view call_id, std::string_view tag, side& s) {
    auto it = _dialogs.find(std::string(call_id) + "|" + std::string(tag));
    if (it == _dialogs.end()) return nullptr;
    auto c = _calls.find(it->second.first);
    if (c == _calls.end()) return nullptr;
    s = it->second.second;
    return c->second.get();
}

void b2bua::on_request(sip::message m, const peer& from) {
    auto key = sip::transaction_key(m, true);
    if (!key) return; // the parser guarantees Via and CSeq; nothing to answer on
    if (m.method == "ACK") {
        auto it = _servers.find(*key);
        if (it != _servers.end() && !it->second->answered_2xx) {
            transmit(it->second->tx.on_request(m, now_ms()).send, it->second->from); // ACK of our non-2xx
            schedule_server(*key);
            return;
        }
        on_ack(m);
        return;
    }
    if (auto it = _servers.find(*key); it != _servers.end()) { // a retransmission (§17.2.1, §17.2.2)
        transmit(it->second->tx.on_request(m, now_ms()).send, it->second->from);
        return;
    }
    if (m.method == "CANCEL") {
        on_cancel(m, from);
        return;
    }
    const std::string skey = start_server(m, from);
    if (skey.empty()) return;
    // §16.3 step 2 / §8.2.2: Max-Forwards 0 on a request we would forward.
    if (const auto* mf = m.header("Max-Forwards"); mf && sip::trim(*mf) == "0" && m.method != "OPTIONS") {
        respond_code(skey, 483);
        return;
    }
    const std::string to_tag = to_tag_of(m);
    if (!to_tag.empty()) {
        side s{};
        auto* c = find_call(call_id_of(m), to_tag, s);
        if (!c) {
            respond_code(skey, 481); // §12.2.2
            return;
        }
        on_in_dialog(skey, m, *c, s);
        return;
    }
    if (m.method == "INVITE") {
        on_new_invite(skey, m, from);
    } else if (m.method == "OPTIONS") {
        // Keep-alive pings from peers (§11.2): we are up; say what we accept.
        auto r = sip::make_response(m, 200, sip::new_tag() ? *sip::new_tag() : "srtpo");
        r.add_header("Allow", std::string(allow));
        r.add_header("Accept", "application/sdp");
        respond(skey, r);
    } else if (known_method(m.method)) {
        auto t = sip::new_tag();
        auto r = sip::make_response(m, 405, t ? *t : "srtpo");
        r.add_header("Allow", std::string(allow));
        respond(skey, r);
    } else {
        respond_code(skey, 501);
    }
}

// ---------------------------------------------------------------------------------------------
// A new call

void b2bua::media_error_response(const std::string& key, const api::api_error& e, std::string_view tag) {
    auto it = _servers.find(key);
    if (it == _servers.end()) return;
    const auto& req = it->second->tx.request();
    if (e.code == api::api_errc::table_full || e.message.find("exhausted") != std::string::npos) {
        respond(key, sip::make_503(req, tag, 5)); // RFC 3261 §21.5.4 with Retry-After
        return;
    }
    engine::errc ec = engine::errc::invalid_argument;
    if (e.code == api::api_errc::unknown_suite) ec = engine::errc::unknown_suite;
    else if (e.code == api::api_errc::unsupported) ec = engine::errc::unsupported;
    const auto wc = static_cast<sip::warn_code>(sdes::warn_code_for(engine::error{ec, e.message}));
    const std::string agent = _tp.sent_by(it->second->from.transport);
    respond(key, sip::make_488(req, tag, wc, agent, e.message));
}

void b2bua::on_new_invite(const std::string& skey, const sip::message& m, const peer& from) {
    // A request that already passed through us: our own branch in its Via is a loop (§8.2.2.2
    // asks for 482; §16.3 item 4 is the proxy form of the same check).
    for (auto v : m.header_values("Via")) {
        auto pv = sip::parse_via(v);
        if (pv && pv->branch().starts_with(_branch_prefix)) {
            respond_code(skey, 482);
            return;
        }
    }
    if (_calls.size() >= _cfg.limits.max_calls) {
        auto t = sip::new_tag();
        respond(skey, sip::make_503(m, t ? *t : "srtpo", 5));
        ++_stats.failed["overload"];
        return;
    }
    auto uri = sip::parse_sip_uri(m.request_uri);
    if (!uri) {
        respond_code(skey, 416); // §21.4.14 Unsupported URI Scheme
        return;
    }
    const route* rt = find_route(_cfg, uri->host);
    if (!rt) {
        respond_code(skey, 404, "No Route To Domain");
        ++_stats.failed["no route"];
        return;
    }
    if (!m.body.empty() && !is_sdp(m)) {
        auto t = sip::new_tag();
        auto r = sip::make_response(m, 415, t ? *t : "srtpo");
        r.add_header("Accept", "application/sdp");
        respond(skey, r);
        return;
    }
    auto a_tag = sip::new_tag();
    auto b_tag = sip::new_tag();
    auto cid = sip::new_tag();
    auto cid2 = sip::new_tag();
    if (!a_tag || !b_tag || !cid || !cid2) {
        respond_code(skey, 500);
        return;
    }
    auto a_dlg = sip::dialog_as_uas(m, *a_tag);
    if (!a_dlg) {
        respond_code(skey, 400, a_dlg.err().message);
        return;
    }
    auto c = std::make_unique<bridged_call>();
    c->id = *cid + *cid2 + "@srtpo";
    c->of(side::a).dlg = std::move(*a_dlg);
    c->of(side::a).remote = from;
    c->of(side::a).policy = rt->a_policy;
    c->of(side::b).policy = rt->b_policy;
    c->of(side::b).remote = peer{rt->next_hop.transport, rt->next_hop.host, rt->next_hop.port, 0};
    _servers[skey]->call_id = c->id;

    std::string body;
    if (!m.body.empty()) {
        auto off = _media.offer(c->id, side::a, m.body, rt->b_policy);
        if (!off) {
            media_error_response(skey, off.err(), *a_tag);
            ++_stats.failed["media"];
            return;
        }
        body = std::move(off->sdp);
        for (const auto& n : off->notes) log_info("call " + c->id + ": " + n);
    }
    // Leg B's INVITE: new Call-ID, From tag and branch; the caller's identity and target kept.
    const transport_kind bt = rt->next_hop.transport;
    sip::message inv;
    inv.method = "INVITE";
    inv.request_uri = m.request_uri;
    inv.add_header("Via", "SIP/2.0/" + std::string(via_name(bt)) + " " + _tp.sent_by(bt) + ";branch=" + branch() + ";rport");
    int mf = 70;
    if (const auto* h = m.header("Max-Forwards")) mf = std::max(0, std::atoi(h->c_str()) - 1); // §16.6 step 3
    inv.add_header("Max-Forwards", std::to_string(mf));
    auto from_na = sip::parse_name_addr(*m.header("From"));
    auto to_na = sip::parse_name_addr(*m.header("To"));
    if (!from_na || !to_na) {
        respond_code(skey, 400);
        return;
    }
    sip::set_param(from_na->params, "tag", *b_tag);
    inv.add_header("From", sip::to_string(*from_na));
    inv.add_header("To", sip::to_string(*to_na));
    inv.add_header("Call-ID", c->id);
    inv.add_header("CSeq", "1 INVITE");
    inv.add_header("Contact", contact(bt));
    inv.add_header("Allow", std::string(allow));
    inv.add_header("User-Agent", _cfg.user_agent);
    if (!body.empty()) {
        inv.add_header("Content-Type", "application/sdp");
        inv.body = std::move(body);
    }
    auto& b = c->of(side::b);
    b.dlg.call_id = c->id;
    b.dlg.local_tag = *b_tag;
    b.dlg.local_cseq = 1;

    c->inv_active = true;
    c->inv_initial = true;
    c->inv_offer = !m.body.empty();
    c->inv_from = side::a;
    c->inv_server = skey;
    c->inv_in = m;
    wipe(c->inv_in.body);
    c->inv_out = inv;
    wipe(c->inv_out.body);
    const std::string id = c->id;
    _dialogs[call_id_of(m) + "|" + *a_tag] = {id, side::a};
    _dialogs[id + "|" + *b_tag] = {id, side::b};
    _calls[id] = std::move(c);
    _stats.peak_active = std::max(_stats.peak_active, _calls.size());
    log_info("call " + id + ": INVITE " + m.request_uri + " from " + from.host + " -> " + rt->next_hop.to_uri());
    const peer to_b = _calls[id]->of(side::b).remote;
    if (auto* e = start_client(std::move(inv), to_b, id, p_invite)) {
        if (auto it = _calls.find(id); it != _calls.end()) it->second->of(side::b).remote.connection = e->to.connection;
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

void b2bua::on_response(const sip::message& m) {
    auto key = sip::transaction_key(m, false);
    if (!key) return;
    if (auto it = _clients.find(*key); it != _clients.end()) {
        on_client_actions(*key, it->second->tx.on_response(m, now_ms()));
        return;
    }
    // No transaction: a retransmitted 2xx to an INVITE (§13.2.2.4: the UAC core ACKs it again).
    const auto* cs = m.header("CSeq");
    auto q = cs ? sip::parse_cseq(*cs) : sip::result<sip::cseq>(engine::make_error(engine::errc::invalid_argument, ""));
    if (!q || q->method != "INVITE" || m.status_code < 200 || m.status_code >= 300) return;
    side s{};
    auto* c = find_call(call_id_of(m), from_tag_of(m), s);
    if (!c) return;
    const int i = s == side::a ? 0 : 1;
    if (c->ack_cseq[i] == q->number && !c->ack_wire[i].empty()) transmit({c->ack_wire[i]}, c->of(s).remote);
}

void b2bua::on_invite_response(bridged_call& c, const sip::message& r) {
    const side x = c.inv_from;
    const side y = call::other(x);
    const std::string id = c.id;
    const int code = r.status_code;
    if (code < 200) {
        if (code == 100) return;
        c.inv_provisional = true;
        if (c.inv_cancel_pending) { // §9.1: a CANCEL waits for a provisional response
            c.inv_cancel_pending = false;
            if (auto cancel = sip::make_cancel(c.inv_out)) start_client(std::move(*cancel), c.of(y).remote, {}, p_cancel);
            return;
        }
        if (c.inv_initial && !c.inv_cancelled) {
            // Early media is not bridged: the provisional goes on without its body.
            auto p = sip::make_response(c.inv_in, code, local_tag(c, x), r.reason);
            p.add_header("Contact", contact(c.of(x).remote.transport));
            respond(c.inv_server, p);
        }
        return;
    }
    auto& ly = c.of(y);
    if (code < 300) {
        if (c.inv_initial) {
            auto d = sip::dialog_as_uac(c.inv_out, r);
            if (!d) {
                log_info("call " + id + ": bad 2xx from leg B: " + d.err().message);
                return;
            }
            ly.dlg = std::move(*d);
            ly.has_dialog = true;
        } else if (const auto* ct = r.header("Contact")) {
            if (auto na = sip::parse_name_addr(*ct)) ly.dlg.remote_target = na->uri; // §12.2.1.2 target refresh
        }
        const uint32_t out_cseq = cseq_of(c.inv_out);
        if (c.inv_cancelled) { // the 2xx crossed our CANCEL: confirm and hang up that leg (§9.1)
            send_ack(c, y, out_cseq, {});
            end_call(id, "cancelled", false, true);
            return;
        }
        // With an offer in the INVITE the 2xx carries the answer; without one (late offer,
        // §13.2.1) the 2xx carries the offer and the answer comes in the ACK.
        const bool late = !c.inv_offer;
        auto res = r.body.empty()
                       ? api::api_result<call::sdp_rewrite>(api::make_api_error(
                             api::api_errc::invalid_argument, "", late ? "no SDP offer in the INVITE nor in the 2xx" : "the 2xx has no SDP answer"))
                       : (late ? _media.offer(id, y, r.body, c.of(x).policy) : _media.answer(id, y, r.body));
        if (!res) {
            send_ack(c, y, out_cseq, {});
            media_error_response(c.inv_server, res.err(), local_tag(c, x));
            if (c.inv_initial) end_call(id, "media", false, true);
            else c.inv_active = false;
            return;
        }
        std::string body = std::move(res->sdp);
        c.late_offer = late;
        auto ok = sip::make_response(c.inv_in, code, local_tag(c, x), r.reason);
        ok.add_header("Contact", contact(c.of(x).remote.transport));
        ok.add_header("Allow", std::string(allow));
        ok.add_header("Content-Type", "application/sdp");
        ok.body = std::move(body);
        c.ack_wait = true;
        c.ok_cseq = cseq_of(c.inv_in);
        c.out_cseq = out_cseq;
        if (x == side::a && c.inv_initial) c.of(side::a).has_dialog = true;
        respond(c.inv_server, ok); // the server transaction ends with a 2xx; the TU retransmits it
        c.ok_wire = sip::serialize(ok);
        wipe(ok.body);
        start_2xx_retransmit(c);
        return;
    }
    // 300-699: the client transaction already ACKed it (§17.1.1.3).
    if (c.inv_offer) _media.reject_offer(id, y);
    c.inv_active = false;
    if (c.inv_cancelled) {
        if (c.inv_initial) end_call(id, "cancelled", false, false);
        return;
    }
    auto resp = sip::make_response(c.inv_in, code, local_tag(c, x), r.reason);
    for (const char* h : {"Warning", "Retry-After", "Reason", "Unsupported"})
        for (auto v : r.header_values(h)) resp.add_header(h, std::string(v));
    respond(c.inv_server, resp);
    if (c.inv_initial) end_call(id, std::to_string(code), false, false);
}

void b2bua::on_invite_failure(bridged_call& c, int code, std::string_view reason) {
    const side y = call::other(c.inv_from);
    const std::string id = c.id;
    if (c.inv_offer) _media.reject_offer(id, y);
    c.inv_active = false;
    if (!c.inv_cancelled) {
        auto it = _servers.find(c.inv_server);
        if (it != _servers.end())
            respond(c.inv_server, sip::make_response(it->second->tx.request(), code, local_tag(c, c.inv_from), reason));
    }
    if (c.inv_initial) end_call(id, code == 408 ? "timeout" : "next hop unreachable", false, false);
}

void b2bua::on_relay_response(client_entry& e, const sip::message& r) {
    if (r.status_code < 200) return;
    auto it = _servers.find(e.server_key);
    if (it == _servers.end()) return;
    auto resp = sip::make_response(it->second->tx.request(), r.status_code, {}, r.reason);
    if (const auto* ct = r.header("Content-Type")) {
        resp.add_header("Content-Type", *ct);
        resp.body = r.body;
    }
    respond(e.server_key, resp);
    wipe(resp.body);
}

// ---------------------------------------------------------------------------------------------
// ACK, CANCEL, in-dialog requests

void b2bua::send_ack(bridged_call& c, side to, uint32_t cseq, std::string body) {
    auto& l = c.of(to);
    auto ack = sip::make_ack_for_2xx(l.dlg, cseq, via_name(l.remote.transport), _tp.sent_by(l.remote.transport), branch());
    if (!body.empty()) {
        ack.add_header("Content-Type", "application/sdp");
        ack.body = std::move(body);
    }
    const int i = to == side::a ? 0 : 1;
    wipe(c.ack_wire[i]);
    c.ack_wire[i] = sip::serialize(ack);
    c.ack_cseq[i] = cseq;
    wipe(ack.body);
    transmit({c.ack_wire[i]}, l.remote);
}

void b2bua::start_2xx_retransmit(bridged_call& c) {
    if (c.ok_timer) _loop.cancel(c.ok_timer);
    c.ok_interval = _timers.t1;
    c.ok_deadline = now_ms() + 64 * _timers.t1; // §13.3.1.4: give up after 64*T1
    const std::string id = c.id;
    c.ok_timer = _loop.after(c.ok_interval, [this, id] { on_2xx_timer(id); });
}

void b2bua::on_2xx_timer(const std::string& id) {
    auto it = _calls.find(id);
    if (it == _calls.end()) return;
    auto& c = *it->second;
    c.ok_timer = 0;
    if (!c.ack_wait) return;
    if (now_ms() >= c.ok_deadline) {
        log_notice("call " + id + ": no ACK for our 2xx within 64*T1: BYE to both legs");
        end_call(id, "no ACK", true, true);
        return;
    }
    transmit({c.ok_wire}, c.of(c.inv_from).remote);
    c.ok_interval = std::min(c.ok_interval * 2, _timers.t2); // T1, 2*T1, ... up to T2
    c.ok_timer = _loop.after(std::min(c.ok_interval, std::max(ms{1}, c.ok_deadline - now_ms())), [this, id] { on_2xx_timer(id); });
}

void b2bua::on_ack(const sip::message& m) {
    side x{};
    auto* c = find_call(call_id_of(m), to_tag_of(m), x);
    if (!c || !c->ack_wait || x != c->inv_from || cseq_of(m) != c->ok_cseq) return; // stray or repeated ACK
    const std::string id = c->id;
    const side y = call::other(x);
    c->ack_wait = false;
    if (c->ok_timer) _loop.cancel(c->ok_timer);
    c->ok_timer = 0;
    wipe(c->ok_wire);
    if (auto it = _servers.find(c->inv_server); it != _servers.end()) {
        if (it->second->timer) _loop.cancel(it->second->timer);
        _servers.erase(it);
    }
    std::string body;
    if (c->late_offer) {
        c->late_offer = false;
        auto ans = m.body.empty() ? api::api_result<call::sdp_rewrite>(api::make_api_error(api::api_errc::invalid_argument, "", "no SDP answer in the ACK"))
                                  : _media.answer(id, x, m.body);
        if (!ans) {
            // §13.2.1 gives the UAS no way to refuse an answer in an ACK: hang up.
            log_notice("call " + id + ": answer in the ACK refused: " + ans.err().message);
            send_ack(*c, y, c->out_cseq, {});
            c->inv_active = false;
            end_call(id, "media", true, true);
            return;
        }
        body = std::move(ans->sdp);
    }
    send_ack(*c, y, c->out_cseq, std::move(body));
    c->inv_active = false;
    if (c->inv_initial && !c->established) {
        c->established = true;
        ++_stats.calls_set_up;
        log_info("call " + id + ": established");
    }
}

void b2bua::on_cancel(const sip::message& m, const peer& from) {
    auto ckey = sip::transaction_key(m, true);
    if (!ckey) return;
    std::string ikey = ckey->substr(0, ckey->rfind('|')) + "|INVITE"; // §9.2: the INVITE it cancels
    const std::string skey = start_server(m, from);
    if (skey.empty()) return;
    auto inv = _servers.find(ikey);
    if (inv == _servers.end() || inv->second->answered_2xx || inv->second->tx.state() != sip::tx_state::proceeding) {
        respond_code(skey, 481); // §9.2: no matching transaction (or already answered)
        return;
    }
    respond(skey, sip::make_response(m, 200));
    auto cit = _calls.find(inv->second->call_id);
    if (cit == _calls.end()) return;
    auto& c = *cit->second;
    if (!c.inv_active || c.inv_server != ikey || c.inv_cancelled) return;
    c.inv_cancelled = true;
    respond(ikey, sip::make_response(c.inv_in, 487, local_tag(c, c.inv_from))); // §9.2: 487 Request Terminated
    if (!c.inv_initial) return;
    ++_stats.failed["cancelled"];
    if (c.inv_offer) _media.reject_offer(c.id, side::b);
    c.inv_offer = false;
    if (c.inv_provisional) {
        if (auto cancel = sip::make_cancel(c.inv_out)) start_client(std::move(*cancel), c.of(side::b).remote, {}, p_cancel);
    } else {
        c.inv_cancel_pending = true; // §9.1: sent once leg B answers provisionally
    }
}

void b2bua::on_in_dialog(const std::string& key, const sip::message& m, bridged_call& c, side from) {
    auto& lx = c.of(from);
    lx.dlg.remote_cseq = std::max(lx.dlg.remote_cseq, cseq_of(m));
    if (m.method == "INVITE") {
        on_reinvite(key, m, c, from);
    } else if (m.method == "BYE") {
        on_bye(key, c, from);
    } else if (m.method == "OPTIONS") {
        auto r = sip::make_response(m, 200);
        r.add_header("Allow", std::string(allow));
        r.add_header("Accept", "application/sdp");
        respond(key, r);
    } else if ((m.method == "INFO" || m.method == "MESSAGE" || m.method == "NOTIFY") && c.of(call::other(from)).has_dialog) {
        sip::message req = new_request_for(c, call::other(from), m.method);
        if (const auto* ct = m.header("Content-Type")) {
            req.add_header("Content-Type", *ct);
            req.body = m.body;
        }
        start_client(std::move(req), c.of(call::other(from)).remote, c.id, p_relay, key);
    } else {
        respond_code(key, 501); // UPDATE, PRACK, REFER...: not bridged (docs/sip-b2bua.md)
    }
}

sip::message b2bua::new_request_for(bridged_call& c, side to, std::string_view method) {
    auto& l = c.of(to);
    auto req = sip::make_in_dialog_request(l.dlg, method, via_name(l.remote.transport), _tp.sent_by(l.remote.transport), branch());
    if (method == "INVITE") req.add_header("Contact", contact(l.remote.transport));
    req.add_header("User-Agent", _cfg.user_agent);
    return req;
}

void b2bua::on_reinvite(const std::string& key, const sip::message& m, bridged_call& c, side x) {
    const side y = call::other(x);
    if (c.inv_active || c.ack_wait || !c.established) {
        respond_code(key, 491); // §14.2: an INVITE transaction is already in progress
        return;
    }
    if (const auto* ct = m.header("Contact"))
        if (auto na = sip::parse_name_addr(*ct)) c.of(x).dlg.remote_target = na->uri; // target refresh
    std::string body;
    if (!m.body.empty()) {
        if (!is_sdp(m)) {
            respond_code(key, 415);
            return;
        }
        auto off = _media.offer(c.id, x, m.body, c.of(y).policy);
        if (!off) {
            media_error_response(key, off.err(), local_tag(c, x));
            return;
        }
        body = std::move(off->sdp);
    }
    _servers[key]->call_id = c.id;
    auto req = new_request_for(c, y, "INVITE");
    if (!body.empty()) {
        req.add_header("Content-Type", "application/sdp");
        req.body = std::move(body);
    }
    c.inv_active = true;
    c.inv_initial = false;
    c.inv_offer = !m.body.empty();
    c.inv_provisional = c.inv_cancel_pending = c.inv_cancelled = false;
    c.late_offer = false;
    c.inv_from = x;
    c.inv_server = key;
    c.inv_in = m;
    wipe(c.inv_in.body);
    c.inv_out = req;
    wipe(c.inv_out.body);
    start_client(std::move(req), c.of(y).remote, c.id, p_invite);
}

void b2bua::on_bye(const std::string& key, bridged_call& c, side x) {
    respond_code(key, 200);
    const std::string id = c.id;
    const side y = call::other(x);
    if (c.inv_active && c.inv_initial && !c.ack_wait && c.inv_provisional) {
        if (auto cancel = sip::make_cancel(c.inv_out)) start_client(std::move(*cancel), c.of(y).remote, {}, p_cancel);
    }
    end_call(id, "BYE", y == side::a, y == side::b);
}

void b2bua::end_call(const std::string& id, std::string_view reason, bool bye_a, bool bye_b) {
    auto it = _calls.find(id);
    if (it == _calls.end()) return;
    std::unique_ptr<bridged_call> c = std::move(it->second);
    _calls.erase(it);
    if (c->ok_timer) _loop.cancel(c->ok_timer);
    // A 2xx we have not ACKed yet (waiting for the other leg's ACK): confirm it before the BYE,
    // or that UA keeps retransmitting it (§13.3.1.4).
    if (c->ack_wait && (call::other(c->inv_from) == side::a ? bye_a : bye_b) && c->of(call::other(c->inv_from)).has_dialog)
        send_ack(*c, call::other(c->inv_from), c->out_cseq, {});
    for (side s : {side::a, side::b}) {
        auto& l = c->of(s);
        _dialogs.erase(l.dlg.call_id + "|" + l.dlg.local_tag);
        if ((s == side::a ? bye_a : bye_b) && l.has_dialog) start_client(new_request_for(*c, s, "BYE"), l.remote, {}, p_bye);
    }
    if (auto s = _servers.find(c->inv_server); s != _servers.end() && s->second->answered_2xx) {
        if (s->second->timer) _loop.cancel(s->second->timer);
        _servers.erase(s);
    }
    _media.remove(id);
    for (auto& w : c->ack_wire) wipe(w);
    wipe(c->ok_wire);
    if (c->established) ++_stats.calls_ended;
    else if (reason != "cancelled") ++_stats.failed[std::string(reason)];
    log_info("call " + id + ": ended (" + std::string(reason) + ")");
}

bool b2bua::in_use(uint64_t conn) const {
    for (const auto& [k, e] : _clients)
        if (e->to.connection == conn) return true;
    for (const auto& [k, e] : _servers)
        if (e->from.connection == conn) return true;
    for (const auto& [id, c] : _calls)
        for (const auto& l : c->legs)
            if (l.remote.connection == conn) return true;
    return false;
}

void b2bua::on_connection_closed(uint64_t conn) {
    // §17.1.4: client transactions on the lost connection fail like a timeout.
    std::vector<std::string> keys;
    for (const auto& [k, e] : _clients)
        if (e->to.connection == conn) keys.push_back(k);
    _transport_failure = true;
    for (const auto& k : keys)
        if (auto it = _clients.find(k); it != _clients.end()) on_client_actions(k, it->second->tx.on_transport_error());
    _transport_failure = false;
    // Server transactions on it can no longer answer.
    for (auto it = _servers.begin(); it != _servers.end();) {
        if (it->second->from.connection == conn) {
            if (it->second->timer) _loop.cancel(it->second->timer);
            it = _servers.erase(it);
        } else {
            ++it;
        }
    }
    // Calls whose leg used it: hang up the other leg.
    std::vector<std::pair<std::string, side>> lost;
    for (const auto& [id, c] : _calls)
        for (side s : {side::a, side::b})
            if (c->of(s).remote.connection == conn && is_stream(c->of(s).remote.transport)) lost.emplace_back(id, s);
    for (const auto& [id, s] : lost) {
        auto it = _calls.find(id);
        if (it == _calls.end()) continue;
        auto& c = *it->second;
        if (s == side::a && c.inv_active && c.inv_initial && !c.ack_wait && c.inv_provisional)
            if (auto cancel = sip::make_cancel(c.inv_out)) start_client(std::move(*cancel), c.of(side::b).remote, {}, p_cancel);
        end_call(id, "transport lost", s == side::b, s == side::a);
    }
}

} // namespace srtpo::cp::b2bua
