// Which backends exist, which one is the default, and how they are named.

#include "crypto_backend.hpp"

#include <openssl/crypto.h>

#include <array>
#include <string>

#ifdef SRTPO_HAVE_IMB
#include <intel-ipsec-mb.h>
#endif

namespace srtpo::engine {
namespace detail {

std::span<const backend_kind> compiled_backends() noexcept {
#ifdef SRTPO_HAVE_IMB
    static constexpr std::array k{backend_kind::ipsec_mb, backend_kind::openssl};
#else
    static constexpr std::array k{backend_kind::openssl};
#endif
    return k;
}

const crypto_backend* get_backend(backend_kind k) noexcept {
    switch (k) {
    case backend_kind::openssl: return &openssl_backend();
    case backend_kind::ipsec_mb:
#ifdef SRTPO_HAVE_IMB
        return imb_backend();
#else
        return nullptr;
#endif
    }
    return nullptr;
}

} // namespace detail

std::string_view to_string(backend_kind k) noexcept {
    switch (k) {
    case backend_kind::openssl: return "openssl";
    case backend_kind::ipsec_mb: return "ipsec-mb";
    }
    return "unknown";
}

result<backend_kind> backend_from_name(std::string_view n) {
    if (n == "openssl") return backend_kind::openssl;
    if (n == "ipsec-mb" || n == "imb") return backend_kind::ipsec_mb;
    if (n == "auto") return default_backend();
    return make_error(errc::invalid_argument, "unknown backend '" + std::string(n) + "' (expected openssl, ipsec-mb or auto)");
}

bool backend_available(backend_kind k) noexcept { return detail::get_backend(k) != nullptr; }

backend_kind default_backend() noexcept {
    for (auto k : detail::compiled_backends())
        if (backend_available(k)) return k;
    return backend_kind::openssl;
}

std::string_view backend_description(backend_kind k) noexcept {
    switch (k) {
    case backend_kind::openssl: {
        static const std::string d = std::string("openssl ") + OpenSSL_version(OPENSSL_VERSION_STRING);
        return d;
    }
    case backend_kind::ipsec_mb:
#ifdef SRTPO_HAVE_IMB
    {
        extern std::string_view imb_description() noexcept;
        return imb_description();
    }
#else
        return "ipsec-mb (not built)";
#endif
    }
    return "unknown";
}

} // namespace srtpo::engine
