#pragma once
// One DTLS 1.2 association on GnuTLS (ADR 0014), for the handshakes that negotiate a NULL SRTP
// profile, which OpenSSL 3.0 cannot. The same sans-I/O contract as the OpenSSL path of
// endpoint: datagrams come in through drive(), leave through the push callback into the
// endpoint's queue; GnuTLS never touches a socket or sleeps (GNUTLS_NONBLOCK, pull returns
// EAGAIN when the one datagram handed in is consumed). Private to control-plane/dtls.

#include "association.hpp"
#include "gnutls_identity.hpp"

#include <gnutls/gnutls.h>

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace srtpo::cp::dtls {

/// Ownership: owns its GnuTLS session and a reference to the credentials. See association for
/// the rest of the contract.
class gnutls_association final : public association {
public:
    /// `s.profiles`: only ones GnuTLS supports (stack_supports). Errors: backend_failure if
    /// GnuTLS refuses a setting; invalid_argument for an empty list or no fingerprints.
    static engine::result<std::unique_ptr<gnutls_association>> create(std::shared_ptr<const gnutls_identity> id,
                                                                       association_settings s, association_queues q);
    ~gnutls_association() override;
    gnutls_association(const gnutls_association&) = delete;
    gnutls_association& operator=(const gnutls_association&) = delete;

    /// Advances the handshake (or, once connected, reads alerts and close_notify) with
    /// `datagram` as the only input available; empty = no input (the client's first flight, or
    /// a timer). Never fails: failures become state() == failed and take_failure().
    void drive(std::span<const std::byte> datagram) override;
    /// GnuTLS keeps its own retransmission clock: drive({}) retransmits only if it expired.
    void on_timer() override {
        if (_state == endpoint_state::handshaking) drive({});
    }
    void close() override;
    /// While handshaking: gnutls_dtls_get_timeout().
    std::optional<std::chrono::milliseconds> retransmit_in() const noexcept override;
    std::optional<std::array<std::byte, 32>> client_random() const noexcept override;
    dtls_stack stack() const noexcept override { return dtls_stack::gnutls; }

    struct glue; ///< GnuTLS callbacks (private)
    friend struct glue;

private:
    gnutls_association(std::shared_ptr<const gnutls_identity> id, association_settings s, association_queues q);
    void on_handshake_complete();
    void fail_from_gnutls(int rc);
    void read_records();

    std::shared_ptr<const gnutls_identity> _id;
    association_settings _s;
    association_queues _q;
    gnutls_session_t _session = nullptr;
    std::span<const std::byte> _in;
    std::optional<failure> _hint; ///< set by the verify callback
    std::string _hint_msg;
    bool _peer_verified = false;
};

} // namespace srtpo::cp::dtls
