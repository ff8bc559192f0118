#pragma once
// Heap storage for ZRTP secrets (DH results, s0, mackeys, rs1/rs2, H0) that wipes itself: the
// sizes vary with the negotiated hash (32 or 48 octets), so engine::key_salt_buffer is too small.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::zrtp {

/// Owning, self-wiping byte buffer. Thread-safety: a value type, no sharing.
class secret {
public:
    secret() = default;
    explicit secret(std::size_t n) : _b(n) {}
    explicit secret(std::span<const uint8_t> s) : _b(s.begin(), s.end()) {}
    /// Takes over `v`'s buffer, so that no unwiped copy is left behind.
    explicit secret(std::vector<uint8_t>&& v) noexcept : _b(std::move(v)) {}
    secret(const secret& o) : _b(o._b) {}
    secret& operator=(const secret& o);
    secret(secret&& o) noexcept : _b(std::move(o._b)) { o._b.clear(); }
    secret& operator=(secret&& o) noexcept;
    ~secret() { wipe(); }

    uint8_t* data() noexcept { return _b.data(); }
    const uint8_t* data() const noexcept { return _b.data(); }
    std::size_t size() const noexcept { return _b.size(); }
    bool empty() const noexcept { return _b.empty(); }
    std::span<const uint8_t> view() const noexcept { return _b; }
    std::span<uint8_t> span() noexcept { return _b; }
    /// Wipes and empties.
    void wipe() noexcept;
    /// Constant-time equality (CRYPTO_memcmp); lengths are not secret.
    bool equals(std::span<const uint8_t> o) const noexcept;

private:
    std::vector<uint8_t> _b;
};

} // namespace srtpo::cp::zrtp
