#include <srtpo/cp/zrtp/secret.hpp>

#include <openssl/crypto.h>

namespace srtpo::cp::zrtp {

secret& secret::operator=(const secret& o) {
    if (this != &o) {
        wipe();
        _b = o._b;
    }
    return *this;
}

secret& secret::operator=(secret&& o) noexcept {
    if (this != &o) {
        wipe();
        _b = std::move(o._b);
        o._b.clear();
    }
    return *this;
}

void secret::wipe() noexcept {
    if (!_b.empty()) OPENSSL_cleanse(_b.data(), _b.size());
    _b.clear();
}

bool secret::equals(std::span<const uint8_t> o) const noexcept {
    return o.size() == _b.size() && (o.empty() || CRYPTO_memcmp(o.data(), _b.data(), o.size()) == 0);
}

} // namespace srtpo::cp::zrtp
