#pragma once
// The media-anchor rewrite: a B2BUA replaces the address and ports of each m= section with the
// engine's (so media flows through srtpo-pmd) and switches the transport profile per leg.

#include <srtpo/cp/sdp/session_description.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace srtpo::cp::sdp {

/// Where the engine receives this leg's media for one m= section.
struct anchor_endpoint {
    std::string addrtype = "IP4";  ///< IP4 or IP6
    std::string address;           ///< the engine's media address
    uint16_t rtp_port = 0;
    /// RTCP port. With rtcp-mux (RFC 5761 §5.1.3) RTCP shares rtp_port; otherwise RFC 3605 a=rtcp
    /// names it; nullopt with no mux means "rtp_port + 1" (RFC 3550 §11), written only when the
    /// offer carried an a=rtcp.
    std::optional<uint16_t> rtcp_port;
    bool rtcp_mux = false;         ///< use (offer) or accept (answer) RTP/RTCP multiplexing
};

/// Transport profile for a leg (RFC 3711 §12 RTP/SAVP, RFC 5124 RTP/SAVPF).
enum class profile : uint8_t { keep, avp, savp };

/// Rewrites media section `index` for the other leg:
///  - m= port := rtp_port (a port of 0, a rejected stream per RFC 3264 §6, is kept 0);
///  - its c= := the endpoint address (added if the section inherited the session c=);
///  - a=rtcp (RFC 3605): rewritten to the RTCP port/address, or rtp_port when muxing;
///  - a=rtcp-mux (RFC 5761): added when `rtcp_mux`, removed otherwise;
///  - proto: RTP/AVP <-> RTP/SAVP, RTP/AVPF <-> RTP/SAVPF when `p` asks; a=crypto lines are
///    removed when switching to plain RTP (the SDES layer adds fresh ones for SRTP).
/// Errors (invalid_argument): index out of range, bad endpoint address type, a non-RTP section
/// when a profile switch is requested. Thread-safety: pure on its arguments.
result<void> anchor_media(session_description& sd, std::size_t index, const anchor_endpoint& ep,
                          profile p = profile::keep);

/// Rewrites the session-level c= (if present) and o='s unicast address (RFC 8866 §5.2) to
/// `address`, and removes any session-level a=crypto (keys never cross legs); when `sess_version` is given it replaces o='s sess-version (RFC 3264 §8: the
/// anchor keeps one origin per leg and increments the version whenever its SDP changes, so the
/// caller owns that counter). Errors (invalid_argument): malformed o= line, bad addrtype.
/// Thread-safety: pure on its arguments.
result<void> anchor_session(session_description& sd, std::string_view addrtype, std::string_view address,
                            std::optional<uint64_t> sess_version = std::nullopt);

} // namespace srtpo::cp::sdp
