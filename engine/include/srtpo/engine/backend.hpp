#pragma once
// Crypto backends. The backend is chosen when a session is built (ARCHITECTURE.md principle 4,
// "decide once, at install") and never checked per packet.

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <string_view>

namespace srtpo::engine {

enum class backend_kind : uint8_t {
    openssl,  ///< OpenSSL 3 reference backend: every suite, one packet per library call
    ipsec_mb, ///< Intel IPsec-MB multi-buffer fast path (AES-CM, HMAC-SHA1, AES-GCM)
};

/// "openssl" or "ipsec-mb". Thread-safe.
std::string_view to_string(backend_kind k) noexcept;

/// Parses "openssl", "ipsec-mb" (or "imb"), or "auto" (= default_backend()).
result<backend_kind> backend_from_name(std::string_view name);

/// Whether this build and this CPU can run the backend. Thread-safe; probes once.
bool backend_available(backend_kind k) noexcept;

/// The fastest available backend: IPsec-MB where the build and CPU support it, else OpenSSL.
backend_kind default_backend() noexcept;

/// A line for start-up logs, e.g. "ipsec-mb 1.3.0 (avx512)" or "openssl 3.0.11". Thread-safe.
std::string_view backend_description(backend_kind k) noexcept;

} // namespace srtpo::engine
