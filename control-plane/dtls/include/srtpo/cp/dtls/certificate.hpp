#pragma once
// Our DTLS identity: one long-lived ECDSA P-256 key and self-signed certificate (RFC 5763 §5:
// certificates are self-signed and bound to the call by a=fingerprint, so nothing is gained by
// a fresh key per call, and a stable fingerprint survives restarts and failover).
// Generated on first start and kept in two PEM files created with mode 0600.

#include <srtpo/cp/dtls/fingerprint.hpp>
#include <srtpo/engine/result.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::dtls {

/// An immutable key + certificate pair. Copies share the same OpenSSL objects (reference
/// counted). Thread-safety: const methods may be called from any thread.
class certificate {
public:
    /// A new P-256 key and a self-signed X.509v3 certificate (ecdsa-with-SHA256, random 128-bit
    /// serial, CN = common_name, valid from one day ago for `validity`).
    /// Errors: backend_failure. Thread-safe.
    static engine::result<certificate> generate(std::string_view common_name = "srtpo-cp",
                                                std::chrono::days validity = std::chrono::days{3650});

    /// Loads the pair from PEM files. Errors: io_error if a file cannot be read; invalid_argument
    /// if the key file is readable by group or others (it must be 0600 or stricter), if the
    /// key is not an EC P-256 key, or if key and certificate do not belong together.
    static engine::result<certificate> load(const std::filesystem::path& cert_file,
                                            const std::filesystem::path& key_file);

    /// Loads the pair if both files exist; if neither exists, generates one and saves it. One
    /// file without the other is an error (invalid_argument): never overwrite a key silently.
    /// Thread-safety: not safe against a concurrent call on the same paths (srtpo-cp calls it
    /// once at start).
    static engine::result<certificate> load_or_create(const std::filesystem::path& cert_file,
                                                      const std::filesystem::path& key_file);

    /// Writes both files, each created with O_EXCL and mode 0600 under a temporary name, fsynced
    /// and renamed into place. Errors: io_error (with the path and errno text, never key bytes).
    engine::result<void> save(const std::filesystem::path& cert_file, const std::filesystem::path& key_file) const;

    /// The certificate in DER, what a=fingerprint hashes (RFC 8122 §5).
    std::span<const std::byte> der() const noexcept;
    /// Our a=fingerprint value, e.g. "sha-256 AB:CD:...".
    std::string sdp_fingerprint(hash_func h = hash_func::sha_256) const;

    /// The OpenSSL objects (X509*, EVP_PKEY*), for the DTLS context. Not owned by the caller.
    void* native_x509() const noexcept;
    void* native_pkey() const noexcept;

    struct impl;

private:
    explicit certificate(std::shared_ptr<const impl> p) : _p(std::move(p)) {}
    std::shared_ptr<const impl> _p;
};

} // namespace srtpo::cp::dtls
