#pragma once
// The offline pipeline of srtpo-pcap: read frames, demultiplex RTP/RTCP, run engine bursts,
// fix lengths and checksums, write. Frames keep their order; packets that fail are counted by
// status and not written; frames that are not SRTP/SRTCP for a keyed flow pass through.

#include "flow_keys.hpp"

#include <srtpo/engine/status.hpp>
#include <srtpo/engine/worker_ctx.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace srtpo::tools {

enum class mode { protect, unprotect };

struct run_options {
    std::size_t burst = 32;   ///< frames per engine call
    bool drop_other = false;  ///< drop (instead of passing through) frames we do not transform
};

struct run_stats {
    uint64_t frames = 0;
    uint64_t rtp = 0, rtcp = 0;        ///< packets handed to the engine
    uint64_t passed_through = 0;       ///< not UDP, not RTP/RTCP (RFC 7983), or no key for the flow
    uint64_t no_key = 0;               ///< RTP/RTCP on a flow no rule keys
    uint64_t written = 0;
    uint64_t truncated_records = 0;    ///< capture records cut short by the snap length, skipped
    engine::status_counters by_status; ///< engine outcome of every packet handed to it
    std::array<uint64_t, net::parse_status_count> not_udp{}; ///< frames not parsed as UDP, by reason
    double engine_seconds = 0;         ///< time inside the engine's burst calls
    double wall_seconds = 0;
};

/// Runs a capture through the engine. Throws net::pcap_error on unreadable/unwritable files.
run_stats process_capture(const std::string& in, const std::string& out, mode m, const flow_keys& keys,
                          engine::worker_ctx& w, const run_options& opt);

/// One line, e.g. "packets 2000: ok 1990, auth_fail 10 | passed through 4 | 3.1 Mpkt/s in the engine".
std::string summary_line(const run_stats& s);
/// One JSON object: packets, ok, auth_fail, replay and one field per other non-zero status.
std::string summary_json(const run_stats& s);

} // namespace srtpo::tools
