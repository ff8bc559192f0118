#pragma once
// Counters of the data path: per worker lcore, and inside it per port, per flow and per status.
// Every packet that does not leave through a port is counted under exactly one drop reason or
// one engine status (ARCHITECTURE.md principle 7). Written only by the owning worker; read by the
// main thread after the worker stopped, or by the worker itself for its periodic line.

#include "flows_file.hpp"

#include <srtpo/engine/status.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::pmd {

enum class drop_reason : uint8_t {
    multi_seg,         ///< chained mbuf: the fast path handles single-segment frames only
    not_media,         ///< UDP but not RTP/RTCP by RFC 7983 (exception path)
    no_flow,           ///< RTP/RTCP to an address:port no flow matches (exception path)
    bad_frame,         ///< parse_udp_frame failed; reason in frame[] (exception path)
    too_large,         ///< authenticate_only: packet larger than the verification scratch
    rewrite_failed,    ///< set_udp_payload_len refused (no room, too long)
    tx_full,           ///< tx_burst did not take it
    exception_tx_full, ///< the exception port did not take it
    not_owner,         ///< the flow's sessions belong to another worker: its packets reach two rx
                       ///< queues (RSS that splits one flow, e.g. by L4 port with RTCP on port+1)
    bad_checksum,      ///< IPv4 header checksum, or the port's UDP verdict, failed; plain media in:
                       ///< the UDP checksum failed (worker.cpp, checksums_pass)
    count_
};
inline constexpr std::size_t drop_reason_count = static_cast<std::size_t>(drop_reason::count_);
inline constexpr std::array<std::string_view, drop_reason_count> drop_reason_names{
    "multi_seg", "not_media", "no_flow", "bad_frame", "too_large", "rewrite_failed", "tx_full", "exception_tx_full", "not_owner",
    "bad_checksum"};

struct port_counters {
    uint64_t rx = 0, tx = 0;
    uint64_t exception_in = 0;  ///< frames received from the exception port and sent out here
};

struct flow_counters {
    uint64_t rx = 0;                   ///< packets that matched the flow
    uint64_t tx = 0;                   ///< packets handed to tx_burst after processing
    engine::status_counters by_status; ///< outcome of processing (ok for forward)
};

struct worker_stats {
    unsigned lcore = 0;
    uint64_t bursts = 0, rx = 0, tx = 0;
    uint64_t rtp = 0, rtcp = 0;                 ///< fast-path packets by kind
    engine::status_counters by_status;          ///< final outcome of every fast-path packet
    std::array<uint64_t, net::parse_status_count> frame{}; ///< bad frames by parse reason
    std::array<uint64_t, drop_reason_count> drops{};       ///< see drop_reason (exception reasons included)
    uint64_t exception_out = 0;                 ///< frames handed to the exception port
    uint64_t exception_dropped = 0;             ///< exception frames dropped (no exception port)
    std::vector<port_counters> ports;
    std::vector<flow_counters> flows;

    void drop(drop_reason r) noexcept { ++drops[static_cast<std::size_t>(r)]; }
};

/// Sum of several workers' counters (ports and flows element-wise).
worker_stats total(const std::vector<const worker_stats*>& ws);

/// One line: "rx N tx N | ok N auth_fail N ... | drops: no_flow N ... | X pkt/s".
std::string summary_line(const worker_stats& t, double seconds);
/// One JSON object: totals, "status" (every engine status), "drops", "frame" (parse reasons),
/// "ports", "lcores" and "flows" (label, action, counters). No key material.
std::string summary_json(const std::vector<const worker_stats*>& ws, const std::vector<flow>& flows, double seconds);

} // namespace srtpo::pmd
