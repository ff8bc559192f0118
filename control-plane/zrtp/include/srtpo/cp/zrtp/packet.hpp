#pragma once
// The ZRTP packet around every message (RFC 6189 §5.0): a 12-octet RTP-like header whose first
// nibble is 0001, a sequence number, the magic cookie 'ZRTP' and the SSRC; then the message;
// then a CRC-32c over header and message.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::zrtp {

inline constexpr uint32_t magic_cookie = 0x5a525450; ///< "ZRTP" (§5.0)
inline constexpr std::size_t packet_header_len = 12;
inline constexpr std::size_t packet_crc_len = 4;
inline constexpr std::size_t min_message_len = 12;   ///< preamble + length + type (§5.1.1)
inline constexpr std::size_t max_packet_len = 1500;  ///< the largest message (DH3k DHPart) is 468 octets

/// A parsed packet; `message` points into the caller's buffer.
struct packet_view {
    uint16_t sequence = 0;
    uint32_t ssrc = 0;
    std::span<const uint8_t> message;
};

/// Cheap demultiplexing test (RFC 7983 first byte 16..19 plus the cookie): true when `pkt`
/// could be ZRTP. Thread-safe (pure).
bool looks_like_zrtp(std::span<const uint8_t> pkt) noexcept;

/// Parses and checks one packet: length bounds, first nibble 0001, magic cookie, CRC.
/// Errors (invalid_argument) name the failing field. Thread-safe (pure); the view borrows `pkt`.
engine::result<packet_view> parse_packet(std::span<const uint8_t> pkt);

/// Frames `message` in a packet (header, message, CRC). Thread-safe (pure).
std::vector<uint8_t> frame_packet(uint16_t sequence, uint32_t ssrc, std::span<const uint8_t> message);

} // namespace srtpo::cp::zrtp
