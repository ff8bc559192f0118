#pragma once
// The payloads that make a message fresh and its keys unique: T (RFC 3830 §6.6) and RAND
// (§6.11), with the NTP timestamp conversions of §6.6 (RFC 1305 64-bit format).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>

#include <chrono>
#include <cstdint>

namespace srtpo::cp::mikey {

/// T payload. NTP-UTC and NTP values are 64 bits; COUNTER is 32 bits (the upper half is 0).
struct t_payload {
    ts_type type = ts_type::ntp_utc;
    uint64_t value = 0;
    bool operator==(const t_payload&) const = default;
    /// The TS value field as sent (8 or 4 octets), big-endian.
    bytes wire_value() const;
};

/// RAND payload; §6.11 asks for at least 128 bits, the decoder enforces it.
struct rand_payload {
    bytes rand;
    bool operator==(const rand_payload&) const = default;
};
inline constexpr std::size_t min_rand_len = 16;

/// NTP 64-bit timestamp (seconds since 1900 in the upper 32 bits, binary fraction below) of a
/// system_clock time point. Thread-safe, pure.
uint64_t ntp_from_time(std::chrono::system_clock::time_point t) noexcept;
/// Inverse of ntp_from_time (era 0, i.e. up to 2036). Thread-safe, pure.
std::chrono::system_clock::time_point time_from_ntp(uint64_t ntp) noexcept;

} // namespace srtpo::cp::mikey
