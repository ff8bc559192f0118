#pragma once
// Bounds-checked views of RTP (RFC 3550 §5.1, RFC 8285) and RTCP (RFC 3550 §6.4) headers.
// No bit-field structs and no casts: every field is read from bytes, so the code is the same on
// every endianness and never reads past `len`.

#include <srtpo/engine/status.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::engine {

inline constexpr std::size_t rtp_fixed_header_len = 12;
inline constexpr std::size_t rtcp_fixed_header_len = 8; ///< V/P/RC, PT, length, SSRC of sender

/// RFC 8285 profile values of the extension header ("defined by profile").
inline constexpr uint16_t ext_profile_one_byte = 0xBEDE;
inline constexpr uint16_t ext_profile_two_byte_mask = 0xFFF0; ///< 0x100X, X = appbits
inline constexpr uint16_t ext_profile_two_byte = 0x1000;
/// RFC 9335 §5.1: cryptex marks an encrypted one-byte / two-byte extension block.
inline constexpr uint16_t ext_profile_cryptex_one_byte = 0xC0DE;
inline constexpr uint16_t ext_profile_cryptex_two_byte = 0xC2DE;

struct rtp_header_view {
    uint16_t header_len = 0;   ///< 12 + 4·CC + (X ? 4 + 4·ext_words : 0): the part SRTP never encrypts
    uint8_t cc = 0;
    bool padding = false;
    bool extension = false;
    bool marker = false;
    uint8_t pt = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint16_t ext_offset = 0;   ///< offset of the 4-octet extension header; 0 if none
    uint16_t ext_profile = 0;
    uint16_t ext_data_len = 0; ///< octets of extension data after its 4-octet header
};

/// Parses the header of an RTP packet of `pkt.size()` octets.
/// Returns ok, too_short, bad_version or bad_header (CSRCs or extension past the end).
/// Thread-safe, noexcept, no allocation.
status parse_rtp_header(std::span<const std::byte> pkt, rtp_header_view& h) noexcept;

/// Checks RFC 3550 §5.1 padding of a plaintext RTP packet: with P set, the last octet counts the
/// padding octets (including itself), at least 1 and at most the payload length.
status check_rtp_padding(std::span<const std::byte> pkt, const rtp_header_view& h) noexcept;

struct rtcp_header_view {
    uint8_t count = 0;
    bool padding = false;
    uint8_t pt = 0;
    uint16_t length_words = 0; ///< the length field: 32-bit words minus one
    uint32_t ssrc = 0;         ///< SSRC of the sender of the first packet of the compound
};

/// Parses the first RTCP header of a (compound) packet. ok, too_short or bad_version.
status parse_rtcp_header(std::span<const std::byte> pkt, rtcp_header_view& h) noexcept;

/// RFC 5761 §4: in a multiplexed flow, payload types 192..223 (second octet with the marker bit
/// folded in) are RTCP; everything else with version 2 is RTP.
constexpr bool is_rtcp_payload_type(uint8_t second_octet) noexcept {
    return second_octet >= 192 && second_octet <= 223;
}

/// Calls fn(id, data_offset, data_len) for every element of an RFC 8285 one-byte or two-byte
/// extension block. Offsets are from the start of the packet. Stops at the end of the block;
/// padding octets (ID 0) are skipped; the one-byte ID 15 ends processing (RFC 8285 §4.2).
/// Returns bad_header if an element runs past the block.
template <class Fn>
status for_each_extension_element(std::span<const std::byte> pkt, const rtp_header_view& h,
                                  bool two_byte, Fn&& fn) noexcept {
    std::size_t pos = h.ext_offset + 4u;
    const std::size_t end = pos + h.ext_data_len;
    while (pos < end) {
        auto b0 = static_cast<uint8_t>(pkt[pos]);
        if (b0 == 0) { ++pos; continue; }
        uint8_t id;
        std::size_t len;
        if (!two_byte) {
            id = static_cast<uint8_t>(b0 >> 4);
            if (id == 15) break;
            len = (b0 & 0x0fu) + 1u;
            pos += 1;
        } else {
            if (pos + 2 > end) return status::bad_header;
            id = b0;
            len = static_cast<uint8_t>(pkt[pos + 1]);
            pos += 2;
        }
        if (pos + len > end) return status::bad_header;
        fn(id, pos, len);
        pos += len;
    }
    return status::ok;
}

} // namespace srtpo::engine
