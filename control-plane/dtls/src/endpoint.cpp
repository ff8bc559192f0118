#include <srtpo/cp/dtls/endpoint.hpp>

#include "gnutls_association.hpp"
#include "openssl_association.hpp"

#include <openssl/crypto.h>

#include <algorithm>

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

endpoint::endpoint(std::shared_ptr<const context> ctx, endpoint_config cfg) : _ctx(std::move(ctx)), _cfg(std::move(cfg)) {}

endpoint::~endpoint() = default;

engine::result<std::unique_ptr<endpoint>> endpoint::create(std::shared_ptr<const context> ctx, endpoint_config cfg) {
    auto bad = [](std::string m) { return make_error(errc::invalid_argument, "dtls endpoint: " + std::move(m)); };
    if (!ctx) return bad("no context");
    if (auto r = check_profile_list(cfg.profiles); !r) return r.err();
    // The OpenSSL list may be empty (only NULL profiles): OpenSSL then refuses every ClientHello
    // that our reader could not route to GnuTLS.
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

engine::result<void> endpoint::new_association(dtls_stack stack, std::vector<engine::suite> profiles) {
    association_settings s;
    s.role = _cfg.role;
    s.profiles = std::move(profiles);
    s.selection = _cfg.selection;
    s.remote = &_cfg.remote_fingerprints;
    s.mtu = _cfg.mtu;
    s.timers = _cfg.timers;
    const association_queues q{&_out, &_events};
    _assoc.reset();
    if (stack == dtls_stack::gnutls) {
        auto a = gnutls_association::create(_ctx->gnutls(), std::move(s), q);
        if (!a) return a.err();
        _assoc = std::move(*a);
    } else {
        auto a = openssl_association::create(static_cast<SSL_CTX*>(_ctx->native()), std::move(s), _profile_list, q);
        if (!a) return a.err();
        _assoc = std::move(*a);
    }
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
    // Client role: one ClientHello carries every offered profile, so the list decides the stack
    // (NULL and no GCM: GnuTLS; otherwise OpenSSL without NULL). Server role: OpenSSL is ready,
    // and the first ClientHello may still hand the association to GnuTLS (ADR 0014).
    const auto stack = _cfg.role == dtls_role::client ? client_stack(_cfg.profiles) : dtls_stack::openssl;
    if (auto r = new_association(stack, profiles_for(stack, _cfg.profiles)); !r) return r;
    _state = endpoint_state::handshaking;
    _handshake_deadline = now + _cfg.timers.handshake_timeout;
    _await_client_hello = _cfg.role == dtls_role::server;
    if (_cfg.role == dtls_role::client) advance({}, now); // queues the ClientHello
    return {};
}

bool endpoint::is_new_client_hello(std::span<const std::byte> d) const {
    auto u8 = [&](std::size_t i) { return static_cast<uint8_t>(d[i]); };
    if (d.size() < client_random_at + client_random_len) return false;
    // content type handshake (22), epoch 0, msg_type client_hello (1), fragment_offset 0
    if (u8(0) != 22 || u8(3) != 0 || u8(4) != 0 || u8(13) != 1) return false;
    if (u8(19) != 0 || u8(20) != 0 || u8(21) != 0) return false;
    const auto current = _assoc ? _assoc->client_random() : std::nullopt;
    if (!current) return true;
    // A retransmitted ClientHello of the association we already have carries the same random.
    return CRYPTO_memcmp(current->data(), d.data() + client_random_at, client_random_len) != 0;
}

void endpoint::receive(std::span<const std::byte> datagram, clock::time_point now) {
    if (datagram.empty()) return;
    const auto first = static_cast<uint8_t>(datagram[0]);
    if (first < 20 || first > 63) return; // not DTLS (RFC 7983 §7)
    if (_state == endpoint_state::idle || _state == endpoint_state::failed || !_assoc) return;
    if (_cfg.role == dtls_role::server &&
        (_state == endpoint_state::connected || _state == endpoint_state::closed) && is_new_client_hello(datagram)) {
        // The client started a new association on this 5-tuple (RFC 8842 §5; a restarted
        // browser tab does this too): handshake again; the old keys stay until new ones arrive.
        if (!restart(now)) return;
    }
    if (_state == endpoint_state::closed) return;
    if (_await_client_hello) {
        // Server role, first datagram of the association: its use_srtp offer picks the stack.
        // Anything our reader cannot read stays with OpenSSL, which answers as before.
        _await_client_hello = false;
        auto hello = parse_client_hello(datagram);
        const auto choice = server_stack(_cfg.profiles, _cfg.selection,
                                         hello ? std::optional<client_hello>(std::move(*hello)) : std::nullopt);
        // GnuTLS is offered only the profile our policy picked, so its choice is ours.
        if (choice.stack == dtls_stack::gnutls)
            if (auto r = new_association(dtls_stack::gnutls, {*choice.profile}); !r) {
                fail(failure::internal_error, r.err().message);
                return;
            }
    }
    advance(datagram, now);
}

void endpoint::advance(std::span<const std::byte> datagram, clock::time_point now) {
    _assoc->drive(datagram);
    collect(now);
}

void endpoint::collect(clock::time_point now) {
    if (auto f = _assoc->take_failure()) {
        fail(f->reason, std::move(f->message));
        return;
    }
    if (auto k = _assoc->take_keys()) {
        _state = endpoint_state::connected;
        _profile = _assoc->profile();
        _handshake_deadline.reset();
        _events.emplace_back(handshake_done{std::move(*k), ++_associations});
    } else if (_assoc->state() == endpoint_state::closed && _state == endpoint_state::connected) {
        _state = endpoint_state::closed; // close_notify or a fatal alert after the handshake
    }
    const auto in = _assoc->retransmit_in();
    _retransmit_at = in ? std::optional<clock::time_point>(now + *in) : std::nullopt;
}

void endpoint::fail(failure f, std::string msg) {
    _state = endpoint_state::failed;
    _retransmit_at.reset();
    _handshake_deadline.reset();
    _events.emplace_back(handshake_failed{f, std::move(msg)});
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
    if (!_assoc || (_state != endpoint_state::handshaking && _state != endpoint_state::connected)) return;
    _assoc->on_timer();
    collect(now);
}

void endpoint::close() {
    if (_assoc && _state == endpoint_state::connected) _assoc->close();
    if (_state != endpoint_state::failed) _state = endpoint_state::closed;
    _retransmit_at.reset();
    _handshake_deadline.reset();
}

std::optional<dtls_stack> endpoint::stack() const noexcept {
    // Server role: unknown until the first ClientHello has picked one.
    if (!_assoc || _await_client_hello) return std::nullopt;
    return _assoc->stack();
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
