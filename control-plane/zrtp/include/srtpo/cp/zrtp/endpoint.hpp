#pragma once
// A sans-I/O ZRTP endpoint for one media stream (RFC 6189): packets and clock ticks in; packets
// to send, events, the SAS and an srtp_keying out. srtpo-cp owns the socket and the clock: it
// feeds every datagram that looks_like_zrtp() to receive(), calls on_timer() at next_timeout(),
// and sends whatever take_outgoing() returns to the peer's media address.

#include <srtpo/cp/srtp_keying.hpp>
#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/call.hpp>
#include <srtpo/cp/zrtp/error_code.hpp>
#include <srtpo/cp/zrtp/key_exchange.hpp>
#include <srtpo/cp/zrtp/message.hpp>
#include <srtpo/engine/result.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp::zrtp {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

struct endpoint_config {
    uint32_t ssrc = 0;                 ///< SSRC in our ZRTP packet headers (§5.0)
    algorithm_prefs algorithms;        ///< offered in Hello, in this order (§4.1.2)
    bool passive = false;              ///< never send Commit; the peer must initiate (P flag, §4.2)
    bool multistream = true;           ///< offer and accept Mult for further streams (§4.4.3)
    std::string client_id = "srtp-offload";
    std::string version{"1.10"};       ///< tests only: another value exercises §4.1.1
    /// The peer's a=zrtp-hash value ("1.10 <64 hex>") from signalling (§8.1); empty = none.
    std::string peer_zrtp_hash;
    /// §6 timers: T1 for Hello, T2 for Commit, DHPart2, Confirm2 and Error.
    std::chrono::milliseconds t1_initial{50}, t1_cap{200};
    unsigned t1_max_retransmissions = 20;
    std::chrono::milliseconds t2_initial{150}, t2_cap{1200};
    unsigned t2_max_retransmissions = 10;
    /// Give up if not secure this long after start(): covers waits no timer of ours guards (a
    /// passive endpoint whose peer never commits, a responder whose initiator goes away).
    std::chrono::milliseconds handshake_timeout{20000};
};

enum class state : uint8_t {
    idle,              ///< not started
    discovery,         ///< Hello / HelloACK
    commit_sent,       ///< initiator: waiting for DHPart1 (DH) or Confirm1 (Mult)
    dh_part1_sent,     ///< responder: waiting for DHPart2
    dh_part2_sent,     ///< initiator: waiting for Confirm1
    confirm1_sent,     ///< responder: waiting for Confirm2
    confirm2_sent,     ///< initiator: waiting for Conf2ACK
    secure,            ///< keys available
    failed,
};
std::string_view to_string(state s) noexcept;

enum class role : uint8_t { undecided, initiator, responder };

/// §4.6.1: what the retained secrets said about this peer.
enum class cache_status : uint8_t {
    not_applicable, ///< not yet known, or a Multistream stream
    new_peer,       ///< no retained secret for this ZID: the SAS must be compared
    match,          ///< rs1 or rs2 matched: continuity with the previous call
    mismatch,       ///< we had a secret and it did not match: possible MitM (§4.6.1.1)
};
std::string_view to_string(cache_status s) noexcept;

enum class event_kind : uint8_t {
    secure,          ///< keying() is ready
    failed,          ///< the exchange ended; detail says why
    cache_mismatch,  ///< possible MitM; the SAS-verified flag was cleared (§4.6.1.1)
    discarded,       ///< a packet was dropped (bad CRC, bad MAC, unexpected); detail says why
    refused,         ///< GoClear or SASrelay refused (not supported)
    cache_error,     ///< the ZID cache could not be written; the call itself is unaffected
};

struct event {
    event_kind kind;
    std::string detail;       ///< never contains key material
    uint32_t error_code = 0;  ///< the ZRTP Error code sent or received, if any (§5.9)
};

/// What operators see (`keying-ctl zrtp show`).
struct endpoint_info {
    state st = state::idle;
    role r = role::undecided;
    bool negotiated = false;
    chosen_algorithms algorithms;
    std::string sas;            ///< rendered SAS once secure (the call's SAS for Multistream)
    bool sas_verified = false;  ///< our cache's flag for this peer (after verify_sas or a verified earlier call)
    bool peer_sas_verified = false; ///< the V flag the peer sent in its Confirm (§5.7)
    cache_status cache = cache_status::not_applicable;
    zid_t peer_zid{};
    bool multistream = false;
    uint32_t last_error = 0;    ///< last ZRTP Error code sent or received
    std::string failure;        ///< why the endpoint failed, if it did
};

/// Thread-safety: none; one thread drives an endpoint and its call. Ownership: holds ephemeral
/// keys and secrets in self-wiping buffers; shares `call` with the call's other streams.
class endpoint {
public:
    /// Errors: invalid_argument for empty or over-long (> 7) algorithm lists, a malformed
    /// peer_zrtp_hash, or a null call.
    static engine::result<std::unique_ptr<endpoint>> create(std::shared_ptr<call> c, endpoint_config cfg);
    ~endpoint();

    /// Sends the first Hello and arms T1.
    void start(time_point now);
    /// Feeds one datagram (the whole ZRTP packet). Never throws; bad input becomes an event.
    void receive(std::span<const uint8_t> packet, time_point now);
    /// Runs due retransmissions; call at or after next_timeout().
    void on_timer(time_point now);
    /// When on_timer() next needs to run; nullopt when no timer is armed.
    std::optional<time_point> next_timeout() const;
    /// Packets to send, oldest first; the caller owns them.
    std::vector<std::vector<uint8_t>> take_outgoing();
    /// Events since the last call, oldest first.
    std::vector<event> take_events();

    state current_state() const noexcept;
    endpoint_info info() const;
    /// Our a=zrtp-hash value, "1.10 <64 lower-case hex>": SHA-256 of our Hello (§8.1). Valid
    /// after create().
    std::string zrtp_hash() const;
    /// Sets or replaces the peer's a=zrtp-hash (e.g. when the SDP answer arrives after start).
    /// A Hello already received is checked at once. Errors: invalid_argument if malformed.
    engine::result<void> set_peer_zrtp_hash(const std::string& value);
    /// The SRTP keys once secure: local = ours (what we protect with), remote = the peer's.
    /// Errors: invalid_argument before secure.
    engine::result<srtp_keying> keying() const;
    /// Marks (or clears) the SAS as verified for this peer in the ZID cache (§7.1). Errors:
    /// invalid_argument before secure; io_error from the cache.
    engine::result<void> verify_sas(bool verified = true);

    /// Internal state; defined in endpoint.cpp.
    struct impl;

private:
    explicit endpoint(std::unique_ptr<impl> p);
    std::unique_ptr<impl> _p;
};

} // namespace srtpo::cp::zrtp
