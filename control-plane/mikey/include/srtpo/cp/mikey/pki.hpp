#pragma once
// RSA keys and X.509 certificates for the signed modes (RFC 3830 §3.2, §3.3): our key and
// certificate from PEM files, the peers' trust anchors from a PEM file, SIGN computation and
// verification (RSA PKCS#1 v1.5, §6.5 S type 0, over SHA-256: see docs/adr/0007), and the
// PKE envelope-key encryption of the public-key mode (§3.2).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/engine/result.hpp>

#include <memory>
#include <span>
#include <string>

namespace srtpo::cp::mikey {

/// Our signing identity: an RSA private key and its certificate.
/// Thread-safety: immutable after load; sign() may be called from several threads.
/// Ownership: owns the OpenSSL objects.
class signer {
public:
    /// Loads a PEM private key (the file must not be readable by group or others: 0600) and a
    /// PEM certificate. Errors: io_error (missing file, unsafe mode), invalid_argument (not PEM,
    /// not RSA, key and certificate do not match).
    static engine::result<std::shared_ptr<const signer>> from_pem_files(const std::string& key_path,
                                                                         const std::string& cert_path);
    /// Same from PEM text in memory (tests). Errors as above, without io_error.
    static engine::result<std::shared_ptr<const signer>> from_pem(const std::string& key_pem,
                                                                   const std::string& cert_pem);
    /// The certificate, DER, for a CERT payload.
    const bytes& cert_der() const noexcept { return _cert_der; }
    /// Signature length in octets (the modulus size).
    std::size_t signature_len() const noexcept { return _sig_len; }
    /// RSA PKCS#1 v1.5 / SHA-256 over data. Errors: backend_failure.
    engine::result<bytes> sign(std::span<const uint8_t> data) const;
    /// RSAES-PKCS1-v1_5 decryption of a PKE payload's envelope key (RFC 3830 §3.2).
    /// Errors: invalid_argument ("PKE does not decrypt"), without detail on why.
    engine::result<secret_bytes> decrypt(std::span<const uint8_t> ct) const;

    struct impl;
    ~signer();
    explicit signer(std::unique_ptr<impl> p);
private:
    std::unique_ptr<impl> _p;
    bytes _cert_der;
    std::size_t _sig_len = 0;
};

/// The certificates we accept peers' certificates from (a CA, or the peers' own self-signed
/// certificates, pinned). Thread-safety: immutable after load. Ownership: owns the X509_STORE.
class trust_store {
public:
    /// Loads every certificate of a PEM file. Errors: io_error, invalid_argument (no cert).
    static engine::result<std::shared_ptr<const trust_store>> from_pem_file(const std::string& path);
    static engine::result<std::shared_ptr<const trust_store>> from_pem(const std::string& pem);
    /// Verifies a DER certificate against the store, then the RSA PKCS#1 v1.5 / SHA-256
    /// signature over data with its key. Errors (invalid_argument) name which check failed:
    /// "certificate" (parse or chain) or "signature".
    engine::result<void> verify(std::span<const uint8_t> cert_der, std::span<const uint8_t> data,
                                std::span<const uint8_t> sig) const;

    struct impl;
    ~trust_store();
    explicit trust_store(std::unique_ptr<impl> p);
private:
    std::unique_ptr<impl> _p;
};

/// Encrypts `plain` (the envelope key) with RSAES-PKCS1-v1_5 under the key of a DER
/// certificate (PKE, RFC 3830 §3.2). Thread-safe. Errors: invalid_argument (not one DER
/// certificate, not RSA), backend_failure.
engine::result<bytes> rsa_encrypt_for(std::span<const uint8_t> cert_der, std::span<const uint8_t> plain);
/// DER of the first certificate of PEM text (a peer's certificate from the config).
/// Thread-safe. Errors: invalid_argument.
engine::result<bytes> cert_der_from_pem(const std::string& pem);
/// SHA-1 of octets: the CHASH of a certificate (RFC 3830 §6.8). Thread-safe.
bytes sha1_of(std::span<const uint8_t> data);

/// A pre-shared key from a file named in the config: hex digits (white space ignored), the
/// file not readable by group or others (0600). Thread-safe. Errors: io_error (missing,
/// unsafe mode), invalid_argument (not hex, odd length, empty). Messages never quote the file.
engine::result<secret_bytes> load_psk_file(const std::string& path);

} // namespace srtpo::cp::mikey
