// RFC 3261 §17 client and server transactions (Figures 5-8), sans-I/O.

#include <srtpo/cp/sip/dialog.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/response.hpp>
#include <srtpo/cp/sip/transaction.hpp>

#include <algorithm>

namespace srtpo::cp::sip {
namespace {

bool due(const std::optional<ms>& t, ms now) noexcept { return t && now >= *t; }

// §17.1.4 / §17.2.4: a transport error ends the transaction and is reported like a timeout.
tx_actions transport_error(tx_state& st, detail::tx_timers& t) {
    st = tx_state::terminated;
    t.stop();
    tx_actions out;
    out.timed_out = true;
    return out;
}

// The give-up and linger timers, common to all four machines.
void fire_end_timers(tx_state& st, detail::tx_timers& t, ms now, tx_actions& out) {
    if (due(t.timeout_at, now)) {
        st = tx_state::terminated;
        t.retransmit_at.reset();
        t.timeout_at.reset();
        out.send.clear();
        out.timed_out = true;
    }
    if (due(t.linger_at, now)) {
        st = tx_state::terminated;
        t.linger_at.reset();
    }
}

} // namespace

std::optional<ms> detail::tx_timers::next() const noexcept {
    std::optional<ms> best;
    for (const auto* t : {&retransmit_at, &timeout_at, &linger_at})
        if (*t && (!best || **t < *best)) best = *t;
    return best;
}

result<std::string> transaction_key(const message& m, bool server) {
    auto vias = m.header_values("Via");
    const auto* cs = m.header("CSeq");
    if (vias.empty() || !cs) return engine::make_error(errc::invalid_argument, "transaction key: no Via or CSeq");
    auto v = parse_via(vias.front());
    auto q = parse_cseq(*cs);
    if (!v) return v.err();
    if (!q) return q.err();
    std::string method = q->method == "ACK" ? "INVITE" : q->method; // §17.2.3: ACK matches its INVITE
    std::string key(v->branch());
    if (server) key += "|" + v->host + ":" + std::to_string(v->port.value_or(0)); // §17.2.3 sent-by
    return key + "|" + method;
}

// ---------------------------------------------------------------------------------------------
// Client (§17.1)

client_transaction::client_transaction(message request, bool reliable, ms now, timer_config cfg)
    : _request(std::move(request)), _invite(_request.method == "INVITE"), _reliable(reliable), _cfg(cfg),
      _state(_invite ? tx_state::calling : tx_state::trying) {
    _wire = serialize(_request);
    _first.send.push_back(_wire);
    if (!_reliable) { // Timer A (INVITE) or E (non-INVITE) starts at T1
        _t.retransmit_interval = _cfg.t1;
        _t.retransmit_at = now + _cfg.t1;
    }
    _t.timeout_at = now + 64 * _cfg.t1; // Timer B or F
}

tx_actions client_transaction::on_response(const message& r, ms now) {
    tx_actions out;
    const int code = r.status_code;
    const bool live = _state == tx_state::calling || _state == tx_state::trying || _state == tx_state::proceeding;
    if (live && code < 200) {
        _state = tx_state::proceeding;
        // INVITE: no more retransmissions and Timer B no longer applies (§17.1.1.2).
        // Non-INVITE: Timer E continues at T2 and Timer F still runs (§17.1.2.2).
        if (_invite) {
            _t.retransmit_at.reset();
            _t.timeout_at.reset();
        }
        out.deliver.push_back(r);
    } else if (live) {
        _t.retransmit_at.reset();
        _t.timeout_at.reset();
        out.deliver.push_back(r);
        if (_invite && code < 300) {
            _state = tx_state::terminated; // the TU ACKs a 2xx itself (§13.2.2.4)
        } else {
            _state = tx_state::completed;
            if (_invite) {
                _ack = serialize(make_ack_for_non2xx(_request, r));
                out.send.push_back(_ack);
            }
            // Timer D (>= 32 s on UDP) or K (T4), zero on reliable transports.
            const ms linger = _reliable ? ms{0} : (_invite ? ms{32000} : _cfg.t4);
            _t.linger_at = now + linger;
        }
    } else if (_state == tx_state::completed && _invite && code >= 300) {
        out.send.push_back(_ack); // a retransmitted final response: ACK again (§17.1.1.2)
    }
    return out;
}

tx_actions client_transaction::on_timer(ms now) {
    tx_actions out;
    if (due(_t.retransmit_at, now)) {
        out.send.push_back(_wire);
        // Timer A doubles without bound; Timer E doubles up to T2, and is T2 once proceeding.
        if (_invite) _t.retransmit_interval *= 2;
        else if (_state == tx_state::proceeding) _t.retransmit_interval = _cfg.t2;
        else _t.retransmit_interval = std::min(_t.retransmit_interval * 2, _cfg.t2);
        _t.retransmit_at = *_t.retransmit_at + _t.retransmit_interval;
    }
    fire_end_timers(_state, _t, now, out); // B or F give up; D or K end the lingering
    return out;
}

tx_actions client_transaction::on_transport_error() { return transport_error(_state, _t); }

std::optional<ms> client_transaction::next_timer() const noexcept {
    return _state == tx_state::terminated ? std::nullopt : _t.next();
}

// ---------------------------------------------------------------------------------------------
// Server (§17.2)

server_transaction::server_transaction(message request, bool reliable, ms, timer_config cfg)
    : _request(std::move(request)), _invite(_request.method == "INVITE"), _reliable(reliable), _cfg(cfg),
      _state(_invite ? tx_state::proceeding : tx_state::trying) {
    if (_invite) {
        _last_response = serialize(make_response(_request, 100));
        _first.send.push_back(_last_response);
    }
}

tx_actions server_transaction::on_request(const message& req, ms now) {
    tx_actions out;
    if (req.method == "ACK") {
        if (_invite && _state == tx_state::completed) {
            _state = tx_state::confirmed; // §17.2.1: stop G and H, absorb further ACKs for Timer I
            _t.retransmit_at.reset();
            _t.timeout_at.reset();
            _t.linger_at = now + (_reliable ? ms{0} : _cfg.t4);
        }
        return out;
    }
    if ((_state == tx_state::proceeding || _state == tx_state::completed) && !_last_response.empty())
        out.send.push_back(_last_response); // a retransmitted request gets the last response again
    return out;
}

tx_actions server_transaction::respond(const message& r, ms now) {
    tx_actions out;
    if (_state != tx_state::trying && _state != tx_state::proceeding) return out; // too late: dropped
    _last_response = serialize(r);
    out.send.push_back(_last_response);
    if (r.status_code < 200) {
        _state = tx_state::proceeding;
    } else if (_invite && r.status_code < 300) {
        _state = tx_state::terminated;
    } else if (_invite) {
        _state = tx_state::completed;
        if (!_reliable) { // Timer G
            _t.retransmit_interval = _cfg.t1;
            _t.retransmit_at = now + _cfg.t1;
        }
        _t.timeout_at = now + 64 * _cfg.t1; // Timer H: wait for the ACK
    } else {
        _state = tx_state::completed;
        _t.linger_at = now + (_reliable ? ms{0} : 64 * _cfg.t1); // Timer J
    }
    return out;
}

tx_actions server_transaction::on_timer(ms now) {
    tx_actions out;
    if (due(_t.retransmit_at, now)) {
        out.send.push_back(_last_response);
        _t.retransmit_interval = std::min(_t.retransmit_interval * 2, _cfg.t2);
        _t.retransmit_at = *_t.retransmit_at + _t.retransmit_interval;
    }
    fire_end_timers(_state, _t, now, out); // H: the ACK never came (§17.2.1); I or J: done
    return out;
}

tx_actions server_transaction::on_transport_error() { return transport_error(_state, _t); }

std::optional<ms> server_transaction::next_timer() const noexcept {
    return _state == tx_state::terminated ? std::nullopt : _t.next();
}

} // namespace srtpo::cp::sip
