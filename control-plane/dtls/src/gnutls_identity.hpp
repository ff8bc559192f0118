#pragma once
// Our certificate and key as GnuTLS credentials, and the GnuTLS priorities that mirror the
// OpenSSL context's settings (DTLS 1.2 only, ECDHE only, AEAD first; ADR 0014). Private to
// control-plane/dtls.

#include <srtpo/cp/dtls/certificate.hpp>
#include <srtpo/engine/result.hpp>

#include <gnutls/gnutls.h>

#include <memory>

namespace srtpo::cp::dtls {

/// Immutable after create(); sessions on any thread may use it (GnuTLS credentials and
/// priorities are read-only once set). Owns both GnuTLS objects.
struct gnutls_identity {
    gnutls_certificate_credentials_t cred = nullptr;
    gnutls_priority_t priority = nullptr;

    /// Imports the certificate (DER) and private key of `cert` (the same files and
    /// a=fingerprint as the OpenSSL context); the exported key DER is wiped after import.
    /// Errors: backend_failure with GnuTLS's message (never key bytes). Thread-safe.
    static engine::result<std::shared_ptr<const gnutls_identity>> create(const certificate& cert);
    gnutls_identity() = default;
    ~gnutls_identity();
    gnutls_identity(const gnutls_identity&) = delete;
    gnutls_identity& operator=(const gnutls_identity&) = delete;
};

} // namespace srtpo::cp::dtls
