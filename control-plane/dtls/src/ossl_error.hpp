#pragma once
// OpenSSL's first queued error as text, for error messages (private header). Never key bytes:
// OpenSSL's error strings carry library, function and reason only.

#include <openssl/err.h>

#include <string>

namespace srtpo::cp::dtls::ossl {

/// Thread-safety: reads this thread's OpenSSL error queue.
inline std::string first_error() {
    const unsigned long e = ERR_peek_error();
    if (!e) return "no OpenSSL error recorded";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

} // namespace srtpo::cp::dtls::ossl
