#pragma once
// The two checks a STUN message carries (RFC 8489 §14.5, §14.7): MESSAGE-INTEGRITY, an
// HMAC-SHA1 over the message up to the attribute with the length field adjusted to end after
// it, and FINGERPRINT, CRC-32 (ISO/IEC 13239, as in zlib) of the message up to it xor 0x5354554e.

#include <srtpo/cp/ice/stun_message.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::cp::ice {

/// CRC-32 (reflected polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF). Thread-safe.
uint32_t crc32(std::span<const std::byte> data) noexcept;

/// HMAC-SHA1 for a MESSAGE-INTEGRITY placed at `mi_offset` of `msg` (the attribute header's
/// offset): over msg[0, mi_offset) with the header's length field set to mi_offset - 20 + 24.
/// Errors: invalid_argument if mi_offset is out of range; backend_failure if OpenSSL fails.
/// Thread-safe.
engine::result<std::array<std::byte, 20>> compute_message_integrity(std::span<const std::byte> msg,
                                                                    std::size_t mi_offset,
                                                                    std::span<const std::byte> key);

enum class integrity_status : uint8_t { ok, absent, mismatch };

/// Checks MESSAGE-INTEGRITY of a parsed message under `key` (short-term: the password),
/// comparing in constant time (CRYPTO_memcmp). Thread-safe.
integrity_status check_message_integrity(const stun_message& m, std::span<const std::byte> key);

/// Checks FINGERPRINT (which the parser guarantees is last). Thread-safe.
integrity_status check_fingerprint(const stun_message& m);

} // namespace srtpo::cp::ice
