#pragma once
// The key agreements of RFC 6189 §5.1.5 on OpenSSL 3 EVP_PKEY: DH3k / DH2k (RFC 3526 MODP
// groups 15 and 14, g = 2), EC25 / EC38 (NIST P-256 / P-384, pv = x || y, DHResult = x), and
// X255 / X448 (RFC 7748, as bzrtp and RFC 6189's registry successors use them).

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/secret.hpp>
#include <srtpo/engine/result.hpp>

#include <memory>
#include <vector>

struct evp_pkey_st;

namespace srtpo::cp::zrtp {

/// One ephemeral key pair. Thread-safety: no shared state; one object per exchange.
/// Ownership: owns the OpenSSL key; the private key is freed (and wiped by OpenSSL) on destruction.
class key_exchange {
public:
    /// Generates a fresh key pair. Errors: unsupported for Mult/Prsh, backend_failure.
    static engine::result<key_exchange> generate(key_agreement ka);
    /// Builds a key pair from a fixed private key (known-answer tests only): raw scalar for X255,
    /// X448, EC25 and EC38. Errors: unsupported for DH groups, invalid_argument for a bad scalar.
    static engine::result<key_exchange> from_private(key_agreement ka, std::span<const uint8_t> priv);

    key_agreement algorithm() const noexcept { return _ka; }
    /// Our public value in wire format, pv_length(ka) octets.
    const std::vector<uint8_t>& public_value() const noexcept { return _pv; }
    /// DHResult from the peer's public value (§4.4.1.4): rejects a wrong length, a DH value of
    /// 0, 1 or p-1, or a point not on the curve (errc::invalid_argument → Error 0x61).
    engine::result<secret> derive(std::span<const uint8_t> peer_pv) const;

private:
    struct pkey_free {
        void operator()(evp_pkey_st* p) const noexcept;
    };
    key_exchange(key_agreement ka, evp_pkey_st* k);
    key_agreement _ka;
    std::unique_ptr<evp_pkey_st, pkey_free> _key;
    std::vector<uint8_t> _pv;
};

} // namespace srtpo::cp::zrtp
