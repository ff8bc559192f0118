#pragma once
// The MIKEY PRF and key derivation (RFC 3830 §4.1.2–§4.1.4).
//
//   PRF(inkey, label) = P(s_1, label, m) XOR ... XOR P(s_n, label, m), truncated
//   s_1..s_n = inkey cut in 256-bit pieces (the last may be shorter), m = ceil(outlen / 160 bits)
//   P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label)
//   A_0 = label, A_i = HMAC(s, A_{i-1}), HMAC = HMAC-SHA-1
//
// TGK -> TEK, TEK salt, TEK auth key: label = constant || cs_id || csb_id || RAND (§4.1.3).
// Envelope key or pre-shared key -> KEMAC encr / salt / auth key: cs_id = 0xFF (§4.1.4).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <span>

namespace srtpo::cp::mikey {

/// Label constants of §4.1.3 (keys for a crypto session, from the TGK).
inline constexpr uint32_t label_tek = 0x2AD01C64;
inline constexpr uint32_t label_tek_auth = 0x1B5C7973;
inline constexpr uint32_t label_tek_encr = 0x15798CEF;
inline constexpr uint32_t label_tek_salt = 0x39A2C14B;
/// Label constants of §4.1.4 (keys that protect the message, from the PSK / envelope key).
inline constexpr uint32_t label_msg_encr = 0x150533E1;
inline constexpr uint32_t label_msg_auth = 0x2D22AC75;
inline constexpr uint32_t label_msg_salt = 0x29B88916;
/// The cs_id position of §4.1.4 labels.
inline constexpr uint8_t cs_id_message = 0xFF;

/// constant || cs_id || csb_id || RAND. Thread-safe, pure.
bytes kdf_label(uint32_t constant, uint8_t cs_id, uint32_t csb_id, std::span<const uint8_t> rand);

/// The PRF of §4.1.2. Thread-safe. Errors: invalid_argument for an empty inkey or outlen 0;
/// backend_failure if OpenSSL's HMAC fails.
engine::result<secret_bytes> prf(std::span<const uint8_t> inkey, std::span<const uint8_t> label,
                                 std::size_t outlen);

/// The keys that protect one message's KEMAC / V (§4.1.4): AES-CM-128 key (16), its salt
/// (14, §4.2.3) and the HMAC-SHA-1-160 key (20).
struct message_keys {
    secret_bytes encr;
    secret_bytes salt;
    secret_bytes auth;
};
/// Derives message_keys from a pre-shared or envelope key. Thread-safe. Errors as prf().
engine::result<message_keys> derive_message_keys(std::span<const uint8_t> inkey, uint32_t csb_id,
                                                 std::span<const uint8_t> rand);

/// TEK (SRTP master key) and salt for crypto session cs_id from a TGK (§4.1.3). Thread-safe.
struct tek_keys {
    secret_bytes tek;
    secret_bytes salt;
};
engine::result<tek_keys> derive_tek(std::span<const uint8_t> tgk, uint8_t cs_id, uint32_t csb_id,
                                    std::span<const uint8_t> rand, std::size_t tek_len, std::size_t salt_len);

} // namespace srtpo::cp::mikey
