#pragma once
// One DTLS 1.2 association on OpenSSL 3.0 (ADR 0005): every handshake that does not negotiate a
// NULL profile. Datagrams pass through a datagram BIO; policy lives in OpenSSL callbacks (the
// fingerprint check, the ClientHello profile order, alerts, the retransmission timer). Private
// to control-plane/dtls.

#include "association.hpp"

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace srtpo::cp::dtls {

/// Ownership: owns its SSL object; the SSL_CTX belongs to the context, which the endpoint keeps
/// alive. See association for the rest of the contract.
class openssl_association final : public association {
public:
    /// `profile_list`: settings.profiles in OpenSSL syntax, or empty when none is OpenSSL's (a
    /// server that only lists NULL: OpenSSL then refuses every ClientHello it gets).
    /// Errors: backend_failure if OpenSSL refuses the MTU, the profiles or an allocation.
    static engine::result<std::unique_ptr<openssl_association>> create(SSL_CTX* ctx, association_settings s,
                                                                       const std::string& profile_list,
                                                                       association_queues q);
    ~openssl_association() override;
    openssl_association(const openssl_association&) = delete;
    openssl_association& operator=(const openssl_association&) = delete;

    /// Sets the SSL_CTX-wide callbacks that find their association through SSL app data:
    /// certificate verification (a=fingerprint) and the ClientHello profile policy.
    static void install_context_callbacks(SSL_CTX* ctx);

    void drive(std::span<const std::byte> datagram) override;
    void on_timer() override;
    void close() override;
    std::optional<std::chrono::milliseconds> retransmit_in() const noexcept override;
    std::optional<std::array<std::byte, 32>> client_random() const noexcept override;
    dtls_stack stack() const noexcept override { return dtls_stack::openssl; }

    struct callbacks; ///< OpenSSL callback glue (private)
    friend struct callbacks;

private:
    openssl_association(association_settings s, association_queues q) : _s(std::move(s)), _q(q) {}
    void on_handshake_complete();
    void fail_from_ssl(int ssl_error);

    association_settings _s;
    association_queues _q;
    SSL* _ssl = nullptr;
    std::span<const std::byte> _in;  ///< the datagram the read BIO hands to OpenSSL next
    std::optional<failure> _hint;    ///< set by callbacks: why OpenSSL is about to fail
    std::string _hint_msg;
    std::string _alert_msg;          ///< text of the first fatal alert received
    bool _peer_verified = false;
    bool _fatal_alert_received = false;
};

} // namespace srtpo::cp::dtls
