#include <srtpo/cp/dtls/endpoint.hpp>

#include "datagram_bio.hpp"
#include "gnutls_association.hpp"
#include "gnutls_identity.hpp"
#include "ossl_ptr.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace srtpo::cp::dtls {

using engine::errc;
using engine::make_error;

namespace {

// Record header (RFC 6347 §4.1): type(1) version(2) epoch(2) seq(6) length(2) = 13 octets;
// handshake header (§4.2.2): msg_type(1) length(3) message_seq(2) fragment_offset(3)
// fragment_length(3) = 12 octets; ClientHello body: client_version(2) random(32).
constexpr std::size_t record_header_len = 13;
constexpr std::size_t handshake_header_len = 12;
constexpr std::size_t client_random_at = record_header_len + handshake_header_len + 2;
constexpr std::size_t client_random_len = 32;

// ECDHE only (forward secrecy for the exported SRTP keys), AEAD first. The CBC suites remain
// for older WebRTC stacks; RSA suites for peers whose certificate is RSA.
constexpr const char* cipher_list =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA";

SSL* ssl_of(void* p) noexcept { return static_cast<SSL*>(p); }

std::string first_ssl_error() {
    const unsigned long e = ERR_peek_error();
    if (!e) return "no OpenSSL error recorded";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

} // namespace

std::string_view to_string(failure f) noexcept {
    switch (f) {
    case failure::fingerprint_mismatch: return "fingerprint_mismatch";
    case failure::no_srtp_profile: return "no_srtp_profile";
    case failure::handshake_timeout: return "handshake_timeout";
    case failure::retransmit_limit: return "retransmit_limit";
    case failure::alert_received: return "alert_received";
    case failure::protocol_error: return "protocol_error";
    case failure::internal_error: return "internal_error";
    }
    return "unknown";
}

// ---- OpenSSL callbacks: each finds its endpoint through SSL app data ----------------------

struct endpoint::callbacks {
    static endpoint* of(const SSL* s) noexcept { return static_cast<endpoint*>(SSL_get_app_data(s)); }

    // RFC 5763 §5: the certificate is self-signed; what authenticates it is the fingerprint
    // from the signalling. This replaces chain building entirely (no trust store is involved).
    static int verify_cert(X509_STORE_CTX* store, void*) {
        auto* s = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        endpoint* ep = s ? of(s) : nullptr;
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if (!ep || !leaf) return 0;
        const int n = i2d_X509(leaf, nullptr);
        std::vector<std::byte> der(n > 0 ? static_cast<std::size_t>(n) : 0);
        auto* out = reinterpret_cast<unsigned char*>(der.data());
        if (n <= 0 || i2d_X509(leaf, &out) != n) {
            ep->_hint = failure::internal_error;
            ep->_hint_msg = "cannot encode the peer certificate";
            return 0;
        }
        if (!fingerprint_matches(ep->_cfg.remote_fingerprints, der)) {
            ep->_hint = failure::fingerprint_mismatch;
            ep->_hint_msg = "peer certificate matches no a=fingerprint";
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
            return 0;
        }
        ep->_peer_verified = true;
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }

    // Server role, before OpenSSL parses the extensions: read the client's use_srtp list,
    // refuse a handshake without a common profile (RFC 5764 §4.1.3 would let it continue
    // without SRTP, which is useless for media), and order our list so that OpenSSL's own
    // server-preference pick yields the profile the configured policy wants.
    static int client_hello(SSL* s, int* al, void*) {
        endpoint* ep = of(s);
        if (!ep) return SSL_CLIENT_HELLO_ERROR;
        const unsigned char* data = nullptr;
        size_t len = 0;
        if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_use_srtp, &data, &len) != 1) {
            ep->_hint = failure::no_srtp_profile;
            ep->_hint_msg = "ClientHello has no use_srtp extension";
            *al = SSL_AD_HANDSHAKE_FAILURE;
            return SSL_CLIENT_HELLO_ERROR;
        }
        auto ext = parse_use_srtp({reinterpret_cast<const std::byte*>(data), len});
        if (!ext) {
            ep->_hint = failure::protocol_error;
            ep->_hint_msg = ext.err().message;
            *al = SSL_AD_DECODE_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        // Only what OpenSSL can negotiate: a ClientHello whose best common profile is NULL went
        // to GnuTLS unless our parser could not read it (e.g. fragmented; ADR 0014).
        const auto ours = profiles_for(dtls_stack::openssl, ep->_cfg.profiles);
        auto order = select_profiles(ours, ext->profiles, ep->_cfg.selection);
        auto list = order.empty() ? engine::result<std::string>(make_error(errc::invalid_argument, ""))
                                  : openssl_profile_list(order);
        if (!list) {
            ep->_hint = failure::no_srtp_profile;
            ep->_hint_msg = "no SRTP profile in common with the client";
            *al = SSL_AD_HANDSHAKE_FAILURE;
            return SSL_CLIENT_HELLO_ERROR;
        }
        if (SSL_set_tlsext_use_srtp(s, list->c_str()) != 0) { // 0 means success here
            ep->_hint = failure::internal_error;
            ep->_hint_msg = "SSL_set_tlsext_use_srtp failed";
            *al = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        return SSL_CLIENT_HELLO_SUCCESS;
    }

    static void info(const SSL* s, int where, int ret) {
        if (!(where & SSL_CB_ALERT)) return;
        endpoint* ep = of(s);
        if (!ep) return;
        alert a;
        a.received = (where & SSL_CB_READ) != 0;
        a.fatal = (ret >> 8) == SSL3_AL_FATAL;
        a.description = static_cast<uint8_t>(ret & 0xff);
        a.text = SSL_alert_desc_string_long(ret);
        if (a.received && a.fatal && !ep->_fatal_alert_received) {
            ep->_fatal_alert_received = true;
            ep->_alert_msg = "peer sent fatal alert: " + a.text;
        }
        ep->_events.emplace_back(std::move(a));
    }

    // Retransmission back-off (RFC 6347 §4.2.4.1): OpenSSL asks with 0 for the first timeout,
    // then with the previous one.
    static unsigned int timer(SSL* s, unsigned int previous_us) {
        endpoint* ep = of(s);
        if (!ep) return 1000000; // OpenSSL's own default, 1 s
        const auto& t = ep->_cfg.timers;
        const uint64_t initial = static_cast<uint64_t>(std::chrono::microseconds(t.initial_retransmit).count());
        const uint64_t cap = static_cast<uint64_t>(std::chrono::microseconds(t.max_retransmit).count());
        const uint64_t next = previous_us == 0 ? initial : uint64_t{previous_us} * t.backoff;
        return static_cast<unsigned int>(std::min<uint64_t>({next, cap, UINT32_MAX}));
    }
};

// ---- context --------------------------------------------------------------------------------

engine::result<std::shared_ptr<const context>> context::create(const certificate& cert) {
    ERR_clear_error();
    ossl::ssl_ctx_ptr ctx(SSL_CTX_new(DTLS_method()));
    auto fail = [](const char* what) {
        auto e = make_error(errc::backend_failure, std::string("dtls context: ") + what + ": " + first_ssl_error());
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
    SSL_CTX_set_cert_verify_callback(ctx.get(), &endpoint::callbacks::verify_cert, nullptr);
    SSL_CTX_set_client_hello_cb(ctx.get(), &endpoint::callbacks::client_hello, nullptr);
    auto g = gnutls_identity::create(cert);
    if (!g) return g.err();
    return std::shared_ptr<const context>(new context(cert, ctx.release(), std::move(*g)));
}

context::~context() { SSL_CTX_free(static_cast<SSL_CTX*>(_ctx)); }

// ---- endpoint -------------------------------------------------------------------------------

endpoint::endpoint(std::shared_ptr<const context> ctx, endpoint_config cfg) : _ctx(std::move(ctx)), _cfg(std::move(cfg)) {}

endpoint::~endpoint() {
    SSL_free(ssl_of(_ssl));
}

engine::result<std::unique_ptr<endpoint>> endpoint::create(std::shared_ptr<const context> ctx, endpoint_config cfg) {
    auto bad = [](std::string m) { return make_error(errc::invalid_argument, "dtls endpoint: " + std::move(m)); };
    if (!ctx) return bad("no context");
    if (auto r = check_profile_list(cfg.profiles); !r) return r.err();
    // The OpenSSL list may be empty (only NULL profiles): OpenSSL then refuses every ClientHello
    // that our parser could not route to GnuTLS.
    const auto openssl_profiles = profiles_for(dtls_stack::openssl, cfg.profiles);
    engine::result<std::string> list{std::string{}};
    if (!openssl_profiles.empty()) list = openssl_profile_list(openssl_profiles);
    if (!list) return list.err();
    if (cfg.mtu < 256) return bad("mtu below 256");
    if (cfg.timers.backoff < 1) return bad("backoff must be >= 1");
    if (cfg.timers.initial_retransmit.count() <= 0 || cfg.timers.max_retransmit < cfg.timers.initial_retransmit ||
        cfg.timers.handshake_timeout.count() <= 0)
        return bad("timers must be positive and max_retransmit >= initial_retransmit");
    if (cfg.remote_fingerprints.empty()) return bad("no remote fingerprint (RFC 5763 §5 requires one)");
    std::unique_ptr<endpoint> ep(new endpoint(std::move(ctx), std::move(cfg)));
    ep->_profile_list = std::move(*list);
    return ep;
}

engine::result<void> endpoint::new_ssl() {
    ERR_clear_error();
    SSL_free(ssl_of(_ssl));
    _ssl = nullptr;
    ossl::ssl_ptr s(SSL_new(static_cast<SSL_CTX*>(_ctx->native())));
    BIO* b = s ? make_datagram_bio(&_out, &_in) : nullptr;
    if (!b) {
        ERR_clear_error();
        return make_error(errc::backend_failure, "dtls endpoint: SSL_new/BIO failed");
    }
    SSL_set_bio(s.get(), b, b); // one reference, used for both directions
    SSL_set_app_data(s.get(), this);
    SSL_set_options(s.get(), SSL_OP_NO_QUERY_MTU);
    // SSL_set_mtu returns the MTU it set, 0 if below the minimum.
    const bool ok = SSL_set_mtu(s.get(), _cfg.mtu) > 0 &&
                    (_profile_list.empty() || SSL_set_tlsext_use_srtp(s.get(), _profile_list.c_str()) == 0); // 0 = success
    if (!ok) {
        const auto m = first_ssl_error();
        ERR_clear_error();
        return make_error(errc::backend_failure, "dtls endpoint: MTU or SRTP profiles refused: " + m);
    }
    DTLS_set_timer_cb(s.get(), &callbacks::timer);
    SSL_set_verify(s.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_set_info_callback(s.get(), &callbacks::info);
    if (_cfg.role == dtls_role::client) SSL_set_connect_state(s.get());
    else SSL_set_accept_state(s.get());
    _ssl = s.release();
    _hint.reset();
    _hint_msg.clear();
    _peer_verified = false;
    _fatal_alert_received = false;
    _alert_msg.clear();
    _profile.reset();
    _retransmit_at.reset();
    return {};
}

engine::result<void> endpoint::start(clock::time_point now) {
    if (_state != endpoint_state::idle) return make_error(errc::invalid_argument, "dtls endpoint: already started");
    return restart(now);
}

engine::result<void> endpoint::restart(clock::time_point now, std::optional<std::vector<fingerprint>> remote) {
    if (remote) {
        if (remote->empty()) return make_error(errc::invalid_argument, "dtls endpoint: no remote fingerprint");
        _cfg.remote_fingerprints = std::move(*remote);
    }
    _gnutls.reset();
    _stack.reset();
    _await_client_hello = false;
    if (_cfg.role == dtls_role::client && client_stack(_cfg.profiles) == dtls_stack::gnutls) {
        // One ClientHello carries every offered profile; with NULL and no GCM only GnuTLS can.
        SSL_free(ssl_of(_ssl));
        _ssl = nullptr;
        if (auto r = start_gnutls(profiles_for(dtls_stack::gnutls, _cfg.profiles)); !r) return r;
        _state = endpoint_state::handshaking;
        _handshake_deadline = now + _cfg.timers.handshake_timeout;
        _gnutls->drive({}); // queues the ClientHello
        sync_gnutls(now);
        return {};
    }
    if (auto r = new_ssl(); !r) return r;
    _state = endpoint_state::handshaking;
    _handshake_deadline = now + _cfg.timers.handshake_timeout;
    if (_cfg.role == dtls_role::client) {
        _stack = dtls_stack::openssl;
        drive(now); // queues the ClientHello
    } else {
        _await_client_hello = true; // the ClientHello's use_srtp picks the stack
    }
    return {};
}

engine::result<void> endpoint::start_gnutls(std::vector<engine::suite> profiles) {
    gnutls_association::settings s;
    s.role = _cfg.role;
    s.profiles = std::move(profiles);
    s.remote = &_cfg.remote_fingerprints;
    s.mtu = _cfg.mtu;
    s.timers = _cfg.timers;
    auto a = gnutls_association::create(_ctx->gnutls(), std::move(s), {&_out, &_events});
    if (!a) return a.err();
    _gnutls = std::move(*a);
    _stack = dtls_stack::gnutls;
    _peer_verified = false;
    _profile.reset();
    _retransmit_at.reset();
    return {};
}

void endpoint::sync_gnutls(clock::time_point now) {
    if (auto f = _gnutls->take_failure()) {
        fail(f->reason, std::move(f->message));
        return;
    }
    if (auto k = _gnutls->take_keys()) {
        _state = endpoint_state::connected;
        _profile = _gnutls->profile();
        _handshake_deadline.reset();
        _events.emplace_back(handshake_done{std::move(*k), ++_associations});
    } else if (_gnutls->state() == endpoint_state::closed && _state == endpoint_state::connected) {
        _state = endpoint_state::closed;
    }
    const auto in = _gnutls->retransmit_in();
    _retransmit_at = in ? std::optional<clock::time_point>(now + *in) : std::nullopt;
}

bool endpoint::is_new_client_hello(std::span<const std::byte> d) const {
    auto u8 = [&](std::size_t i) { return static_cast<uint8_t>(d[i]); };
    if (d.size() < client_random_at + client_random_len) return false;
    // content type handshake (22), epoch 0, msg_type client_hello (1), fragment_offset 0
    if (u8(0) != 22 || u8(3) != 0 || u8(4) != 0 || u8(13) != 1) return false;
    if (u8(19) != 0 || u8(20) != 0 || u8(21) != 0) return false;
    std::array<unsigned char, client_random_len> current{};
    if (_gnutls) {
        const auto r = _gnutls->client_random();
        if (!r) return true;
        std::memcpy(current.data(), r->data(), current.size());
    } else if (!_ssl || SSL_get_client_random(ssl_of(_ssl), current.data(), current.size()) != current.size()) {
        return true;
    }
    // A retransmitted ClientHello of the association we already have carries the same random.
    return CRYPTO_memcmp(current.data(), d.data() + client_random_at, client_random_len) != 0;
}

void endpoint::receive(std::span<const std::byte> datagram, clock::time_point now) {
    if (datagram.empty()) return;
    const auto first = static_cast<uint8_t>(datagram[0]);
    if (first < 20 || first > 63) return; // not DTLS (RFC 7983 §7)
    if (_state == endpoint_state::idle || _state == endpoint_state::failed || (!_ssl && !_gnutls)) return;
    if (_cfg.role == dtls_role::server &&
        (_state == endpoint_state::connected || _state == endpoint_state::closed) && is_new_client_hello(datagram)) {
        // The client started a new association on this 5-tuple (RFC 8842 §5; a restarted
        // browser tab does this too): handshake again; the old keys stay until new ones arrive.
        if (!restart(now)) return;
    }
    if (_state == endpoint_state::closed) return;
    if (_await_client_hello) {
        // Server role, first datagram of the association: its use_srtp offer picks the stack
        // (ADR 0014). Anything our parser cannot read stays with OpenSSL, which answers as before.
        _await_client_hello = false;
        auto hello = parse_client_hello(datagram);
        const auto choice = server_stack(_cfg.profiles, _cfg.selection,
                                         hello ? std::optional<client_hello>(std::move(*hello)) : std::nullopt);
        if (choice.stack == dtls_stack::gnutls) {
            SSL_free(ssl_of(_ssl));
            _ssl = nullptr;
            // GnuTLS is offered only the profile our policy picked, so its choice is ours.
            if (auto r = start_gnutls({*choice.profile}); !r) {
                fail(failure::internal_error, r.err().message);
                return;
            }
        } else {
            _stack = dtls_stack::openssl;
        }
    }
    if (_gnutls) {
        _gnutls->drive(datagram);
        sync_gnutls(now);
        return;
    }
    _in = datagram;
    drive(now);
    _in = {};
}

void endpoint::drive(clock::time_point now) {
    SSL* s = ssl_of(_ssl);
    if (_state == endpoint_state::handshaking) {
        ERR_clear_error();
        const int rc = SSL_do_handshake(s);
        if (rc == 1) {
            on_handshake_complete();
        } else {
            const int e = SSL_get_error(s, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                fail_from_ssl(e);
                return;
            }
        }
    }
    if (_state == endpoint_state::connected) {
        // DTLS-SRTP carries no application data (RFC 5764 §4.1); reading lets OpenSSL answer a
        // retransmitted Finished with our last flight and see close_notify or alerts.
        std::array<unsigned char, 2048> buf;
        for (;;) {
            ERR_clear_error();
            const int n = SSL_read(s, buf.data(), static_cast<int>(buf.size()));
            if (n > 0) continue;
            const int e = SSL_get_error(s, n);
            if (e == SSL_ERROR_ZERO_RETURN) {
                // RFC 5246 §7.2.1: answer close_notify with our own (GnuTLS waits for it).
                ERR_clear_error();
                SSL_shutdown(s);
                _state = endpoint_state::closed;
                _events.emplace_back(closed{});
            } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                // A fatal alert or error after the handshake ends the association; the keys
                // handed out remain the caller's to keep or drop.
                _state = endpoint_state::closed;
                _events.emplace_back(closed{});
            }
            break;
        }
        OPENSSL_cleanse(buf.data(), buf.size());
        ERR_clear_error();
    }
    update_retransmit_deadline(now);
}

void endpoint::on_handshake_complete() {
    SSL* s = ssl_of(_ssl);
    if (!_peer_verified) { // cannot happen with resumption off; never hand out unauthenticated keys
        fail(failure::fingerprint_mismatch, "handshake completed without a checked peer certificate");
        return;
    }
    const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(s);
    const auto suite = p ? suite_from_profile_id(static_cast<uint16_t>(p->id)) : std::nullopt;
    if (!suite || std::find(_cfg.profiles.begin(), _cfg.profiles.end(), *suite) == _cfg.profiles.end()) {
        SSL_shutdown(s); // close_notify: the peer learns that this association is unusable
        fail(failure::no_srtp_profile, p ? "peer selected a profile we did not offer"
                                         : "handshake finished without use_srtp (no common profile)");
        return;
    }
    // RFC 5764 §4.2: keying material = PRF(master_secret, "EXTRACTOR-dtls_srtp", randoms),
    // i.e. the RFC 5705 exporter without context.
    static constexpr char label[] = "EXTRACTOR-dtls_srtp";
    std::array<std::byte, 2 * engine::sdes_max_key_salt_len> km{};
    const std::size_t len = keying_material_len(*suite);
    if (SSL_export_keying_material(s, reinterpret_cast<unsigned char*>(km.data()), len, label, sizeof label - 1,
                                   nullptr, 0, 0) != 1) {
        OPENSSL_cleanse(km.data(), km.size());
        fail(failure::internal_error, "SSL_export_keying_material failed: " + first_ssl_error());
        return;
    }
    auto keying = split_keying_material(*suite, std::span<const std::byte>(km.data(), len),
                                        _cfg.role == dtls_role::client);
    OPENSSL_cleanse(km.data(), km.size());
    if (!keying) {
        fail(failure::internal_error, keying.err().message);
        return;
    }
    _state = endpoint_state::connected;
    _profile = *suite;
    _handshake_deadline.reset();
    _events.emplace_back(handshake_done{std::move(*keying), ++_associations});
}

void endpoint::fail(failure f, std::string msg) {
    _state = endpoint_state::failed;
    _retransmit_at.reset();
    _handshake_deadline.reset();
    _events.emplace_back(handshake_failed{f, std::move(msg)});
    ERR_clear_error();
}

void endpoint::fail_from_ssl(int ssl_error) {
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
        fail(ssl_error == SSL_ERROR_SSL ? failure::protocol_error : failure::internal_error, first_ssl_error());
    }
}

void endpoint::update_retransmit_deadline(clock::time_point now) {
    timeval tv{};
    if (_ssl && (_state == endpoint_state::handshaking || _state == endpoint_state::connected) &&
        DTLSv1_get_timeout(ssl_of(_ssl), &tv) == 1)
        _retransmit_at = now + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    else
        _retransmit_at.reset();
}

std::optional<clock::time_point> endpoint::next_timeout() const noexcept {
    if (_retransmit_at && _handshake_deadline) return std::min(*_retransmit_at, *_handshake_deadline);
    return _retransmit_at ? _retransmit_at : _handshake_deadline;
}

void endpoint::on_timer(clock::time_point now) {
    if (_state == endpoint_state::handshaking && _handshake_deadline && now >= *_handshake_deadline) {
        fail(failure::handshake_timeout, "handshake did not finish within " +
                                             std::to_string(_cfg.timers.handshake_timeout.count()) + " ms");
        return;
    }
    if (_gnutls) {
        // GnuTLS keeps its own retransmission clock: this retransmits only if it expired.
        if (_state == endpoint_state::handshaking) {
            _gnutls->drive({});
            sync_gnutls(now);
        }
        return;
    }
    if (!_ssl || (_state != endpoint_state::handshaking && _state != endpoint_state::connected)) return;
    ERR_clear_error();
    // OpenSSL's timer runs on its own clock: this retransmits only if that timer expired.
    if (DTLSv1_handle_timeout(ssl_of(_ssl)) < 0 && _state == endpoint_state::handshaking) {
        fail_from_ssl(SSL_ERROR_SSL);
        return;
    }
    ERR_clear_error();
    update_retransmit_deadline(now);
}

void endpoint::close() {
    if (_gnutls) {
        _gnutls->close();
    } else if (_ssl && _state == endpoint_state::connected) {
        ERR_clear_error();
        SSL_shutdown(ssl_of(_ssl));
        ERR_clear_error();
    }
    if (_state != endpoint_state::failed) _state = endpoint_state::closed;
    _retransmit_at.reset();
    _handshake_deadline.reset();
}

std::optional<std::vector<std::byte>> endpoint::poll_datagram() {
    if (_out.empty()) return std::nullopt;
    auto d = std::move(_out.front());
    _out.pop_front();
    return d;
}

std::optional<event> endpoint::poll_event() {
    if (_events.empty()) return std::nullopt;
    auto e = std::move(_events.front());
    _events.pop_front();
    return e;
}

} // namespace srtpo::cp::dtls
