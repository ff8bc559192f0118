#pragma once
// A DTLS-SRTP endpoint (RFC 5763, RFC 5764) over DTLS 1.2, sans I/O: datagrams come
// in through receive(), leave through poll_datagram(), time comes in through on_timer(now), and
// the result leaves through poll_event() as an srtp_keying. srtpo-cp owns the socket (RFC 7983
// demux in front), the clock and the table; this code never blocks, sleeps or reads a socket.
//
//   auto ctx = context::create(cert).value();
//   auto ep = endpoint::create(ctx, cfg).value();     // cfg.role from negotiate_role()
//   ep->start(now);
//   loop: ep->receive(datagram, now) / ep->on_timer(now) when now >= *ep->next_timeout();
//         while (auto d = ep->poll_datagram()) send(*d);
//         while (auto e = ep->poll_event()) handle(*e);   // handshake_done carries the keys
//
// Each handshake runs on OpenSSL 3.0 or, when it negotiates a NULL profile, on GnuTLS 3.7
// (stack_choice.hpp, ADR 0014); the choice is invisible here except through stack().

#include <srtpo/cp/dtls/certificate.hpp>
#include <srtpo/cp/dtls/fingerprint.hpp>
#include <srtpo/cp/dtls/setup_role.hpp>
#include <srtpo/cp/dtls/srtp_profile.hpp>
#include <srtpo/cp/dtls/stack_choice.hpp>
#include <srtpo/cp/srtp_keying.hpp>
#include <srtpo/engine/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace srtpo::cp::dtls {

using clock = std::chrono::steady_clock;

struct gnutls_identity; // our certificate as GnuTLS credentials (private)
class association;      // one handshake on OpenSSL or GnuTLS (private)

/// The shared TLS configuration: our certificate, DTLS 1.2 only, ECDHE cipher suites, for both
/// stacks (OpenSSL and GnuTLS). One per process (or per certificate); endpoints hold a reference.
/// Thread-safety: immutable after create(); endpoints on different threads may share it.
class context {
public:
    /// Errors: backend_failure if OpenSSL or GnuTLS refuses the certificate or settings.
    static engine::result<std::shared_ptr<const context>> create(const certificate& cert);
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    const certificate& cert() const noexcept { return _cert; }
    void* native() const noexcept { return _ctx; } ///< the SSL_CTX*, owned by this object
    /// The same identity as GnuTLS credentials (shared with the GnuTLS associations).
    const std::shared_ptr<const gnutls_identity>& gnutls() const noexcept { return _gnutls; }

private:
    context(certificate c, void* ctx, std::shared_ptr<const gnutls_identity> g)
        : _cert(std::move(c)), _ctx(ctx), _gnutls(std::move(g)) {}
    certificate _cert;
    void* _ctx;
    std::shared_ptr<const gnutls_identity> _gnutls;
};

/// Retransmission and handshake timers (RFC 6347 §4.2.4.1). OpenSSL's default first timeout is
/// 1 s; WebRTC peers and Janus (#1377) show that links differ, so all of it is configurable.
struct timer_config {
    std::chrono::milliseconds initial_retransmit{400};
    unsigned backoff = 2;                             ///< multiplier per retransmission, >= 1
    std::chrono::milliseconds max_retransmit{8000};   ///< cap of the back-off
    std::chrono::milliseconds handshake_timeout{20000}; ///< whole handshake, from start()
};

struct endpoint_config {
    dtls_role role = dtls_role::server;
    /// Preference order; any of dtls_srtp_suites. In the client role a list with a NULL profile
    /// and a GCM one runs on OpenSSL and leaves the NULL entries out (client_role_drops_null).
    std::vector<engine::suite> profiles = default_profiles();
    profile_selection selection = profile_selection::server_preference; ///< when we are server
    std::vector<fingerprint> remote_fingerprints; ///< the peer's a=fingerprint lines (RFC 8122 §5)
    uint16_t mtu = 1200;  ///< largest DTLS datagram (UDP payload) we send, >= 256
    timer_config timers;
};

/// Why a handshake ended without keys.
enum class failure : uint8_t {
    fingerprint_mismatch, ///< the peer's certificate matches no a=fingerprint (RFC 5763 §5)
    no_srtp_profile,      ///< no common SRTP profile, or no use_srtp at all (RFC 5764 §4.1.3)
    handshake_timeout,    ///< timer_config::handshake_timeout passed
    retransmit_limit,     ///< OpenSSL gave up after too many retransmissions
    alert_received,       ///< the peer sent a fatal alert
    protocol_error,       ///< malformed or unexpected handshake messages
    internal_error,       ///< OpenSSL or allocation failure on our side
};
std::string_view to_string(failure f) noexcept;

/// The handshake finished with a verified peer and a common profile.
struct handshake_done {
    srtp_keying keying;      ///< local = our write key (the out flow), remote = the peer's (the in flow)
    unsigned association = 0; ///< counts completed handshakes on this endpoint: 1, 2 (rekey), ...
};
struct handshake_failed {
    failure reason;
    std::string message;     ///< human-readable; never key material
};
/// A TLS alert (RFC 5246 §7.2) sent or received; close_notify arrives as `closed` too.
struct alert {
    bool received = true;    ///< false: we sent it
    bool fatal = false;
    uint8_t description = 0; ///< AlertDescription, e.g. 42 bad_certificate, 40 handshake_failure
    std::string text;        ///< OpenSSL's long name, e.g. "bad certificate"
};
struct closed {};            ///< the peer sent close_notify after the handshake
using event = std::variant<handshake_done, handshake_failed, alert, closed>;

enum class endpoint_state : uint8_t { idle, handshaking, connected, failed, closed };

/// One DTLS association at a time with one peer (one media port's 5-tuple). A new handshake on
/// the same endpoint (restart(), or in the server role a fresh ClientHello after completion)
/// yields a new handshake_done: that is a rekey, and only this endpoint's flows change.
/// Thread-safety: not thread-safe; one owner thread. Ownership: owns its association (an OpenSSL
/// SSL object or a GnuTLS session), the queued datagrams and events; keys leave only inside
/// handshake_done.
class endpoint {
public:
    /// Errors: invalid_argument for an empty/unknown/duplicate profile list, an MTU below 256, a zero
    /// backoff, zero timers, or no remote fingerprint (without one the peer is not
    /// authenticated: RFC 5763 §5 makes the check mandatory).
    static engine::result<std::unique_ptr<endpoint>> create(std::shared_ptr<const context> ctx, endpoint_config cfg);
    ~endpoint();
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    /// Begins the handshake: the client queues its ClientHello, the server waits for one. Arms
    /// the handshake timeout. Errors: invalid_argument if already started; backend_failure.
    engine::result<void> start(clock::time_point now);

    /// Starts a new association (rekey after a new a=tls-id or fingerprint, RFC 8842 §5): drops
    /// the current SSL state and handshakes again; the keys already handed out stay valid
    /// until the new handshake_done replaces them. Optionally replaces the remote fingerprints.
    engine::result<void> restart(clock::time_point now, std::optional<std::vector<fingerprint>> remote = std::nullopt);

    /// Feeds one received datagram that RFC 7983 classified as DTLS (first octet 20..63; others
    /// are ignored). Never fails: bad input becomes an alert/handshake_failed event or is dropped.
    void receive(std::span<const std::byte> datagram, clock::time_point now);

    /// When on_timer() must be called next, if a timer runs (retransmission or handshake timeout).
    std::optional<clock::time_point> next_timeout() const noexcept;
    /// Retransmits the last flight if its timer expired (DTLSv1_handle_timeout), or fails the
    /// handshake if the handshake timeout passed. Calling it early is harmless.
    void on_timer(clock::time_point now);

    /// Sends close_notify (queued as a datagram) and stops; the keys handed out stay valid.
    void close();

    /// The next datagram to send, in order; each is one UDP payload of at most cfg.mtu octets.
    std::optional<std::vector<std::byte>> poll_datagram();
    /// The next event, in order.
    std::optional<event> poll_event();

    endpoint_state state() const noexcept { return _state; }
    dtls_role role() const noexcept { return _cfg.role; }
    /// The negotiated profile of the current association, once connected.
    std::optional<engine::suite> selected_profile() const noexcept { return _profile; }
    /// The stack running the current association: set at start() in the client role, at the
    /// first ClientHello in the server role (nullopt until then).
    std::optional<dtls_stack> stack() const noexcept;

private:
    endpoint(std::shared_ptr<const context> ctx, endpoint_config cfg);
    engine::result<void> new_association(dtls_stack stack, std::vector<engine::suite> profiles);
    void advance(std::span<const std::byte> datagram, clock::time_point now);
    void collect(clock::time_point now);
    void fail(failure f, std::string msg);
    bool is_new_client_hello(std::span<const std::byte> d) const;

    std::shared_ptr<const context> _ctx;
    endpoint_config _cfg;
    std::string _profile_list; ///< cfg.profiles OpenSSL supports, in OpenSSL syntax (may be empty)
    std::unique_ptr<association> _assoc; ///< the current association, on OpenSSL or GnuTLS
    bool _await_client_hello = false; ///< server role: the first datagram may change the stack
    endpoint_state _state = endpoint_state::idle;
    std::optional<engine::suite> _profile;
    std::optional<clock::time_point> _retransmit_at;
    std::optional<clock::time_point> _handshake_deadline;
    std::deque<std::vector<std::byte>> _out;
    std::deque<event> _events;
    unsigned _associations = 0;
};

} // namespace srtpo::cp::dtls
