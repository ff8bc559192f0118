// secret_bytes: wipe before release (ARCHITECTURE.md: key material is zeroized when dropped).
#include <srtpo/cp/mikey/bytes.hpp>

#include <openssl/crypto.h>

namespace srtpo::cp::mikey {

secret_bytes& secret_bytes::operator=(const secret_bytes& o) {
    if (this != &o) {
        wipe();
        _b = o._b;
    }
    return *this;
}
secret_bytes& secret_bytes::operator=(secret_bytes&& o) noexcept {
    if (this != &o) {
        wipe();
        _b = std::move(o._b);
        o._b.clear();
    }
    return *this;
}
secret_bytes::~secret_bytes() { wipe(); }
void secret_bytes::wipe() noexcept {
    if (!_b.empty()) OPENSSL_cleanse(_b.data(), _b.size());
    _b.clear();
}
bool secret_bytes::equals(std::span<const uint8_t> o) const noexcept {
    return o.size() == _b.size() && (_b.empty() || CRYPTO_memcmp(_b.data(), o.data(), _b.size()) == 0);
}

} // namespace srtpo::cp::mikey
