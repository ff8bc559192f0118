#include "gnutls_identity.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

namespace srtpo::cp::dtls {
namespace {

// The OpenSSL context's policy in GnuTLS terms: DTLS 1.2 only (RFC 8827 §6.5), ECDHE key
// exchange only (forward secrecy for the exported SRTP keys), AEAD ciphers before CBC, and the
// same groups. Server precedence: like SSL_OP_CIPHER_SERVER_PREFERENCE.
constexpr const char* priorities =
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"
    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE";

engine::error gnutls_failure(const char* what, int rc) {
    return engine::make_error(engine::errc::backend_failure,
                              std::string("dtls gnutls identity: ") + what + ": " + gnutls_strerror(rc));
}

} // namespace

gnutls_identity::~gnutls_identity() {
    if (priority) gnutls_priority_deinit(priority);
    if (cred) gnutls_certificate_free_credentials(cred);
}

engine::result<std::shared_ptr<const gnutls_identity>> gnutls_identity::create(const certificate& cert) {
    auto id = std::make_shared<gnutls_identity>();
    if (int rc = gnutls_certificate_allocate_credentials(&id->cred); rc < 0) return gnutls_failure("credentials", rc);
    unsigned char* key_der = nullptr;
    const int key_len = i2d_PrivateKey(static_cast<const EVP_PKEY*>(cert.native_pkey()), &key_der);
    if (key_len <= 0 || !key_der)
        return engine::make_error(engine::errc::backend_failure, "dtls gnutls identity: cannot export the private key");
    const auto der = cert.der();
    gnutls_datum_t c{const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(der.data())),
                     static_cast<unsigned>(der.size())};
    gnutls_datum_t k{key_der, static_cast<unsigned>(key_len)};
    const int rc = gnutls_certificate_set_x509_key_mem2(id->cred, &c, &k, GNUTLS_X509_FMT_DER, nullptr, 0);
    OPENSSL_cleanse(key_der, static_cast<std::size_t>(key_len));
    OPENSSL_free(key_der);
    if (rc < 0) return gnutls_failure("certificate and key", rc);
    if (int r = gnutls_priority_init2(&id->priority, priorities, nullptr, 0); r < 0)
        return gnutls_failure("priorities", r);
    return std::shared_ptr<const gnutls_identity>(std::move(id));
}

} // namespace srtpo::cp::dtls
