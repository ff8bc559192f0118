#pragma once
// ZRTP algorithm identifiers (RFC 6189 §5.1.2-§5.1.6) and negotiation (§4.1.2).
// Each algorithm travels as a 4-character ASCII word in Hello and Commit.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/engine/suite.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace srtpo::cp::zrtp {

/// A 4-octet algorithm name as it appears on the wire ("S256", "AES1", ...).
using algo_word = std::array<char, 4>;

enum class hash_algo : uint8_t { s256, s384 };                        ///< §5.1.2
enum class cipher_algo : uint8_t { aes1, aes3 };                      ///< §5.1.3
enum class auth_tag : uint8_t { hs32, hs80 };                         ///< §5.1.4
enum class key_agreement : uint8_t { dh3k, dh2k, ec25, ec38, x255, x448, mult, prsh }; ///< §5.1.5
enum class sas_type : uint8_t { b32, b256 };                          ///< §5.1.6

std::string_view name(hash_algo a) noexcept;
std::string_view name(cipher_algo a) noexcept;
std::string_view name(auth_tag a) noexcept;
std::string_view name(key_agreement a) noexcept;
std::string_view name(sas_type a) noexcept;

/// Looks a wire word up; nullopt for words we do not implement. Thread-safe (pure).
std::optional<hash_algo> hash_from_word(algo_word w) noexcept;
std::optional<cipher_algo> cipher_from_word(algo_word w) noexcept;
std::optional<auth_tag> auth_from_word(algo_word w) noexcept;
std::optional<key_agreement> ka_from_word(algo_word w) noexcept;
std::optional<sas_type> sas_from_word(algo_word w) noexcept;
algo_word word_of(std::string_view name) noexcept;

/// Digest length in octets (the "negotiated hash length" of §4.5).
std::size_t hash_length(hash_algo a) noexcept;
/// AES key length in octets (the "negotiated AES key length" of §4.5.3).
std::size_t cipher_key_length(cipher_algo a) noexcept;
/// Public value length on the wire, pvi/pvr (§5.5): 0 for Mult/Prsh.
std::size_t pv_length(key_agreement a) noexcept;
/// SRTP suite for a negotiated cipher and tag (§5.1.3, §5.1.4; AES3 uses RFC 6188's 256-bit CM).
engine::suite srtp_suite(cipher_algo c, auth_tag t) noexcept;

/// One endpoint's ordered preferences, first = most preferred. These go into Hello (§5.2) in
/// this order. Every list must be non-empty and hold at most 7 entries (4-bit counts).
struct algorithm_prefs {
    std::vector<hash_algo> hashes{hash_algo::s256, hash_algo::s384};
    std::vector<cipher_algo> ciphers{cipher_algo::aes1, cipher_algo::aes3};
    std::vector<auth_tag> auth_tags{auth_tag::hs32, auth_tag::hs80};
    /// Key agreements in preference order; `mult` is added to Hello automatically when allowed.
    std::vector<key_agreement> key_agreements{key_agreement::x255, key_agreement::dh3k, key_agreement::ec25,
                                              key_agreement::x448, key_agreement::ec38, key_agreement::dh2k};
    std::vector<sas_type> sas_types{sas_type::b32, sas_type::b256};
};

/// What a peer's Hello offers, as parsed (unknown words dropped, §5.2 says the receiver ignores them).
struct offered_algorithms {
    std::vector<hash_algo> hashes;
    std::vector<cipher_algo> ciphers;
    std::vector<auth_tag> auth_tags;
    std::vector<key_agreement> key_agreements;
    std::vector<sas_type> sas_types;
};

/// The algorithms one Commit selects.
struct chosen_algorithms {
    hash_algo hash = hash_algo::s256;
    cipher_algo cipher = cipher_algo::aes1;
    auth_tag auth = auth_tag::hs32;
    key_agreement ka = key_agreement::dh3k;
    sas_type sas = sas_type::b32;
    bool operator==(const chosen_algorithms&) const = default;
};

/// Negotiation as the Commit sender (§4.1.2): for hash, cipher, auth tag and SAS, our first
/// preference the peer also offers; the mandatory algorithms (S256, AES1, HS32, HS80, DH3k, B32)
/// count as offered even when a Hello omits them (§5.1.x "MUST be supported"). For the key
/// agreement, if the two first common choices differ the faster one is taken, as §4.1.2 asks so
/// that both sides reach the same choice. `multistream` selects Mult when both allow it.
/// Returns nullopt only if no common key agreement exists (cannot happen with DH3k implicit).
/// Thread-safe (pure).
std::optional<chosen_algorithms> negotiate(const algorithm_prefs& ours, const offered_algorithms& peer,
                                           bool multistream);

/// True if every chosen algorithm is one we implement and enabled (responder's check of a Commit).
bool acceptable(const algorithm_prefs& ours, const chosen_algorithms& c);

} // namespace srtpo::cp::zrtp
