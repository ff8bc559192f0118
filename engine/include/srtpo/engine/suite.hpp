#pragma once
// SRTP crypto suites: names from the IANA "SDP Security Descriptions crypto-suites" registry
// (RFC 4568 §10.3.2.1, RFC 6188 §8, RFC 7714 §14.1, RFC 5764 §9), numeric values from the IANA
// "DTLS-SRTP Protection Profiles" registry where a profile exists (RFC 5764 §4.1.2, RFC 7714 §14.2).
// Suites without a DTLS-SRTP profile take values in 0xff00.. which IANA never assigns (RFC 5764
// §9 reserves {0xff, 0xXX} for private use), so a value never collides with a real profile id.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace srtpo::engine {

enum class suite : uint16_t {
    aes_cm_128_hmac_sha1_80 = 0x0001, ///< SRTP_AES128_CM_HMAC_SHA1_80
    aes_cm_128_hmac_sha1_32 = 0x0002, ///< SRTP_AES128_CM_HMAC_SHA1_32
    null_hmac_sha1_80 = 0x0005,       ///< SRTP_NULL_HMAC_SHA1_80
    null_hmac_sha1_32 = 0x0006,       ///< SRTP_NULL_HMAC_SHA1_32
    aead_aes_128_gcm = 0x0007,        ///< SRTP_AEAD_AES_128_GCM
    aead_aes_256_gcm = 0x0008,        ///< SRTP_AEAD_AES_256_GCM
    aes_192_cm_hmac_sha1_80 = 0xff01, ///< RFC 6188, SDES only
    aes_192_cm_hmac_sha1_32 = 0xff02, ///< RFC 6188, SDES only
    aes_256_cm_hmac_sha1_80 = 0xff03, ///< RFC 6188, SDES only
    aes_256_cm_hmac_sha1_32 = 0xff04, ///< RFC 6188, SDES only
    f8_128_hmac_sha1_80 = 0xff05,     ///< RFC 3711 §4.1.2, RFC 4568 §6.2.3, SDES only
};

/// How the payload is transformed.
enum class cipher_kind : uint8_t { aes_cm, aes_f8, null, aes_gcm };

/// Static properties of a suite. Lengths in octets.
struct suite_traits {
    suite id;
    std::string_view name;        ///< SDES crypto-suite name, exactly as in the registry
    cipher_kind cipher;
    uint8_t master_key_len;       ///< also the session encryption key length (n_e = master key length)
    uint8_t master_salt_len;      ///< 14 for AES-CM/F8/NULL, 12 for AEAD (RFC 7714 §12)
    uint8_t auth_key_len;         ///< n_a: 20 for HMAC-SHA1 (RFC 3711 §4.2.1), 0 for AEAD
    uint8_t srtp_tag_len;         ///< HMAC tag on SRTP, or AEAD tag
    uint8_t srtcp_tag_len;        ///< the _32 suites still use an 80-bit tag on SRTCP (RFC 4568 §6.2.2)
    bool aead() const noexcept { return cipher == cipher_kind::aes_gcm; }
    /// Length of the SDES `inline:` key, master key ‖ master salt.
    uint8_t key_salt_len() const noexcept { return static_cast<uint8_t>(master_key_len + master_salt_len); }
};

inline constexpr std::array<suite_traits, 11> all_suites{{
    {suite::aes_cm_128_hmac_sha1_80, "AES_CM_128_HMAC_SHA1_80", cipher_kind::aes_cm, 16, 14, 20, 10, 10},
    {suite::aes_cm_128_hmac_sha1_32, "AES_CM_128_HMAC_SHA1_32", cipher_kind::aes_cm, 16, 14, 20, 4, 10},
    {suite::aes_192_cm_hmac_sha1_80, "AES_192_CM_HMAC_SHA1_80", cipher_kind::aes_cm, 24, 14, 20, 10, 10},
    {suite::aes_192_cm_hmac_sha1_32, "AES_192_CM_HMAC_SHA1_32", cipher_kind::aes_cm, 24, 14, 20, 4, 10},
    {suite::aes_256_cm_hmac_sha1_80, "AES_256_CM_HMAC_SHA1_80", cipher_kind::aes_cm, 32, 14, 20, 10, 10},
    {suite::aes_256_cm_hmac_sha1_32, "AES_256_CM_HMAC_SHA1_32", cipher_kind::aes_cm, 32, 14, 20, 4, 10},
    {suite::f8_128_hmac_sha1_80, "F8_128_HMAC_SHA1_80", cipher_kind::aes_f8, 16, 14, 20, 10, 10},
    {suite::null_hmac_sha1_80, "NULL_HMAC_SHA1_80", cipher_kind::null, 16, 14, 20, 10, 10},
    {suite::null_hmac_sha1_32, "NULL_HMAC_SHA1_32", cipher_kind::null, 16, 14, 20, 4, 10},
    {suite::aead_aes_128_gcm, "AEAD_AES_128_GCM", cipher_kind::aes_gcm, 16, 12, 0, 16, 16},
    {suite::aead_aes_256_gcm, "AEAD_AES_256_GCM", cipher_kind::aes_gcm, 32, 12, 0, 16, 16},
}};

/// Traits of a suite; nullptr for a value that is not a suite. Thread-safe (constant data).
constexpr const suite_traits* traits_of(suite s) noexcept {
    for (const auto& t : all_suites)
        if (t.id == s) return &t;
    return nullptr;
}

/// Traits of a suite that is known valid (a `suite` held by a built session always is).
constexpr const suite_traits& traits(suite s) noexcept { return *traits_of(s); }

/// Looks a suite up by its SDES name (case-sensitive, as RFC 4568 §9.2 grammar requires).
constexpr std::optional<suite> suite_from_name(std::string_view name) noexcept {
    for (const auto& t : all_suites)
        if (t.name == name) return t.id;
    return std::nullopt;
}

/// The DTLS-SRTP protection profile id, if the suite has one.
constexpr std::optional<uint16_t> dtls_srtp_profile(suite s) noexcept {
    auto v = static_cast<uint16_t>(s);
    if (v >= 0xff00) return std::nullopt;
    return v;
}

} // namespace srtpo::engine
