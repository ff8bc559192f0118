#include <srtpo/cp/dtls/endpoint.hpp>

#include "gnutls_identity.hpp"
#include "openssl_association.hpp"
#include "ossl_error.hpp"
#include "ossl_ptr.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace srtpo::cp::dtls {

using engine::errc;
using engine::make_error;

namespace {

// ECDHE only (forward secrecy for the exported SRTP keys), AEAD first. The CBC suites remain
// for older WebRTC stacks; RSA suites for peers whose certificate is RSA.
constexpr const char* cipher_list =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA";


} // namespace

engine::result<std::shared_ptr<const context>> context::create(const certificate& cert) {
    ERR_clear_error();
    ossl::ssl_ctx_ptr ctx(SSL_CTX_new(DTLS_method()));
    auto fail = [](const char* what) {
        auto e = make_error(errc::backend_failure, std::string("dtls context: ") + what + ": " + ossl::first_error());
        ERR_clear_error();
        return e;
    };
    if (!ctx) return fail("SSL_CTX_new");
    // DTLS 1.2 only: 1.0 lacks AEAD suites and RFC 8827 §6.5 requires 1.2; OpenSSL 3.0 has no 1.3.
    if (SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION) != 1)
        return fail("protocol version");
    if (SSL_CTX_use_certificate(ctx.get(), static_cast<X509*>(cert.native_x509())) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), static_cast<EVP_PKEY*>(cert.native_pkey())) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1)
        return fail("certificate");
    if (SSL_CTX_set_cipher_list(ctx.get(), cipher_list) != 1) return fail("cipher list");
    if (SSL_CTX_set1_groups_list(ctx.get(), "X25519:P-256:P-384") != 1) return fail("groups");
    // No resumption: every handshake must show a certificate we check against a=fingerprint.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                                       SSL_OP_CIPHER_SERVER_PREFERENCE);
    openssl_association::install_context_callbacks(ctx.get());
    // The same identity for the GnuTLS stack (ADR 0014).
    auto g = gnutls_identity::create(cert);
    if (!g) return g.err();
    return std::shared_ptr<const context>(new context(cert, ctx.release(), std::move(*g)));
}

context::~context() { SSL_CTX_free(static_cast<SSL_CTX*>(_ctx)); }

} // namespace srtpo::cp::dtls
