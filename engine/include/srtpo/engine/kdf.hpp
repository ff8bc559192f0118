#pragma once
// SRTP key derivation (RFC 3711 §4.3, AES-CM PRF §4.3.3; RFC 6188 §3 for AES-192/256;
// RFC 7714 §11 for AEAD; RFC 6904 §4.3 for the header-extension key and salt).
// Control path only: the data plane never derives keys (ARCHITECTURE.md principle 4).

#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::engine {

/// Key derivation labels, RFC 3711 §4.3.1/§4.3.2 and RFC 6904 §4.3.
enum class kdf_label : uint8_t {
    srtp_encryption = 0x00,
    srtp_authentication = 0x01,
    srtp_salting = 0x02,
    srtcp_encryption = 0x03,
    srtcp_authentication = 0x04,
    srtcp_salting = 0x05,
    srtp_header_encryption = 0x06,
    srtp_header_salting = 0x07,
};

/// The AES-CM PRF of RFC 3711 §4.3.3 with r = index DIV key_derivation_rate (0 when KDR is 0).
/// The master key's length selects AES-128/192/256 (RFC 6188 §3); a 12-octet (AEAD) master salt
/// is used as the 112-bit salt's first 96 bits with zero padding (RFC 7714 §11).
/// Thread-safe. Errors: bad_key_length, backend_failure.
result<void> prf(std::span<const std::byte> master_key, std::span<const std::byte> master_salt,
                 kdf_label label, uint64_t r, std::span<std::byte> out);

/// Session keys for one of SRTP or SRTCP. Wiped on destruction.
struct session_keys {
    std::array<std::byte, 32> k_e{};  ///< encryption key, master_key_len octets used
    std::array<std::byte, 20> k_a{};  ///< authentication key (HMAC-SHA1), unused by AEAD
    std::array<std::byte, 14> k_s{};  ///< salting key, master_salt_len octets used
    std::array<std::byte, 32> k_he{}; ///< RFC 6904 header encryption key (SRTP only)
    std::array<std::byte, 14> k_hs{}; ///< RFC 6904 header salting key
    session_keys() = default;
    session_keys(const session_keys&) = default;
    session_keys& operator=(const session_keys&) = default;
    ~session_keys();
};

/// Derives the SRTP (labels 0..2, 6, 7) or SRTCP (3..5) session keys of a suite with KDR 0.
/// Thread-safe. Errors: bad_key_length, backend_failure.
result<void> derive_session_keys(const suite_traits& t, std::span<const std::byte> master_key,
                                 std::span<const std::byte> master_salt, bool srtcp, session_keys& out);

/// Overwrites memory in a way the compiler cannot elide (OPENSSL_cleanse).
void secure_zero(void* p, std::size_t n) noexcept;

} // namespace srtpo::engine
