#pragma once
// rtp_capture_gen: deterministic synthetic RTP/RTCP captures for tests and benchmarks.
//
// N calls; each call has two directions (a -> b and b -> a), each direction one RTP flow and
// one RTCP flow. Addresses come from the documentation ranges (RFC 5737: a = 192.0.2.1,
// b = 198.51.100.1; RFC 3849: a = 2001:db8::a, b = 2001:db8::b). Call i uses RTP ports
// base_port + 4i (a) and base_port + 4i + 2 (b), RTCP on the next (odd) port (RFC 3550 §11) or
// on the RTP port with rtcp_mux (RFC 5761). Every random value (SSRC, initial sequence number
// and timestamp, IPv6 flow label, payload bytes) comes from one splitmix64 stream seeded by
// `seed`, so equal options give byte-identical output on every platform.
//
// Errors: a tool edge, so invalid options throw std::invalid_argument and file errors throw
// pcap_error (pcap_file.hpp).

#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::net {

struct rtp_capture_options {
    uint32_t calls = 1;
    uint32_t packets_per_direction = 50; ///< RTP packets in each direction of each call
    uint64_t seed = 1;
    bool ipv6 = false;
    std::optional<uint16_t> vlan_id;     ///< adds one 802.1Q tag with this VID (1..4094)
    uint8_t payload_type = 0;            ///< 0 (PCMU, RFC 3551) or e.g. 96 (dynamic); 0..127
    uint16_t payload_size = 160;         ///< RTP payload octets (160 = 20 ms of G.711)
    uint32_t timestamp_step = 160;       ///< RTP clock ticks per packet (8 kHz x 20 ms)
    std::chrono::nanoseconds ptime = std::chrono::milliseconds(20); ///< packet interval
    std::optional<uint16_t> initial_seq; ///< first sequence number of every stream; default random
    /// A compound RTCP packet (SR + SDES CNAME, RFC 3550 §6.1) follows every Nth RTP packet of a
    /// direction; 0 disables RTCP.
    uint32_t rtcp_interval = 50;
    bool rtcp_mux = false;               ///< RTCP on the RTP port (RFC 5761) instead of port + 1
    uint16_t base_port = 20000;          ///< even, as RFC 3550 §11 recommends
    std::chrono::nanoseconds start_time = std::chrono::seconds(1'700'000'000); ///< since the epoch
};

/// What one direction of one call carried.
struct rtp_stream_info {
    uint32_t call = 0;
    uint8_t direction = 0; ///< 0: a -> b, 1: b -> a
    ip_address src{};
    ip_address dst{};
    uint16_t src_port = 0;  ///< RTP
    uint16_t dst_port = 0;
    uint16_t rtcp_src_port = 0;
    uint16_t rtcp_dst_port = 0;
    uint32_t ssrc = 0;      ///< distinct across all streams of a capture
    uint16_t initial_seq = 0;
    uint32_t initial_timestamp = 0;
    uint32_t rtp_packets = 0;
    uint32_t rtcp_packets = 0;
};

struct rtp_capture_summary {
    std::vector<rtp_stream_info> streams; ///< index 2 * call + direction
    uint64_t rtp_packets = 0;
    uint64_t rtcp_packets = 0;
    uint64_t frames = 0;
};

/// Generates the capture as Ethernet frames in non-decreasing time order, interleaving calls:
/// stream k starts k * ptime / (2 * calls) after start_time. Calls `sink` once per frame;
/// the record's bytes are valid only during that call.
/// Thread-safety: reentrant; shares nothing between calls. Throws std::invalid_argument.
rtp_capture_summary generate_rtp_frames(const rtp_capture_options& opt,
                                        const std::function<void(const pcap_record&)>& sink);

/// generate_rtp_frames() into a classic microsecond pcap at `path` (LINKTYPE_ETHERNET).
/// Throws std::invalid_argument or pcap_error.
rtp_capture_summary write_rtp_capture(const std::string& path, const rtp_capture_options& opt);

} // namespace srtpo::net
