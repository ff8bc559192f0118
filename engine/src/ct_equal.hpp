#pragma once
// Constant-time equality of short secrets-dependent byte strings (authentication tags).
//
// RFC 3711 §9.5 and RFC 7714 §14 ask that a receiver give no timing oracle on authentication:
// the time to reject a forged tag must not depend on how many of its octets were right. OpenSSL's
// CRYPTO_memcmp gives that, but as an out-of-line library call it cost ~80 instructions per
// packet in the pmd's profile for a 10-octet tag (docs/PERFORMANCE.md §7.4). Tags are 4 to 16
// octets, so an inline word-wise XOR-OR does the same work in a handful of instructions (ADR 0020).

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace srtpo::engine::detail {

/// Whether a[0..n) == b[0..n), in time that depends on n only. n is public (the suite's tag
/// length). Thread-safety: pure. Ownership: reads both ranges during the call only.
inline bool ct_equal(const void* a, const void* b, std::size_t n) noexcept {
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    uint64_t diff = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        std::memcpy(&u, x + i, 8);
        std::memcpy(&v, y + i, 8);
        diff |= u ^ v;
        // An empty asm that claims to change `diff`: the compiler cannot prove that the result is
        // decided early, so it cannot turn the accumulation into an early-exit comparison.
        asm volatile("" : "+r"(diff));
    }
    for (; i < n; ++i) {
        diff |= static_cast<uint64_t>(x[i] ^ y[i]);
        asm volatile("" : "+r"(diff));
    }
    return diff == 0;
}

} // namespace srtpo::engine::detail
