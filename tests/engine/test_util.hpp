#pragma once
// Helpers shared by the engine tests: hex, packet builders, one-call session set-up.

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::test {

using bytes = std::vector<std::byte>;

bytes from_hex(std::string_view hex);
std::string to_hex(std::span<const std::byte> b);

/// An RTP packet: 12-byte header, optional CSRCs and RFC 8285 one-byte extension elements
/// (each {id, len}), and `payload_len` pseudo-random payload octets.
struct rtp_spec {
    uint32_t ssrc = 0x11223344;
    uint16_t seq = 1;
    uint32_t ts = 160;
    uint8_t pt = 0;
    bool marker = false;
    std::vector<uint32_t> csrcs;
    std::vector<std::pair<uint8_t, uint8_t>> ext_elements; ///< one-byte form: id 1..14, len 1..16
    std::size_t payload_len = 160;
    uint32_t fill_seed = 1;
};
bytes make_rtp(const rtp_spec& s);

/// An RTCP sender report with `extra` octets of report blocks / SDES-like padding (multiple of 4).
bytes make_rtcp(uint32_t ssrc, std::size_t extra = 20, uint32_t fill_seed = 1);

/// Random bytes from a seeded generator.
bytes random_bytes(std::mt19937& rng, std::size_t n);

/// A buffer with tailroom around a packet, and the packet_ref over it.
struct pkt_buf {
    bytes storage;
    engine::packet_ref ref;
    explicit pkt_buf(const bytes& pkt, std::size_t tailroom = 256);
    bytes contents() const { return bytes(ref.data, ref.data + ref.len); }
};

struct simple_key {
    bytes key, salt, mki;
    uint64_t lifetime = 0;
};

/// Builds a session or fails the calling test (via ADD_FAILURE and a null return).
engine::session_ptr make(engine::suite s, engine::direction d, const std::vector<simple_key>& keys,
                         engine::backend_kind b = engine::backend_kind::openssl,
                         void (*tweak)(engine::session_config&) = nullptr);

/// One-op helpers: run a single packet through a burst function, return its status.
engine::status protect_one(engine::worker_ctx& w, engine::session_rt* s, pkt_buf& p, bool rtcp = false);
engine::status unprotect_one(engine::worker_ctx& w, engine::session_rt* s, pkt_buf& p, bool rtcp = false);

std::unique_ptr<engine::worker_ctx> make_worker();

} // namespace srtpo::test
