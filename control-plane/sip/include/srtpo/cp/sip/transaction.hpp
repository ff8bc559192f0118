#pragma once
// RFC 3261 §17 transactions as sans-I/O state machines. The daemon passes in what arrived and the
// current monotonic time; each call returns what to send and what to hand to the transaction
// user (the B2BUA), and next_timer() says when to call on_timer() again. No clocks, sockets or
// threads inside. Timer names and defaults are RFC 3261's (Table 4).

#include <srtpo/cp/sip/message.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp::sip {

using ms = std::chrono::milliseconds;

/// RFC 3261 §17.1.1.1 / Table 4.
struct timer_config {
    ms t1{500};
    ms t2{4000};
    ms t4{5000};
};

enum class tx_state : uint8_t { calling, trying, proceeding, completed, confirmed, terminated };

/// What a transaction call asks the daemon to do.
struct tx_actions {
    std::vector<std::string> send;   ///< serialized messages for this transaction's transport
    std::vector<message> deliver;    ///< responses (client) to pass to the TU
    bool timed_out = false;          ///< Timer B, F or H fired: RFC 3261 §17 "inform the TU"
};

namespace detail {
/// The three timers every transaction kind has: a retransmission timer (A, E or G) with its
/// current interval, a give-up timer (B, F or H) and a linger timer (D, I, J or K).
struct tx_timers {
    std::optional<ms> retransmit_at;
    ms retransmit_interval{0};
    std::optional<ms> timeout_at;
    std::optional<ms> linger_at;
    std::optional<ms> next() const noexcept;
    void stop() noexcept { retransmit_at.reset(); timeout_at.reset(); linger_at.reset(); }
};
} // namespace detail

/// The matching key (RFC 3261 §17.1.3 client, §17.2.3 server): top Via branch, sent-by and the
/// CSeq method, with ACK matched to its INVITE. Errors when Via or CSeq do not parse.
/// Thread-safety: pure.
result<std::string> transaction_key(const message& m, bool server);

/// Client transaction (§17.1.1 INVITE, §17.1.2 non-INVITE).
/// Thread-safety: one object per transaction, used by one thread. Ownership: copies the request.
class client_transaction {
public:
    /// Starts the transaction: `first.send` holds the request. `reliable`: TCP/TLS (no
    /// retransmissions; Timers D and K are zero, §17.1.1.2, §17.1.2.2).
    client_transaction(message request, bool reliable, ms now, timer_config cfg = {});

    const tx_actions& started() const noexcept { return _first; }
    /// A response whose key matched. Sends the ACK for an INVITE's 300-699 (§17.1.1.3).
    tx_actions on_response(const message& response, ms now);
    /// Fires every timer that is due (A, B, D for INVITE; E, F, K for non-INVITE).
    tx_actions on_timer(ms now);
    /// The transport failed (§17.1.4): terminated, the TU is told like a timeout.
    tx_actions on_transport_error();
    /// When on_timer() must run next; nullopt when no timer is armed.
    std::optional<ms> next_timer() const noexcept;
    tx_state state() const noexcept { return _state; }
    bool is_invite() const noexcept { return _invite; }
    const message& request() const noexcept { return _request; }

private:
    message _request;
    std::string _wire;
    std::string _ack;
    bool _invite;
    bool _reliable;
    timer_config _cfg;
    tx_state _state;
    tx_actions _first;
    detail::tx_timers _t; ///< A/B/D (INVITE) or E/F/K (non-INVITE)
};

/// Server transaction (§17.2.1 INVITE, §17.2.2 non-INVITE).
class server_transaction {
public:
    /// Starts with a received request. An INVITE server transaction answers 100 Trying at once
    /// (§17.2.1 allows it; it stops the client's retransmissions), in started().send.
    server_transaction(message request, bool reliable, ms now, timer_config cfg = {});

    const tx_actions& started() const noexcept { return _first; }
    /// A retransmitted request, or the ACK of a non-2xx final response (§17.2.1).
    tx_actions on_request(const message& request, ms now);
    /// The TU's response. 2xx to INVITE terminates the transaction (§17.2.1; the TU retransmits
    /// 2xx until the ACK, §13.3.1.4). 300-699 to INVITE starts Timers G and H.
    tx_actions respond(const message& response, ms now);
    /// Fires G (retransmit final), H (no ACK: timed_out), I, J.
    tx_actions on_timer(ms now);
    tx_actions on_transport_error();
    std::optional<ms> next_timer() const noexcept;
    tx_state state() const noexcept { return _state; }
    const message& request() const noexcept { return _request; }

private:
    message _request;
    bool _invite;
    bool _reliable;
    timer_config _cfg;
    tx_state _state;
    tx_actions _first;
    std::string _last_response;
    detail::tx_timers _t; ///< G/H/I (INVITE) or J (non-INVITE)
};

} // namespace srtpo::cp::sip
