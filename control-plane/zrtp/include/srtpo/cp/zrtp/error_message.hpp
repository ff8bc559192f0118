#pragma once
// Error (RFC 6189 §5.9: header + 32-bit error code) and Ping / PingACK (§5.15, §5.16).
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/error_code.hpp>
#include <srtpo/cp/zrtp/message.hpp>

namespace srtpo::cp::zrtp {

/// Thread-safe (pure).
std::vector<uint8_t> build_error(uint32_t code);
/// Returns the code (not necessarily one of error_code: unknown codes are still reported).
engine::result<uint32_t> parse_error(std::span<const uint8_t> msg);

struct ping {
    std::array<char, 4> version{};
    std::array<uint8_t, 8> endpoint_hash{};
};
struct ping_ack {
    std::array<char, 4> version{};
    std::array<uint8_t, 8> sender_endpoint_hash{};
    std::array<uint8_t, 8> received_endpoint_hash{};
    uint32_t received_ssrc = 0;
};

std::vector<uint8_t> build_ping(const ping& p);
engine::result<ping> parse_ping(std::span<const uint8_t> msg);
std::vector<uint8_t> build_ping_ack(const ping_ack& p);
engine::result<ping_ack> parse_ping_ack(std::span<const uint8_t> msg);

} // namespace srtpo::cp::zrtp
