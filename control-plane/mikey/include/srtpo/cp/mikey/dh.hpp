#pragma once
// Diffie-Hellman over the MIKEY DH groups (RFC 3830 §6.4): OAKLEY 5 (1536-bit MODP, RFC 3526
// §2), OAKLEY 1 (768-bit, RFC 2409 §6.1) and OAKLEY 2 (1024-bit, RFC 2409 §6.2), generator 2.
// The shared secret g^(xi*xr) is the TGK (§3.3), left-padded to the modulus length.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>
#include <srtpo/engine/result.hpp>

#include <memory>
#include <span>

namespace srtpo::cp::mikey {

/// One ephemeral key pair. Thread-safety: one object per exchange, not shared.
/// Ownership: owns its OpenSSL key; the private value never leaves the object.
class dh_keypair {
public:
    /// Generates a key pair in `g`. Errors: backend_failure.
    static engine::result<dh_keypair> generate(dh_group g);
    dh_group group() const noexcept { return _g; }
    /// Our public value, dh_value_len(group) octets, big-endian, left-padded.
    const bytes& public_value() const noexcept { return _pub; }
    /// g^(xy) from the peer's public value. Errors: invalid_argument for a value of the wrong
    /// length or outside 2..p-2 (RFC 2631 §2.1.5 style range check); backend_failure.
    engine::result<secret_bytes> shared_secret(std::span<const uint8_t> peer) const;

private:
    struct key_free { void operator()(void* p) const noexcept; };
    dh_group _g = dh_group::oakley5;
    std::unique_ptr<void, key_free> _key; // EVP_PKEY
    bytes _pub;
};

} // namespace srtpo::cp::mikey
