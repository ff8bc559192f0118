#pragma once
// One media port of srtpo-cp: a non-blocking UDP socket bound to srtp-offload's media
// address:port, registered on the event loop. Every datagram is classified by its first octet
// (RFC 7983 §7) and handed to the STUN, ZRTP or DTLS handler; RTP/RTCP (128..191: the pmd's
// business), TURN channel data and unknown octets are counted and dropped. Reads use recvmmsg
// into buffers allocated once per port, so no allocation happens per datagram.

#include <srtpo/engine/result.hpp>
#include <srtpo/table/slot.hpp>

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace srtpo::cp {
class event_loop;
}

namespace srtpo::cp::media {

/// What a port saw; status() shows them. Plain counters, read on the loop thread.
struct port_counters {
    uint64_t received = 0;     ///< datagrams read
    uint64_t stun = 0;         ///< handed to the STUN handler (first octet 0..3)
    uint64_t zrtp = 0;         ///< handed to the ZRTP handler (16..19)
    uint64_t dtls = 0;         ///< handed to the DTLS handler (20..63)
    uint64_t rtp_rtcp_dropped = 0; ///< 128..191: srtpo-pmd carries media, not srtpo-cp
    uint64_t other_dropped = 0;    ///< TURN channel data (64..79), empty, or any other first octet
    uint64_t no_handler_dropped = 0; ///< a class this port's user does not take (e.g. ZRTP on a DTLS leg)
    uint64_t truncated_dropped = 0;  ///< larger than the receive buffer (MSG_TRUNC)
    uint64_t receive_errors = 0;
    uint64_t sent = 0;
    uint64_t send_errors = 0;
};

/// Called with one datagram (valid only during the call) and its source address.
using datagram_handler = std::function<void(std::span<const std::byte> datagram, const table::endpoint& source)>;

struct port_handlers {
    datagram_handler stun; ///< empty: STUN is counted in no_handler_dropped
    datagram_handler zrtp;
    datagram_handler dtls;
};

/// Thread-safety: event loop thread only. Ownership: owns the socket (closed and removed from
/// the loop on destruction); `loop` must outlive the port. Handlers may destroy the port only
/// by scheduling it (they run inside its read loop).
class media_port {
public:
    static constexpr std::size_t max_datagram = 2048; ///< larger datagrams are dropped (counted)
    static constexpr std::size_t batch = 16;          ///< datagrams per recvmmsg call

    /// Binds `local` (IPv4 or IPv6 literal; port 0 picks one) and registers on `loop`.
    /// Errors: io_error naming the address and errno text (e.g. address in use).
    static engine::result<std::unique_ptr<media_port>> open(event_loop& loop, const table::endpoint& local,
                                                            port_handlers h);
    ~media_port();
    media_port(const media_port&) = delete;
    media_port& operator=(const media_port&) = delete;

    /// Sends one datagram to `to` (same address family as the port). A failure is counted and
    /// returned (io_error), never fatal: UDP may drop anyway.
    engine::result<void> send_to(std::span<const std::byte> datagram, const table::endpoint& to);

    /// The bound address (with the chosen port if 0 was asked for).
    const table::endpoint& local() const noexcept { return _local; }
    const port_counters& counters() const noexcept { return _c; }
    /// The counters as a JSON object (for status()).
    nlohmann::json counters_json() const;

private:
    media_port(event_loop& loop, int fd, table::endpoint local, port_handlers h);
    void on_readable();
    void dispatch(std::span<const std::byte> d, const table::endpoint& src);

    event_loop& _loop;
    int _fd;
    table::endpoint _local;
    port_handlers _h;
    port_counters _c;
    std::vector<std::byte> _buf; ///< batch * max_datagram, allocated once
    std::shared_ptr<bool> _alive; ///< false once destroyed: a handler may destroy the port
};

} // namespace srtpo::cp::media
