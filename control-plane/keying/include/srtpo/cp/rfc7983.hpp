#pragma once
// RFC 7983 §7 first-byte demultiplexing of one UDP 5-tuple that carries STUN, ZRTP, DTLS, TURN
// channel data and RTP/RTCP (updating RFC 5764 §5.1.2). The srtpo-pmd fast path takes 128..191
// itself; srtpo-cp uses this to hand the rest to the ICE-lite responder or a DTLS endpoint.

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::cp {

enum class rfc7983_class : uint8_t {
    stun,     ///< 0..3     (RFC 5389/8489)
    zrtp,     ///< 16..19   (RFC 6189)
    dtls,     ///< 20..63   (RFC 6347, RFC 9147)
    turn_channel, ///< 64..79 (RFC 8656 ChannelData)
    rtp_rtcp, ///< 128..191 (RFC 3550; RFC 5761 §4 tells RTP from RTCP)
    unknown,  ///< anything else, and the empty datagram: drop
};

/// Classifies a datagram by its first octet (RFC 7983 §7). Thread-safe, pure, never reads past
/// the first octet.
constexpr rfc7983_class classify_rfc7983(std::span<const std::byte> datagram) noexcept {
    if (datagram.empty()) return rfc7983_class::unknown;
    const auto b = static_cast<uint8_t>(datagram[0]);
    if (b <= 3) return rfc7983_class::stun;
    if (b >= 16 && b <= 19) return rfc7983_class::zrtp;
    if (b >= 20 && b <= 63) return rfc7983_class::dtls;
    if (b >= 64 && b <= 79) return rfc7983_class::turn_channel;
    if (b >= 128 && b <= 191) return rfc7983_class::rtp_rtcp;
    return rfc7983_class::unknown;
}

} // namespace srtpo::cp
