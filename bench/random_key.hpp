#pragma once
// Random SDES keys for the control-plane benchmarks: base64 (RFC 4648 §4) of n random octets.
// Benchmark set-up only (allocates; OpenSSL's RAND_bytes).

#include <openssl/rand.h>

#include <cstddef>
#include <string>
#include <vector>

namespace srtpo::bench {

/// base64 (RFC 4648 §4) of `p`.
inline std::string to_b64(const std::vector<unsigned char>& p) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t n = p.size();
    std::string out;
    for (std::size_t i = 0; i < n; i += 3) {
        const unsigned v = (p[i] << 16) | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += i + 1 < n ? a[(v >> 6) & 63] : '=';
        out += i + 2 < n ? a[v & 63] : '=';
    }
    return out;
}

/// n random octets (OpenSSL's RAND_bytes).
inline std::vector<unsigned char> random_bytes(std::size_t n) {
    std::vector<unsigned char> p(n);
    RAND_bytes(p.data(), static_cast<int>(n));
    return p;
}

inline std::string random_b64_key(std::size_t n) { return to_b64(random_bytes(n)); }

} // namespace srtpo::bench
