#pragma once
// The SDP a=fingerprint attribute (RFC 8122 §5, RFC 5763 §5): a hash of the DER certificate an
// endpoint will present in its DTLS handshake. It is what binds the self-signed certificate to
// the signalling, so the DTLS endpoint accepts a peer only if its certificate matches.

#include <srtpo/engine/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::dtls {

/// Hash functions of the IANA "Hash Function Textual Names" registry that we accept. md2/md5
/// are registered too but RFC 8122 §5 forbids them for new use; they are rejected.
enum class hash_func : uint8_t { sha_1, sha_224, sha_256, sha_384, sha_512 };

/// "sha-256" etc., lower case as in the registry. Thread-safe.
std::string_view hash_name(hash_func h) noexcept;
/// Digest length in octets. Thread-safe.
std::size_t digest_len(hash_func h) noexcept;
/// Looks up a hash token, case-insensitively (RFC 8122 §5: the token is case-insensitive;
/// baresip sends "SHA-256"). Thread-safe.
std::optional<hash_func> hash_from_name(std::string_view token) noexcept;

struct fingerprint {
    hash_func hash = hash_func::sha_256;
    std::vector<std::byte> digest; ///< digest_len(hash) octets
    bool operator==(const fingerprint&) const = default;
};

/// Parses the value of `a=fingerprint:` — `hash-func SP fingerprint`, where fingerprint is
/// 2UHEX *(":" 2UHEX) (RFC 8122 §5). Hex digits are accepted in either case (RFC 4572 errata
/// and real peers use both). Leading/trailing blanks are tolerated.
/// Errors: invalid_argument naming what is wrong (no space, unknown or forbidden hash, bad hex
/// pair, wrong digest length for the hash). Thread-safe, pure.
engine::result<fingerprint> parse_fingerprint(std::string_view value);

/// Formats "sha-256 AB:CD:..." with upper-case hex as RFC 8122 §5 writes it. Thread-safe.
std::string format_fingerprint(const fingerprint& fp);

/// Hash of a DER-encoded certificate. Errors: backend_failure if OpenSSL fails. Thread-safe.
engine::result<fingerprint> compute_fingerprint(std::span<const std::byte> cert_der, hash_func h);

/// RFC 8122 §5 matching: among `offered`, take those with the strongest hash we support, and
/// accept `cert_der` if it matches any of them. An empty `offered` never matches. Comparison
/// uses CRYPTO_memcmp (the digest is public, but the habit costs nothing). Thread-safe.
bool fingerprint_matches(std::span<const fingerprint> offered, std::span<const std::byte> cert_der);

} // namespace srtpo::cp::dtls
