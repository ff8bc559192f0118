#pragma once
// Random SDES keys for the control-plane benchmarks: base64 (RFC 4648 §4) of n random octets.
// Benchmark set-up only (allocates; OpenSSL's RAND_bytes).

#include <openssl/rand.h>

#include <cstddef>
#include <string>
#include <vector>

namespace srtpo::bench {

inline std::string random_b64_key(std::size_t n) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<unsigned char> p(n);
    RAND_bytes(p.data(), static_cast<int>(n));
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

} // namespace srtpo::bench
