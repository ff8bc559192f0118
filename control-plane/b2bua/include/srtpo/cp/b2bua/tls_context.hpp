#pragma once
// OpenSSL 3 contexts for SIP over TLS (RFC 3261 §26.2.1, RFC 5630): TLS 1.2 and 1.3 only, the
// certificate and key from files (the key file must be mode 0600: it is a secret), an optional
// CA file to verify client certificates (server side) or the next hop's certificate (client side),
// and the configured TLS 1.2 cipher list and TLS 1.3 ciphersuites.
//
// Thread-safety: built once, then used by the event loop thread. Ownership: owns its SSL_CTX.

#include <srtpo/cp/b2bua/sip_config.hpp>

#include <openssl/ssl.h>

#include <memory>

namespace srtpo::cp::b2bua {

struct ssl_ctx_free {
    void operator()(SSL_CTX* c) const noexcept;
};
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;

/// Server context for the TLS listeners. Errors (invalid_argument / io_error) name the file and
/// the OpenSSL reason: missing cert or key, key not 0600, key not matching the cert, bad cipher
/// string, unreadable CA file.
engine::result<ssl_ctx_ptr> make_server_tls_context(const tls_settings& s);
/// Client context for connections we open to next hops: verifies the server against `ca` when
/// verify_server (hostname checked per connection when verify_hostname), presents cert/key
/// when configured (mutual TLS).
engine::result<ssl_ctx_ptr> make_client_tls_context(const tls_settings& s);

/// The key file check on its own: a regular file with no group/other permission bits.
engine::result<void> check_secret_file_mode(const std::string& path);

} // namespace srtpo::cp::b2bua
