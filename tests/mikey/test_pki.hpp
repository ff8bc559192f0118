#pragma once
// Test helper: an RSA key and a self-signed certificate as PEM text, made with OpenSSL.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>
#include <utility>

namespace mikey_test {

inline std::string bio_text(BIO* b) {
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<std::size_t>(n));
    BIO_free(b);
    return s;
}

/// {private key PEM, certificate PEM} for CN=cn, RSA of `bits`.
inline std::pair<std::string, std::string> make_rsa_identity(const char* cn, unsigned bits = 2048) {
    EVP_PKEY* k = EVP_RSA_gen(bits);
    X509* c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, k);
    X509_NAME* n = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(c, n);
    X509_sign(c, k, EVP_sha256());
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, k, nullptr, nullptr, 0, nullptr, nullptr);
    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, c);
    X509_free(c);
    EVP_PKEY_free(k);
    return {bio_text(kb), bio_text(cb)};
}

} // namespace mikey_test
