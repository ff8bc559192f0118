#pragma once
// SIP transports on srtpo-cp's event loop (RFC 3261 §18): UDP sockets, TCP and TLS listeners and
// the connections we open to next hops. Non-blocking throughout: connect, the OpenSSL handshake,
// reads and writes are driven by epoll readiness. Streams are cut into messages by
// sip::stream_framer; the RFC 5626 §3.5.1 CRLFCRLF keep-alive is answered with CRLF; a message
// that does not parse is answered 400 (or 505) and the connection stays (its framing is intact);
// a framing error closes the connection (no resynchronisation is possible on a stream).
// Limits: message size, connections per source address, connections in total, idle timeout.
//
// Thread-safety: event loop thread only. Ownership: owns its sockets and SSL objects; the loop
// and the user outlive it.

#include <srtpo/cp/b2bua/tls_context.hpp>
#include <srtpo/cp/b2bua/transport.hpp>
#include <srtpo/cp/sip/parser.hpp>

#include "event_loop.hpp"

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace srtpo::cp::b2bua {

class socket_transport final : public transport {
public:
    /// What a transport counted (for logs, stats and tests).
    struct counters {
        uint64_t accepted = 0, connected = 0, closed = 0;
        uint64_t refused_limit = 0;   ///< connections refused by max_connections(_per_source)
        uint64_t tls_failures = 0;    ///< handshakes that failed (bad certificate, protocol)
        uint64_t parse_errors = 0;    ///< messages answered 400/505 or dropped
        uint64_t framing_errors = 0;  ///< streams closed because framing was lost
        uint64_t pings = 0;           ///< CRLFCRLF keep-alives answered
        uint64_t idle_closed = 0;
    };

    /// Binds every configured listener. Errors: io_error naming the address (bind, listen),
    /// or the TLS context's errors.
    static engine::result<std::unique_ptr<socket_transport>> open(const sip_config& cfg, event_loop& loop);
    ~socket_transport() override;
    socket_transport(const socket_transport&) = delete;
    socket_transport& operator=(const socket_transport&) = delete;

    /// Where received messages go; set before the loop runs. Not owned.
    void set_user(transport_user* u) noexcept { _user = u; }

    engine::result<uint64_t> send(const peer& to, std::string_view bytes) override;
    std::string sent_by(transport_kind t) const override;

    /// The bound port of the first listener of a kind (tests bind port 0).
    std::optional<uint16_t> local_port(transport_kind t) const;
    /// Closes a connection now (the user is told).
    void close_connection(uint64_t id);
    std::size_t connection_count() const noexcept { return _conns.size(); }
    const counters& stats() const noexcept { return _stats; }

private:
    struct connection;
    struct listener {
        listen_spec spec;
        int fd = -1;
        uint16_t bound_port = 0;
    };
    socket_transport(const sip_config& cfg, event_loop& loop);

    void on_listener(listener& l);
    void on_udp(listener& l);
    void on_conn_event(uint64_t id, uint32_t events);
    engine::result<uint64_t> connect_to(const peer& to);
    bool drive_handshake(connection& c);
    bool read_stream(connection& c);
    bool flush(connection& c);
    void update_interest(connection& c);
    void close_conn(uint64_t id, std::string_view why);
    void arm_idle(uint64_t id);
    void deliver(std::string_view raw, sip::transport_kind kind, const peer& from, uint64_t reply_conn);
    connection* find(uint64_t id) noexcept;

    sip_config _cfg;
    event_loop& _loop;
    transport_user* _user = nullptr;
    ssl_ctx_ptr _server_ctx, _client_ctx;
    std::vector<std::unique_ptr<listener>> _listeners;
    std::unordered_map<uint64_t, std::unique_ptr<connection>> _conns;
    std::unordered_map<std::string, uint64_t> _by_target; ///< "tls|host|port" -> connection (reuse)
    std::unordered_map<std::string, std::size_t> _per_source; ///< peer IP -> accepted connections
    uint64_t _next_id = 1;
    counters _stats;
    /// Closed connections not yet reported: the user hears of them from the loop, never from
    /// inside its own send() (it may be in the middle of changing the call that used them).
    std::vector<uint64_t> _closed_pending;
    event_loop::timer_id _notify_timer = 0;
};

} // namespace srtpo::cp::b2bua
