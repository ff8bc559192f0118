#pragma once
// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) and the RFC 5764 §4.2 key
// layout. The profile id *is* the engine::suite value (suite.hpp uses the IANA ids), so this
// file only adds OpenSSL's names, the use_srtp extension parser and the keying-material split.

#include <srtpo/cp/srtp_keying.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::dtls {

/// The suites that have a DTLS-SRTP profile we negotiate. OpenSSL 3.0 lacks the NULL profiles
/// (RFC 5764 §4.1.2, 0x0005/0x0006: its ssl/d1_srtp.c table has no entry and its built-in
/// use_srtp handling cannot be replaced by a custom extension), so handshakes that select one
/// run on GnuTLS instead (stack_choice.hpp, ADR 0014).
inline constexpr std::array<engine::suite, 6> dtls_srtp_suites{
    engine::suite::aead_aes_128_gcm,        engine::suite::aead_aes_256_gcm,
    engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32,
    engine::suite::null_hmac_sha1_80,       engine::suite::null_hmac_sha1_32,
};

/// Our default preference: AEAD first (RFC 7714 §1: one pass, smaller tags on SRTCP), then the
/// mandatory-to-implement AES_CM_128_HMAC_SHA1_80 (RFC 8827 §6.5) and _32. No NULL profile: it
/// gives no confidentiality, so an operator must list it explicitly. Thread-safe.
std::vector<engine::suite> default_profiles();

/// OpenSSL's name for a profile ("SRTP_AES128_CM_SHA1_80", ...); nullopt if the suite has no
/// DTLS-SRTP profile that OpenSSL 3.0 knows. Thread-safe.
std::optional<std::string_view> openssl_profile_name(engine::suite s) noexcept;

/// The suite of a profile id, if it is one of dtls_srtp_suites. Thread-safe.
std::optional<engine::suite> suite_from_profile_id(uint16_t id) noexcept;

/// The RFC 5764 §4.1.2 / RFC 7714 §14.2 name ("SRTP_NULL_HMAC_SHA1_80", ...) of a profile in
/// dtls_srtp_suites; nullopt otherwise. Thread-safe.
std::optional<std::string_view> rfc_profile_name(engine::suite s) noexcept;

/// Checks a configured preference list: not empty, every entry in dtls_srtp_suites, no
/// duplicate. Errors: invalid_argument naming the entry. Thread-safe, pure.
engine::result<void> check_profile_list(std::span<const engine::suite> order);

/// Colon-separated OpenSSL profile list in the given order (for SSL_set_tlsext_use_srtp).
/// Errors: invalid_argument for an empty list, a suite without a profile, or a duplicate.
/// Thread-safe, pure.
engine::result<std::string> openssl_profile_list(std::span<const engine::suite> order);

/// The body of a use_srtp extension (RFC 5764 §4.1.1):
///   uint16 SRTPProtectionProfiles<2..2^16-1>;  opaque srtp_mki<0..255>;
struct use_srtp_ext {
    std::vector<uint16_t> profiles; ///< in the sender's order, unknown ids included
    std::vector<std::byte> mki;
};

/// Bounds-checked parser of network input. Errors: invalid_argument for a truncated body, an
/// odd or zero profile-list length, a MKI running past the end, or trailing bytes.
/// Thread-safe, pure.
engine::result<use_srtp_ext> parse_use_srtp(std::span<const std::byte> body);

/// Which order wins when we are the DTLS server (RFC 5764 §4.1.3 leaves the choice to the
/// server): ours (what OpenSSL, rtpengine and Janus do) or the client's (GnuTLS and pion).
enum class profile_selection : uint8_t { server_preference, client_preference };

/// The profiles both sides support, in the order that wins. Empty = no common profile.
/// Unknown ids in the offer are skipped. Thread-safe, pure.
std::vector<engine::suite> select_profiles(std::span<const engine::suite> ours,
                                           std::span<const uint16_t> client_offer,
                                           profile_selection who_wins);

/// Keying-material length the exporter must produce: 2 * (key + salt) (RFC 5764 §4.2); 0 for
/// a value that is not a suite. Thread-safe.
std::size_t keying_material_len(engine::suite s) noexcept;

/// Splits exported keying material, laid out as client_write_key | server_write_key |
/// client_write_salt | server_write_salt (RFC 5764 §4.2), into an srtp_keying whose `local` is
/// our write key and `remote` the peer's. `is_client` is our DTLS role. protocol = "dtls-srtp".
/// Errors: bad_key_length if the material is not keying_material_len(s) octets.
/// Ownership: reads `material` only; the caller wipes it. Thread-safe, pure.
engine::result<srtp_keying> split_keying_material(engine::suite s, std::span<const std::byte> material,
                                                  bool is_client);

} // namespace srtpo::cp::dtls
