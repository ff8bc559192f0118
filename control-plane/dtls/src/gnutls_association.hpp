#pragma once
// One DTLS 1.2 association on GnuTLS (ADR 0014), for the handshakes that negotiate a NULL SRTP
// profile, which OpenSSL 3.0 cannot. The same sans-I/O contract as the OpenSSL path of
// endpoint: datagrams come in through drive(), leave through the push callback into the
// endpoint's queue; GnuTLS never touches a socket or sleeps (GNUTLS_NONBLOCK, pull returns
// EAGAIN when the one datagram handed in is consumed). Private to control-plane/dtls.

#include "gnutls_identity.hpp"

#include <srtpo/cp/dtls/endpoint.hpp>

#include <gnutls/gnutls.h>

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace srtpo::cp::dtls {

/// Thread-safety: not thread-safe; the endpoint's owner thread. Ownership: owns its GnuTLS
/// session; writes datagrams and alert/closed events into the endpoint's queues, which outlive
/// it; keys leave only through take_keys().
class gnutls_association {
public:
    struct settings {
        dtls_role role = dtls_role::server;
        std::vector<engine::suite> profiles; ///< only ones GnuTLS supports, preference order
        const std::vector<fingerprint>* remote = nullptr; ///< the endpoint's, read at verification
        uint16_t mtu = 1200;
        timer_config timers;
    };
    struct queues {
        std::deque<std::vector<std::byte>>* out;
        std::deque<event>* events;
    };

    /// Errors: backend_failure if GnuTLS refuses a setting; invalid_argument for an empty list.
    static engine::result<std::unique_ptr<gnutls_association>> create(std::shared_ptr<const gnutls_identity> id,
                                                                       settings s, queues q);
    ~gnutls_association();
    gnutls_association(const gnutls_association&) = delete;
    gnutls_association& operator=(const gnutls_association&) = delete;

    /// Advances the handshake (or, once connected, reads alerts and close_notify) with
    /// `datagram` as the only input available; empty = no input (the client's first flight, or
    /// a timer). Never fails: failures become state() == failed and take_failure().
    void drive(std::span<const std::byte> datagram);
    /// Sends close_notify if connected.
    void close();

    endpoint_state state() const noexcept { return _state; }
    std::optional<engine::suite> profile() const noexcept { return _profile; }
    /// Time until GnuTLS wants drive({}) for a retransmission, while handshaking.
    std::optional<std::chrono::milliseconds> retransmit_in() const noexcept;
    /// ClientHello.random of this association (to tell a retransmission from a new one).
    std::optional<std::array<std::byte, 32>> client_random() const noexcept;

    /// The keys of a completed handshake, once (local = our write key).
    std::optional<srtp_keying> take_keys() { return std::exchange(_keys, std::nullopt); }
    /// Why the handshake failed, once.
    std::optional<handshake_failed> take_failure() { return std::exchange(_failure, std::nullopt); }

    struct glue; ///< GnuTLS callbacks (private)
    friend struct glue;

private:
    gnutls_association(std::shared_ptr<const gnutls_identity> id, settings s, queues q);
    void on_handshake_complete();
    void fail(failure f, std::string msg);
    void fail_from_gnutls(int rc);
    void read_records();

    std::shared_ptr<const gnutls_identity> _id;
    settings _s;
    queues _q;
    gnutls_session_t _session = nullptr;
    endpoint_state _state = endpoint_state::handshaking;
    std::span<const std::byte> _in;
    std::optional<engine::suite> _profile;
    std::optional<srtp_keying> _keys;
    std::optional<handshake_failed> _failure;
    std::optional<failure> _hint; ///< set by the verify callback
    std::string _hint_msg;
    bool _peer_verified = false;
};

} // namespace srtpo::cp::dtls
