#pragma once
// The symmetric protection of a message: KEMAC encryption with AES-CM-128 (RFC 3830 §4.2.3),
// the HMAC-SHA-1-160 MAC (§4.2.1) and its constant-time check. OpenSSL EVP does the work.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/engine/result.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace srtpo::cp::mikey {

/// IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000, S the 112-bit salt, T the 64-bit TS value
/// (a 32-bit COUNTER is right-aligned, zero on the left). Thread-safe, pure.
/// Errors: invalid_argument if salt is not 14 octets or T longer than 8.
engine::result<std::array<uint8_t, 16>> kemac_iv(std::span<const uint8_t> salt, uint32_t csb_id,
                                                 std::span<const uint8_t> t_value);

/// AES-128 in counter mode (its own inverse). Thread-safe. Errors: invalid_argument for a key
/// that is not 16 octets; backend_failure from OpenSSL. The output is secret (plaintext keys).
engine::result<secret_bytes> aes_cm_128(std::span<const uint8_t> key, const std::array<uint8_t, 16>& iv,
                                        std::span<const uint8_t> in);

/// HMAC-SHA-1 (20 octets). Thread-safe. Errors: backend_failure.
engine::result<bytes> hmac_sha1(std::span<const uint8_t> key, std::span<const uint8_t> data);

/// True iff HMAC-SHA-1(key, data) equals mac, compared in constant time (CRYPTO_memcmp).
bool hmac_sha1_verify(std::span<const uint8_t> key, std::span<const uint8_t> data,
                      std::span<const uint8_t> mac) noexcept;

/// Cryptographically random octets (RAND_bytes). Errors: backend_failure.
engine::result<bytes> random_bytes(std::size_t n);

} // namespace srtpo::cp::mikey
