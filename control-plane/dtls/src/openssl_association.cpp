#include "openssl_association.hpp"

#include "datagram_bio.hpp"
#include "ossl_error.hpp"
#include "ossl_ptr.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/tls1.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace srtpo::cp::dtls {

using engine::errc;
using engine::make_error;

// ---- OpenSSL callbacks: each finds its association through SSL app data -------------------

struct openssl_association::callbacks {
    static openssl_association* of(const SSL* s) noexcept {
        return static_cast<openssl_association*>(SSL_get_app_data(s));
    }

    // RFC 5763 §5: the certificate is self-signed; what authenticates it is the fingerprint
    // from the signalling. This replaces chain building entirely (no trust store is involved).
    static int verify_cert(X509_STORE_CTX* store, void*) {
        auto* s = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        openssl_association* a = s ? of(s) : nullptr;
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if (!a || !leaf) return 0;
        const int n = i2d_X509(leaf, nullptr);
        std::vector<std::byte> der(n > 0 ? static_cast<std::size_t>(n) : 0);
        auto* out = reinterpret_cast<unsigned char*>(der.data());
        if (n <= 0 || i2d_X509(leaf, &out) != n) {
            a->_hint = failure::internal_error;
            a->_hint_msg = "cannot encode the peer certificate";
            return 0;
        }
        if (!a->_s.remote || !fingerprint_matches(*a->_s.remote, der)) {
            a->_hint = failure::fingerprint_mismatch;
            a->_hint_msg = "peer certificate matches no a=fingerprint";
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        a->_peer_verified = true;
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }

    // Server role, before OpenSSL parses the extensions: read the client's use_srtp list,
    // refuse a handshake without a common profile (RFC 5764 §4.1.3 would let it continue
    // without SRTP, which is useless for media), and order our list so that OpenSSL's own
    // server-preference pick yields the profile the configured policy wants. Our list holds
    // only what OpenSSL can negotiate: a ClientHello whose best common profile is NULL went to
    // GnuTLS unless our reader could not read it (e.g. fragmented; ADR 0014).
    static int client_hello(SSL* s, int* al, void*) {
        openssl_association* a = of(s);
        if (!a) return SSL_CLIENT_HELLO_ERROR;
        const unsigned char* data = nullptr;
        size_t len = 0;
        if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_use_srtp, &data, &len) != 1) {
            a->_hint = failure::no_srtp_profile;
            a->_hint_msg = "ClientHello has no use_srtp extension";
            *al = SSL_AD_HANDSHAKE_FAILURE;
            return SSL_CLIENT_HELLO_ERROR;
        }
        auto ext = parse_use_srtp({reinterpret_cast<const std::byte*>(data), len});
        if (!ext) {
            a->_hint = failure::protocol_error;
            a->_hint_msg = ext.err().message;
            *al = SSL_AD_DECODE_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        auto order = select_profiles(a->_s.profiles, ext->profiles, a->_s.selection);
        auto list = order.empty() ? engine::result<std::string>(make_error(errc::invalid_argument, ""))
                                  : openssl_profile_list(order);
        if (!list) {
            a->_hint = failure::no_srtp_profile;
            a->_hint_msg = "no SRTP profile in common with the client";
            *al = SSL_AD_HANDSHAKE_FAILURE;
            return SSL_CLIENT_HELLO_ERROR;
        }
        if (SSL_set_tlsext_use_srtp(s, list->c_str()) != 0) { // 0 means success here
            a->_hint = failure::internal_error;
            a->_hint_msg = "SSL_set_tlsext_use_srtp failed";
            *al = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        return SSL_CLIENT_HELLO_SUCCESS;
    }

    static void info(const SSL* s, int where, int ret) {
        if (!(where & SSL_CB_ALERT)) return;
        openssl_association* a = of(s);
        if (!a) return;
        alert al;
        al.received = (where & SSL_CB_READ) != 0;
        al.fatal = (ret >> 8) == SSL3_AL_FATAL;
        al.description = static_cast<uint8_t>(ret & 0xff);
        al.text = SSL_alert_desc_string_long(ret);
        if (al.received && al.fatal && !a->_fatal_alert_received) {
            a->_fatal_alert_received = true;
            a->_alert_msg = "peer sent fatal alert: " + al.text;
        }
        a->_q.events->emplace_back(std::move(al));
    }

    // Retransmission back-off (RFC 6347 §4.2.4.1): OpenSSL asks with 0 for the first timeout,
    // then with the previous one.
    static unsigned int timer(SSL* s, unsigned int previous_us) {
        openssl_association* a = of(s);
        if (!a) return 1000000; // OpenSSL's own default, 1 s
        const auto& t = a->_s.timers;
        const uint64_t initial = static_cast<uint64_t>(std::chrono::microseconds(t.initial_retransmit).count());
        const uint64_t cap = static_cast<uint64_t>(std::chrono::microseconds(t.max_retransmit).count());
        const uint64_t next = previous_us == 0 ? initial : uint64_t{previous_us} * t.backoff;
        return static_cast<unsigned int>(std::min<uint64_t>({next, cap, UINT32_MAX}));
    }
};

void openssl_association::install_context_callbacks(SSL_CTX* ctx) {
    SSL_CTX_set_cert_verify_callback(ctx, &callbacks::verify_cert, nullptr);
    SSL_CTX_set_client_hello_cb(ctx, &callbacks::client_hello, nullptr);
}

// ---- association ----------------------------------------------------------------------------

openssl_association::~openssl_association() { SSL_free(_ssl); }

engine::result<std::unique_ptr<openssl_association>> openssl_association::create(SSL_CTX* ctx, association_settings s,
                                                                                 const std::string& profile_list,
                                                                                 association_queues q) {
    ERR_clear_error();
    std::unique_ptr<openssl_association> a(new openssl_association(std::move(s), q));
    ossl::ssl_ptr ssl(SSL_new(ctx));
    BIO* b = ssl ? make_datagram_bio(a->_q.out, &a->_in) : nullptr;
    if (!b) {
        ERR_clear_error();
        return make_error(errc::backend_failure, "dtls endpoint: SSL_new/BIO failed");
    }
    SSL_set_bio(ssl.get(), b, b); // one reference, used for both directions
    SSL_set_app_data(ssl.get(), a.get());
    SSL_set_options(ssl.get(), SSL_OP_NO_QUERY_MTU);
    // SSL_set_mtu returns the MTU it set, 0 if below the minimum.
    const bool ok = SSL_set_mtu(ssl.get(), a->_s.mtu) > 0 &&
                    (profile_list.empty() || SSL_set_tlsext_use_srtp(ssl.get(), profile_list.c_str()) == 0); // 0 = success
    if (!ok) {
        const auto m = ossl::first_error();
        ERR_clear_error();
        return make_error(errc::backend_failure, "dtls endpoint: MTU or SRTP profiles refused: " + m);
    }
    DTLS_set_timer_cb(ssl.get(), &callbacks::timer);
    SSL_set_verify(ssl.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_set_info_callback(ssl.get(), &callbacks::info);
    if (a->_s.role == dtls_role::client) SSL_set_connect_state(ssl.get());
    else SSL_set_accept_state(ssl.get());
    a->_ssl = ssl.release();
    return a;
}

void openssl_association::drive(std::span<const std::byte> datagram) {
    _in = datagram;
    if (_state == endpoint_state::handshaking) {
        ERR_clear_error();
        const int rc = SSL_do_handshake(_ssl);
        if (rc == 1) {
            on_handshake_complete();
        } else {
            const int e = SSL_get_error(_ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail_from_ssl(e);
        }
    }
    if (_state == endpoint_state::connected) {
        // DTLS-SRTP carries no application data (RFC 5764 §4.1); reading lets OpenSSL answer a
        // retransmitted Finished with our last flight and see close_notify or alerts.
        std::array<unsigned char, 2048> buf;
        for (;;) {
            ERR_clear_error();
            const int n = SSL_read(_ssl, buf.data(), static_cast<int>(buf.size()));
            if (n > 0) continue;
            const int e = SSL_get_error(_ssl, n);
            if (e == SSL_ERROR_ZERO_RETURN) {
                // RFC 5246 §7.2.1: answer close_notify with our own (GnuTLS waits for it).
                ERR_clear_error();
                SSL_shutdown(_ssl);
                _state = endpoint_state::closed;
                _q.events->emplace_back(closed{});
            } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                // A fatal alert or error after the handshake ends the association; the keys
                // handed out remain the caller's to keep or drop.
                _state = endpoint_state::closed;
                _q.events->emplace_back(closed{});
            }
            break;
        }
        OPENSSL_cleanse(buf.data(), buf.size());
    }
    _in = {};
    ERR_clear_error(); // OpenSSL's error queue is per thread: leave nothing for other endpoints
}

void openssl_association::on_handshake_complete() {
    if (!_peer_verified) { // cannot happen with resumption off; never hand out unauthenticated keys
        fail(failure::fingerprint_mismatch, "handshake completed without a checked peer certificate");
        return;
    }
    const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(_ssl);
    const auto suite = p ? suite_from_profile_id(static_cast<uint16_t>(p->id)) : std::nullopt;
    if (!suite || std::find(_s.profiles.begin(), _s.profiles.end(), *suite) == _s.profiles.end()) {
        SSL_shutdown(_ssl); // close_notify: the peer learns that this association is unusable
        fail(failure::no_srtp_profile, p ? "peer selected a profile we did not offer"
                                         : "handshake finished without use_srtp (no common profile)");
        return;
    }
    // RFC 5764 §4.2: keying material = PRF(master_secret, "EXTRACTOR-dtls_srtp", randoms),
    // i.e. the RFC 5705 exporter without context.
    static constexpr char label[] = "EXTRACTOR-dtls_srtp";
    std::array<std::byte, 2 * engine::sdes_max_key_salt_len> km{};
    const std::size_t len = keying_material_len(*suite);
    if (SSL_export_keying_material(_ssl, reinterpret_cast<unsigned char*>(km.data()), len, label, sizeof label - 1,
                                   nullptr, 0, 0) != 1) {
        OPENSSL_cleanse(km.data(), km.size());
        fail(failure::internal_error, "SSL_export_keying_material failed: " + ossl::first_error());
        return;
    }
    connect(*suite, std::span<std::byte>(km.data(), len), _s.role); // wipes km
}

void openssl_association::fail_from_ssl(int ssl_error) {
    if (_hint) {
        fail(*_hint, _hint_msg);
        return;
    }
    if (_fatal_alert_received) {
        fail(failure::alert_received, _alert_msg);
        return;
    }
    const unsigned long e = ERR_peek_error();
    const int reason = ERR_GET_REASON(e);
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        fail(failure::fingerprint_mismatch, "peer sent no certificate");
    } else if (reason == SSL_R_READ_TIMEOUT_EXPIRED) {
        fail(failure::retransmit_limit, "no answer after repeated retransmissions");
    } else {
        fail(ssl_error == SSL_ERROR_SSL ? failure::protocol_error : failure::internal_error, ossl::first_error());
    }
}

void openssl_association::on_timer() {
    if (_state != endpoint_state::handshaking && _state != endpoint_state::connected) return;
    ERR_clear_error();
    // OpenSSL's timer runs on its own clock: this retransmits only if that timer expired.
    if (DTLSv1_handle_timeout(_ssl) < 0 && _state == endpoint_state::handshaking) fail_from_ssl(SSL_ERROR_SSL);
    ERR_clear_error();
}

void openssl_association::close() {
    if (_state == endpoint_state::connected) {
        ERR_clear_error();
        SSL_shutdown(_ssl);
        ERR_clear_error();
    }
    if (_state != endpoint_state::failed) _state = endpoint_state::closed;
}

std::optional<std::chrono::milliseconds> openssl_association::retransmit_in() const noexcept {
    timeval tv{};
    if ((_state != endpoint_state::handshaking && _state != endpoint_state::connected) ||
        DTLSv1_get_timeout(_ssl, &tv) != 1)
        return std::nullopt;
    // Rounded up so that on_timer() is not called just before OpenSSL's timer expires.
    const auto us = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    return std::chrono::ceil<std::chrono::milliseconds>(us);
}

std::optional<std::array<std::byte, 32>> openssl_association::client_random() const noexcept {
    std::array<std::byte, 32> r{};
    if (SSL_get_client_random(_ssl, reinterpret_cast<unsigned char*>(r.data()), r.size()) != r.size())
        return std::nullopt;
    return r;
}

} // namespace srtpo::cp::dtls
