// OpenSSL contexts for SIP over TLS (RFC 3261 §26.2.1, RFC 5630 §3: TLS with certificate
// verification; RFC 8996 rules out TLS below 1.2).

#include <srtpo/cp/b2bua/tls_context.hpp>

#include <openssl/err.h>

#include <sys/stat.h>

#include <cstdio>

namespace srtpo::cp::b2bua {

using engine::errc;
using engine::make_error;

void ssl_ctx_free::operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }

namespace {

std::string openssl_reason() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

engine::result<ssl_ctx_ptr> common(const tls_settings& s, bool server) {
    ssl_ctx_ptr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
    if (!ctx) return make_error(errc::backend_failure, "SSL_CTX_new: " + openssl_reason());
    const int min = s.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx.get(), min);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
    // A SIP connection carries SDES keys in SDP: no renegotiation, no compression.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Partial writes: our queue keeps the rest and retries with the same (moving) buffer.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), s.ciphers.c_str()) != 1)
        return make_error(errc::invalid_argument, "sip.tls.ciphers '" + s.ciphers + "': " + openssl_reason());
    if (!s.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx.get(), s.ciphersuites.c_str()) != 1)
        return make_error(errc::invalid_argument, "sip.tls.ciphersuites '" + s.ciphersuites + "': " + openssl_reason());
    if (!s.cert.empty() || !s.key.empty()) {
        if (s.cert.empty() || s.key.empty()) return make_error(errc::invalid_argument, "sip.tls: cert and key go together");
        if (auto r = check_secret_file_mode(s.key); !r) return r.err();
        if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert.c_str()) != 1)
            return make_error(errc::io_error, "sip.tls.cert " + s.cert + ": " + openssl_reason());
        if (SSL_CTX_use_PrivateKey_file(ctx.get(), s.key.c_str(), SSL_FILETYPE_PEM) != 1)
            return make_error(errc::io_error, "sip.tls.key " + s.key + ": " + openssl_reason());
        if (SSL_CTX_check_private_key(ctx.get()) != 1)
            return make_error(errc::invalid_argument, "sip.tls.key " + s.key + " does not match " + s.cert);
    }
    if (!s.ca.empty() && SSL_CTX_load_verify_locations(ctx.get(), s.ca.c_str(), nullptr) != 1)
        return make_error(errc::io_error, "sip.tls.ca " + s.ca + ": " + openssl_reason());
    return ctx;
}

} // namespace

engine::result<void> check_secret_file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error(errc::io_error, path + ": cannot stat the key file");
    if (!S_ISREG(st.st_mode)) return make_error(errc::invalid_argument, path + ": the key file is not a regular file");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(errc::invalid_argument, path + ": a private key file must be mode 0600, not " + mode);
    }
    return {};
}

engine::result<ssl_ctx_ptr> make_server_tls_context(const tls_settings& s) {
    if (s.cert.empty() || s.key.empty()) return make_error(errc::invalid_argument, "sip.tls: a TLS listener needs cert and key");
    auto ctx = common(s, true);
    if (!ctx) return ctx;
    if (s.verify_client) {
        if (s.ca.empty()) return make_error(errc::invalid_argument, "sip.tls.verify_client needs sip.tls.ca");
        // RFC 5630 §3.1.3 mutual TLS: refuse a client without a certificate chaining to `ca`.
        SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca.c_str())) SSL_CTX_set_client_CA_list(ctx->get(), names);
    }
    return ctx;
}

engine::result<ssl_ctx_ptr> make_client_tls_context(const tls_settings& s) {
    auto ctx = common(s, false);
    if (!ctx) return ctx;
    if (s.verify_server) {
        if (s.ca.empty() && SSL_CTX_set_default_verify_paths(ctx->get()) != 1)
            return make_error(errc::io_error, "sip.tls: no ca and no system trust store: " + openssl_reason());
        SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER, nullptr);
    }
    return ctx;
}

} // namespace srtpo::cp::b2bua
