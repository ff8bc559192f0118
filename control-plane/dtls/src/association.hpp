#pragma once
// One DTLS association as a TLS library runs it (private to control-plane/dtls): the part of
// the endpoint that differs between OpenSSL 3.0 and GnuTLS 3.7 (ADR 0014). The endpoint keeps
// what is the same for both: its public contract, the queues, the handshake deadline, which
// stack to use, association counting and the handshake_done / handshake_failed events.

#include <srtpo/cp/dtls/endpoint.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace srtpo::cp::dtls {

/// Where an association puts what it sends and the alert/closed events it sees; owned by the
/// endpoint, which outlives the association.
struct association_queues {
    std::deque<std::vector<std::byte>>* out;
    std::deque<event>* events;
};

/// What an association needs from the endpoint's configuration. `remote` points at the
/// endpoint's fingerprints (read when the peer's certificate arrives).
struct association_settings {
    dtls_role role = dtls_role::server;
    std::vector<engine::suite> profiles; ///< the ones this stack offers or accepts, preference order
    profile_selection selection = profile_selection::server_preference;
    const std::vector<fingerprint>* remote = nullptr;
    uint16_t mtu = 1200;
    timer_config timers;
};

/// Thread-safety: not thread-safe; the endpoint's owner thread. Keys leave only through
/// take_keys(), once. The outcome (state, profile, keys, failure) is kept here, the same for
/// both stacks; the subclasses run their library.
class association {
public:
    virtual ~association() = default;
    /// Advances with `datagram` as the only input (empty: none, e.g. the client's first flight).
    /// Never fails: a failure makes state() failed and take_failure() say why.
    virtual void drive(std::span<const std::byte> datagram) = 0;
    /// Retransmits the last flight if the library's own timer expired.
    virtual void on_timer() = 0;
    /// Sends close_notify if connected.
    virtual void close() = 0;
    /// Time until on_timer() is due, if a retransmission timer runs.
    virtual std::optional<std::chrono::milliseconds> retransmit_in() const noexcept = 0;
    /// ClientHello.random of this association, once known.
    virtual std::optional<std::array<std::byte, 32>> client_random() const noexcept = 0;
    virtual dtls_stack stack() const noexcept = 0;

    endpoint_state state() const noexcept { return _state; }
    std::optional<engine::suite> profile() const noexcept { return _profile; }
    std::optional<srtp_keying> take_keys() { return std::exchange(_keys, std::nullopt); }
    std::optional<handshake_failed> take_failure() { return std::exchange(_failure, std::nullopt); }

protected:
    /// The handshake finished with `s`: splits the exported `material` (RFC 5764 §4.2) for our
    /// role, wipes it, and becomes connected with the keys, or failed (internal_error).
    void connect(engine::suite s, std::span<std::byte> material, dtls_role role);
    void fail(failure f, std::string msg);

    endpoint_state _state = endpoint_state::handshaking;

private:
    std::optional<engine::suite> _profile;
    std::optional<srtp_keying> _keys;
    std::optional<handshake_failed> _failure;
};

} // namespace srtpo::cp::dtls
