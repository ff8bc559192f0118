#pragma once
// What every ZRTP message shares (RFC 6189 §5.1.1): the preamble 0x505a, a 16-bit length in
// 32-bit words (counting preamble, length and type block, not the packet header or CRC), and an
// 8-character type block. Also the messages that are nothing but that block (the ACKs).
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/engine/result.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace srtpo::cp::zrtp {

using zid_t = std::array<uint8_t, 12>;        ///< ZRTP identifier (§4.9)
using hash_image = std::array<uint8_t, 32>;   ///< H0..H3 (§9)
using mac64 = std::array<uint8_t, 8>;

enum class message_type : uint8_t {
    hello, hello_ack, commit, dh_part1, dh_part2, confirm1, confirm2, conf2_ack,
    error, error_ack, go_clear, clear_ack, sas_relay, relay_ack, ping, ping_ack,
};

inline constexpr uint16_t message_preamble = 0x505a;
inline constexpr std::size_t message_header_len = 12;

/// The 8-character type block, e.g. "Hello   " (§5.1.1). Thread-safe.
std::string_view type_block(message_type t) noexcept;

/// Checks preamble, that the length field equals `msg.size()`, and that the type block is one
/// of §5's. Errors (invalid_argument) say which. Thread-safe (pure).
engine::result<message_type> parse_message_header(std::span<const uint8_t> msg);

/// Appends preamble, length (`total_len` octets, a multiple of 4) and type block.
void put_message_header(std::vector<uint8_t>& out, message_type t, std::size_t total_len);

/// A message that is only the header: HelloACK, Conf2ACK, ErrorACK, ClearACK, RelayACK (§5.3,
/// §5.8, §5.10, §5.12, §5.14). Thread-safe (pure).
std::vector<uint8_t> build_ack(message_type t);
/// Checks that `msg` is exactly the 3-word ACK of type `t`.
engine::result<void> parse_ack(std::span<const uint8_t> msg, message_type t);

} // namespace srtpo::cp::zrtp
