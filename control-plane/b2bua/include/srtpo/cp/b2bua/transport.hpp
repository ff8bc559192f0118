#pragma once
// What the B2BUA core needs from a SIP transport layer (RFC 3261 §18): send a serialized message
// to a peer (on a given connection, or on any connection to that address, opening one if needed)
// and say which host:port goes into our Via sent-by and Contact. The socket implementation is
// socket_transport; unit tests use a loopback double. Received messages and closed connections
// flow the other way through transport_user.

#include <srtpo/cp/b2bua/sip_config.hpp>
#include <srtpo/cp/sip/message.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace srtpo::cp::b2bua {

/// Where a message came from or goes to.
struct peer {
    transport_kind transport = transport_kind::udp;
    std::string host;        ///< IP literal or host name (a next hop's name is checked against its TLS certificate)
    uint16_t port = 0;
    uint64_t connection = 0; ///< a TCP/TLS connection id; 0 = none / any connection to host:port
};

/// Receives what a transport delivers. Thread-safety: called on the event loop thread.
class transport_user {
public:
    virtual ~transport_user() = default;
    /// A parsed message; for a request the top Via already carries received/rport (§18.2.1,
    /// RFC 3581). `from.connection` is the connection it arrived on (0 for UDP).
    virtual void on_message(sip::message m, const peer& from) = 0;
    /// A TCP/TLS connection closed (peer close, error, idle timeout, limit): RFC 3261 §17.1.4 /
    /// §17.2.4 transport errors for what was using it. Called from the event loop, never from
    /// inside transport::send().
    virtual void on_connection_closed(uint64_t connection) = 0;
    /// True while a call or transaction relies on the connection: the idle timeout spares it
    /// (a long call may carry no SIP for longer than idle_timeout_s).
    virtual bool in_use(uint64_t connection) const = 0;
};

class transport {
public:
    virtual ~transport() = default;
    /// Sends `bytes` (one serialized message). Streams: on `to.connection` while it is open,
    /// otherwise on an open connection to (transport, host, port) or a new one (RFC 3261 §18.1.1
    /// connection reuse); the bytes wait in the connection's queue until TCP connect and the TLS
    /// handshake finish. Returns the connection id used (0 for UDP).
    /// Errors: io_error (resolution, socket, no UDP listener), resource_exhausted-like
    /// invalid_argument "connection limit". Thread-safety: event loop thread only.
    virtual engine::result<uint64_t> send(const peer& to, std::string_view bytes) = 0;
    /// host:port for our Via sent-by and Contact on `t` (RFC 3261 §18.1.1, §8.1.1.8).
    virtual std::string sent_by(transport_kind t) const = 0;
};

} // namespace srtpo::cp::b2bua
