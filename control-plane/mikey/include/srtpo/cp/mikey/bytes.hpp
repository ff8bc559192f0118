#pragma once
// Octet strings of the MIKEY codec, and the self-wiping kind that holds key material.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::mikey {

using bytes = std::vector<uint8_t>;

/// Octets that are wiped (OPENSSL_cleanse) before their storage is released: TGKs, TEKs, salts,
/// pre-shared keys, DH secrets. Thread-safety: a value type. Ownership: owns its heap buffer;
/// moving leaves the source empty, copying makes a second wiped-on-drop copy.
class secret_bytes {
public:
    secret_bytes() = default;
    explicit secret_bytes(std::span<const uint8_t> b) : _b(b.begin(), b.end()) {}
    explicit secret_bytes(std::size_t n) : _b(n, 0) {}
    secret_bytes(const secret_bytes& o) : _b(o._b) {}
    secret_bytes(secret_bytes&& o) noexcept : _b(std::move(o._b)) { o._b.clear(); }
    secret_bytes& operator=(const secret_bytes& o);
    secret_bytes& operator=(secret_bytes&& o) noexcept;
    ~secret_bytes();

    std::span<const uint8_t> view() const noexcept { return _b; }
    std::span<uint8_t> mut() noexcept { return _b; }
    const uint8_t* data() const noexcept { return _b.data(); }
    std::size_t size() const noexcept { return _b.size(); }
    bool empty() const noexcept { return _b.empty(); }
    /// Constant-time equality of contents (CRYPTO_memcmp); lengths are not secret.
    bool equals(std::span<const uint8_t> o) const noexcept;
    void wipe() noexcept;

private:
    std::vector<uint8_t> _b;
};

} // namespace srtpo::cp::mikey
