#pragma once
// The ZRTP hash, HMAC and KDF (RFC 6189 §4.5.1), on OpenSSL 3 EVP.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/secret.hpp>

#include <array>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace srtpo::cp::zrtp {

using bytes_view = std::span<const uint8_t>;

/// hash(parts...) with the negotiated hash (§5.1.2). Thread-safe (pure).
std::vector<uint8_t> digest(hash_algo h, std::initializer_list<bytes_view> parts);
/// SHA-256, used whatever is negotiated for the hash chain, message MACs and a=zrtp-hash (§9, §8.1).
std::array<uint8_t, 32> sha256(bytes_view data);
/// HMAC(key, parts...) with the negotiated hash, full length. Thread-safe (pure).
secret hmac(hash_algo h, bytes_view key, std::initializer_list<bytes_view> parts);
/// The 64-bit MAC of Hello, Commit and DHPart messages: HMAC-SHA-256 truncated (§5.2, §5.4, §5.5).
std::array<uint8_t, 8> message_mac(bytes_view key, bytes_view message);
/// KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L) truncated to L bits,
/// with i = 1 and L in bits, both 32-bit big-endian (§4.5.1; NIST SP 800-108 counter mode with
/// one block). `out_len` octets, at most the hash length. Thread-safe (pure).
secret kdf(hash_algo h, bytes_view ki, std::string_view label, bytes_view context, std::size_t out_len);
/// Fills `out` from the OpenSSL DRBG; aborts on DRBG failure (no safe way to continue).
void random_bytes(std::span<uint8_t> out);
/// Constant-time equality of two equal-length views (CRYPTO_memcmp).
bool ct_equal(bytes_view a, bytes_view b) noexcept;

} // namespace srtpo::cp::zrtp
