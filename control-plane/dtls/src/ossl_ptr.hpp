#pragma once
// unique_ptr aliases for the OpenSSL objects this library owns (private header).

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace srtpo::cp::dtls::ossl {

template <auto Fn>
struct deleter {
    template <class T>
    void operator()(T* p) const noexcept { Fn(p); }
};

using x509_ptr = std::unique_ptr<X509, deleter<&X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<&EVP_PKEY_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<&BIO_free_all>>;
using ssl_ptr = std::unique_ptr<SSL, deleter<&SSL_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, deleter<&SSL_CTX_free>>;

} // namespace srtpo::cp::dtls::ossl
