#include "gnutls_association.hpp"

#include <gnutls/dtls.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace srtpo::cp::dtls {

using engine::errc;
using engine::make_error;

struct gnutls_association::glue {
    static gnutls_association* of(gnutls_transport_ptr_t p) noexcept { return static_cast<gnutls_association*>(p); }

    // One call is one datagram: GnuTLS hands a record (or a flight packed up to the MTU) as
    // iovecs; concatenated they are one UDP payload.
    static ssize_t vec_push(gnutls_transport_ptr_t p, const giovec_t* iov, int n) {
        auto* a = of(p);
        std::vector<std::byte> d;
        for (int i = 0; i < n; ++i) {
            const auto* b = static_cast<const std::byte*>(iov[i].iov_base);
            d.insert(d.end(), b, b + iov[i].iov_len);
        }
        const auto len = static_cast<ssize_t>(d.size());
        a->_q.out->push_back(std::move(d));
        return len;
    }

    // The datagram handed to drive(), once; then "would block" (sans I/O).
    static ssize_t pull(gnutls_transport_ptr_t p, void* buf, size_t size) {
        auto* a = of(p);
        if (a->_in.empty()) {
            gnutls_transport_set_errno(a->_session, EAGAIN);
            return -1;
        }
        // DTLS: a datagram larger than the buffer is truncated, as recv() would do.
        const std::size_t n = std::min(size, a->_in.size());
        std::memcpy(buf, a->_in.data(), n);
        a->_in = {};
        return static_cast<ssize_t>(n);
    }
    static int pull_timeout(gnutls_transport_ptr_t p, unsigned int) { return of(p)->_in.empty() ? 0 : 1; }

    // RFC 5763 §5: the self-signed certificate is authenticated by the a=fingerprint of the
    // signalling, not by a trust store; GnuTLS runs no chain check of its own here.
    static int verify(gnutls_session_t s) {
        auto* a = static_cast<gnutls_association*>(gnutls_session_get_ptr(s));
        unsigned n = 0;
        const gnutls_datum_t* certs = gnutls_certificate_get_peers(s, &n);
        if (!certs || n == 0) {
            a->_hint = failure::fingerprint_mismatch;
            a->_hint_msg = "peer sent no certificate";
            return GNUTLS_E_CERTIFICATE_ERROR;
        }
        const std::span<const std::byte> der(reinterpret_cast<const std::byte*>(certs[0].data), certs[0].size);
        if (!a->_s.remote || !fingerprint_matches(*a->_s.remote, der)) {
            a->_hint = failure::fingerprint_mismatch;
            a->_hint_msg = "peer certificate matches no a=fingerprint";
            return GNUTLS_E_CERTIFICATE_ERROR;
        }
        a->_peer_verified = true;
        return 0;
    }
};

gnutls_association::gnutls_association(std::shared_ptr<const gnutls_identity> id, association_settings s,
                                       association_queues q)
    : _id(std::move(id)), _s(std::move(s)), _q(q) {}

gnutls_association::~gnutls_association() {
    if (_session) gnutls_deinit(_session); // GnuTLS wipes its secrets on deinit
}

engine::result<std::unique_ptr<gnutls_association>> gnutls_association::create(std::shared_ptr<const gnutls_identity> id,
                                                                               association_settings s,
                                                                               association_queues q) {
    if (!id || s.profiles.empty() || !s.remote)
        return make_error(errc::invalid_argument, "dtls gnutls: no identity, profile or fingerprint");
    std::unique_ptr<gnutls_association> a(new gnutls_association(std::move(id), std::move(s), q));
    auto bad = [](const char* what, int rc) {
        return make_error(errc::backend_failure, std::string("dtls gnutls: ") + what + ": " + gnutls_strerror(rc));
    };
    const unsigned flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS |
                           (a->_s.role == dtls_role::client ? GNUTLS_CLIENT : GNUTLS_SERVER);
    if (int rc = gnutls_init(&a->_session, flags); rc < 0) return bad("gnutls_init", rc);
    gnutls_session_t s_ = a->_session;
    gnutls_session_set_ptr(s_, a.get());
    if (int rc = gnutls_priority_set(s_, a->_id->priority); rc < 0) return bad("priorities", rc);
    if (int rc = gnutls_credentials_set(s_, GNUTLS_CRD_CERTIFICATE, a->_id->cred); rc < 0) return bad("credentials", rc);
    // RFC 5763 §5: both sides must present a certificate; the server asks for it.
    if (a->_s.role == dtls_role::server) gnutls_certificate_server_set_request(s_, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_function(s_, &glue::verify);
    for (auto p : a->_s.profiles) {
        const auto id16 = engine::dtls_srtp_profile(p);
        if (!id16) return make_error(errc::invalid_argument, "dtls gnutls: suite without a profile");
        if (int rc = gnutls_srtp_set_profile(s_, static_cast<gnutls_srtp_profile_t>(*id16)); rc < 0)
            return bad("SRTP profile", rc);
    }
    gnutls_transport_set_ptr(s_, a.get());
    gnutls_transport_set_vec_push_function(s_, &glue::vec_push);
    gnutls_transport_set_pull_function(s_, &glue::pull);
    gnutls_transport_set_pull_timeout_function(s_, &glue::pull_timeout);
    gnutls_dtls_set_mtu(s_, a->_s.mtu);
    // RFC 6347 §4.2.4.1 timers: GnuTLS doubles from the initial retransmission timeout (its own
    // cap, 60 s; backoff and max_retransmit do not apply) and gives up after the total.
    gnutls_dtls_set_timeouts(s_, static_cast<unsigned>(a->_s.timers.initial_retransmit.count()),
                             static_cast<unsigned>(a->_s.timers.handshake_timeout.count()));
    return a;
}

namespace {
/// The alert GnuTLS last received, as an event. The description arrives off the wire: any octet,
/// not only the enumerators GnuTLS names, so it is kept as an integer (never stored in the enum
/// type) and an unknown one is named "unknown" (gnutls_alert_get_name returns null for it).
alert received_alert(gnutls_session_t s, bool fatal) {
    const unsigned raw = static_cast<unsigned>(gnutls_alert_get(s)) & 0xffu;
    const char* name = gnutls_alert_get_name(static_cast<gnutls_alert_description_t>(raw));
    return alert{true, fatal, static_cast<uint8_t>(raw), name ? name : "unknown"};
}
} // namespace

void gnutls_association::drive(std::span<const std::byte> datagram) {
    _in = datagram;
    if (_state == endpoint_state::handshaking) {
        const int rc = gnutls_handshake(_session);
        if (rc == GNUTLS_E_SUCCESS) {
            on_handshake_complete();
        } else if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
            _q.events->emplace_back(received_alert(_session, false));
        } else if (gnutls_error_is_fatal(rc)) {
            fail_from_gnutls(rc);
        }
    }
    if (_state == endpoint_state::connected) read_records();
    _in = {};
}

void gnutls_association::read_records() {
    // DTLS-SRTP carries no application data (RFC 5764 §4.1); reading lets GnuTLS answer a
    // retransmitted flight and see close_notify or alerts.
    std::array<unsigned char, 2048> buf;
    for (;;) {
        const auto n = gnutls_record_recv(_session, buf.data(), buf.size());
        if (n > 0) continue;
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) break;
        if (n == GNUTLS_E_WARNING_ALERT_RECEIVED) {
            _q.events->emplace_back(received_alert(_session, false));
            continue;
        }
        if (n == 0) {
            // RFC 5246 §7.2.1: answer close_notify with our own.
            gnutls_bye(_session, GNUTLS_SHUT_WR);
        } else if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
            _q.events->emplace_back(received_alert(_session, true));
        } else if (!gnutls_error_is_fatal(static_cast<int>(n))) {
            continue; // e.g. a record that failed its MAC: DTLS drops it (RFC 6347 §4.1.2.7)
        }
        _state = endpoint_state::closed;
        _q.events->emplace_back(closed{});
        break;
    }
    OPENSSL_cleanse(buf.data(), buf.size());
}

void gnutls_association::on_handshake_complete() {
    if (!_peer_verified) { // never hand out keys of an unauthenticated peer
        fail(failure::fingerprint_mismatch, "handshake completed without a checked peer certificate");
        return;
    }
    gnutls_srtp_profile_t p{};
    const bool selected = gnutls_srtp_get_selected_profile(_session, &p) >= 0;
    const auto suite = selected ? suite_from_profile_id(static_cast<uint16_t>(p)) : std::nullopt;
    if (!suite || std::find(_s.profiles.begin(), _s.profiles.end(), *suite) == _s.profiles.end()) {
        gnutls_bye(_session, GNUTLS_SHUT_WR); // close_notify: this association is unusable
        fail(failure::no_srtp_profile, selected ? "peer selected a profile we did not offer"
                                                : "handshake finished without use_srtp (no common profile)");
        return;
    }
    // RFC 5764 §4.2: GnuTLS exports PRF(master_secret, "EXTRACTOR-dtls_srtp", randoms) in the
    // same client key | server key | client salt | server salt layout that we split ourselves.
    std::array<std::byte, 2 * engine::sdes_max_key_salt_len> km{};
    const std::size_t len = keying_material_len(*suite);
    const int rc = gnutls_srtp_get_keys(_session, km.data(), static_cast<unsigned>(len), nullptr, nullptr, nullptr,
                                        nullptr);
    if (rc < 0 || static_cast<std::size_t>(rc) != len) {
        OPENSSL_cleanse(km.data(), km.size());
        fail(failure::internal_error, std::string("gnutls_srtp_get_keys failed: ") +
                                          (rc < 0 ? gnutls_strerror(rc) : "unexpected length"));
        return;
    }
    connect(*suite, std::span<std::byte>(km.data(), len), _s.role); // wipes km
}

void gnutls_association::fail_from_gnutls(int rc) {
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
        const alert a = received_alert(_session, true);
        const std::string name = a.text;
        _q.events->emplace_back(a);
        fail(failure::alert_received, "peer sent fatal alert: " + name);
        return;
    }
    // Tell the peer why (RFC 5246 §7.2.2), e.g. bad_certificate after a fingerprint mismatch.
    int level = 0;
    const int desc = gnutls_error_to_alert(rc, &level);
    if (desc >= 0 && gnutls_alert_send_appropriate(_session, rc) >= 0) {
        const auto d = static_cast<gnutls_alert_description_t>(desc);
        const char* name = gnutls_alert_get_name(d);
        _q.events->emplace_back(alert{false, level == GNUTLS_AL_FATAL, static_cast<uint8_t>(desc), name ? name : ""});
    }
    if (_hint) {
        fail(*_hint, _hint_msg);
        return;
    }
    failure f = failure::protocol_error;
    if (rc == GNUTLS_E_TIMEDOUT) f = failure::retransmit_limit;
    else if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND || rc == GNUTLS_E_CERTIFICATE_ERROR ||
             rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
        f = failure::fingerprint_mismatch;
    else if (rc == GNUTLS_E_MEMORY_ERROR || rc == GNUTLS_E_INTERNAL_ERROR) f = failure::internal_error;
    fail(f, std::string("gnutls: ") + gnutls_strerror(rc));
}

void gnutls_association::close() {
    if (_state == endpoint_state::connected) gnutls_bye(_session, GNUTLS_SHUT_WR);
    if (_state != endpoint_state::failed) _state = endpoint_state::closed;
}

std::optional<std::chrono::milliseconds> gnutls_association::retransmit_in() const noexcept {
    if (_state != endpoint_state::handshaking) return std::nullopt;
    return std::chrono::milliseconds(gnutls_dtls_get_timeout(_session));
}

std::optional<std::array<std::byte, 32>> gnutls_association::client_random() const noexcept {
    gnutls_datum_t c{}, s{};
    gnutls_session_get_random(_session, &c, &s);
    if (!c.data || c.size != 32) return std::nullopt;
    std::array<std::byte, 32> r{};
    std::memcpy(r.data(), c.data, r.size());
    return r;
}

} // namespace srtpo::cp::dtls
