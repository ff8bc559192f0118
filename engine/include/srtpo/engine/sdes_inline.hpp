#pragma once
// SDES "inline" key parameters (RFC 4568 §6.1):
//
//   key-param = "inline:" key-info
//   key-info  = key-salt ["|" lifetime] ["|" mki]
//   key-salt  = base64(master key || master salt)
//   lifetime  = ["2^"] 1*DIGIT          ; packets; 2^N form or decimal
//   mki       = mki-value ":" mki-length ; decimal value, length 1..128 octets
//
// Control path only: results are result<T>, messages never contain key material (neither the
// base64 text nor decoded bytes), and decoded keys live in a buffer that wipes itself.

#include <srtpo/engine/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::engine {

/// Longest master key || salt of any SDES suite: AES-256 key (32) + salt (14), RFC 6188 §7.
inline constexpr std::size_t sdes_max_key_salt_len = 46;
/// Largest lifetime: 2^48 packets, the SRTP limit (RFC 3711 §9.2), which RFC 4568 §6.1 defers to.
inline constexpr unsigned sdes_max_lifetime_log2 = 48;
inline constexpr std::size_t sdes_max_mki_len = 128; ///< RFC 4568 §6.1: mki-length 1..128

/// Master key || salt bytes that are wiped (OPENSSL_cleanse) on destruction, clear() and
/// assignment. Fixed in-object storage, so no copy is ever left behind in freed heap memory.
/// Thread-safety: a value type; distinct objects are independent.
class key_salt_buffer {
public:
    key_salt_buffer() noexcept = default;
    /// Copies `b`. Errors: bad_key_length if b.size() > sdes_max_key_salt_len.
    static result<key_salt_buffer> from(std::span<const std::byte> b);

    key_salt_buffer(const key_salt_buffer& o) noexcept;
    key_salt_buffer& operator=(const key_salt_buffer& o) noexcept;
    /// Moving copies and then wipes the source.
    key_salt_buffer(key_salt_buffer&& o) noexcept;
    key_salt_buffer& operator=(key_salt_buffer&& o) noexcept;
    ~key_salt_buffer();

    /// The bytes; valid while this object lives and is not modified.
    std::span<const std::byte> bytes() const noexcept { return {_b.data(), _n}; }
    std::size_t size() const noexcept { return _n; }
    bool empty() const noexcept { return _n == 0; }
    /// Wipes the bytes and sets the size to 0.
    void clear() noexcept;
    /// Constant-time comparison of contents (CRYPTO_memcmp); lengths are not secret.
    bool equals(std::span<const std::byte> other) const noexcept;

private:
    std::array<std::byte, sdes_max_key_salt_len> _b{};
    uint8_t _n = 0;
};

/// Master Key Identifier as SDES carries it: a decimal value sent in `length` octets.
struct sdes_mki {
    uint64_t value = 0;
    uint8_t length = 0;             ///< 1..128 octets
    std::vector<std::byte> bytes;   ///< `length` octets, big-endian value, zero-extended on the left
};

/// One parsed key-param.
struct sdes_key_params {
    key_salt_buffer key_salt;       ///< master key || master salt, not checked against a suite
    uint64_t lifetime = 0;          ///< packets; 0 when absent (= the RFC 3711 maximum)
    std::optional<sdes_mki> mki;
};

/// Parses one key-param, with or without the leading "inline:" (matched case-insensitively, as
/// ABNF literals are, RFC 5234 §2.3). Key and salt lengths are the caller's to check against
/// the suite. Base64 follows RFC 4648 §4; missing trailing padding is tolerated, non-zero pad
/// bits (RFC 4648 §3.5) are not.
/// Errors (errc::invalid_argument unless noted), each message naming the field, never its key:
///  - a key method other than "inline"; empty key; characters outside the base64 alphabet,
///    misplaced or excess '=', impossible length, non-canonical final character;
///  - bad_key_length: more than sdes_max_key_salt_len decoded bytes;
///  - lifetime empty, not decimal, 0, over 2^48, or 2^N with N > 48;
///  - MKI without ':', empty or non-decimal value or length, length outside 1..128, value too
///    large for its length or for 64 bits; more than three '|' fields; lifetime after the MKI.
/// Thread-safety: pure. Ownership: `text` is read during the call only; the caller should wipe
/// its own copy of the text, which holds the key in base64.
result<sdes_key_params> parse_sdes_inline(std::string_view text);

/// Builds an sdes_mki (fills `bytes`). Errors: invalid_argument when length is outside 1..128
/// or value does not fit in `length` octets. Thread-safety: pure.
result<sdes_mki> make_sdes_mki(uint64_t value, std::size_t length);

/// Encodes "inline:<base64(key_salt)>[|lifetime][|value:length]". A lifetime that is a power of
/// two >= 2 is written as "2^N", any other as decimal; 0 omits the field. The MKI is written from
/// mki->value and mki->length (bytes are ignored). Errors: bad_key_length for an empty or
/// over-long key_salt; invalid_argument for a lifetime over 2^48 or a bad MKI.
/// Ownership: the returned string holds key material; the caller wipes it (OPENSSL_cleanse)
/// when done. Thread-safety: pure.
result<std::string> encode_sdes_inline(std::span<const std::byte> key_salt, uint64_t lifetime = 0,
                                       const std::optional<sdes_mki>& mki = std::nullopt);
result<std::string> encode_sdes_inline(const sdes_key_params& p);

} // namespace srtpo::engine
