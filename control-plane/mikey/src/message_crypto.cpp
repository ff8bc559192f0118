// KEMAC AES-CM-128 (RFC 3830 §4.2.3) and HMAC-SHA-1-160 (§4.2.1) on OpenSSL EVP.
#include <srtpo/cp/mikey/message_crypto.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>

namespace srtpo::cp::mikey {

engine::result<std::array<uint8_t, 16>> kemac_iv(std::span<const uint8_t> salt, uint32_t csb_id,
                                                 std::span<const uint8_t> t_value) {
    if (salt.size() != 14 || t_value.size() > 8)
        return engine::make_error(engine::errc::invalid_argument, "KEMAC IV: salt must be 14 octets, T at most 8");
    std::array<uint8_t, 16> iv{};
    // 0x0000 || CSB ID || T in 14 octets, T right-aligned.
    for (int i = 0; i < 4; ++i) iv[static_cast<std::size_t>(2 + i)] = static_cast<uint8_t>(csb_id >> (24 - 8 * i));
    for (std::size_t i = 0; i < t_value.size(); ++i) iv[14 - t_value.size() + i] = t_value[i];
    for (std::size_t i = 0; i < 14; ++i) iv[i] ^= salt[i];
    return iv;
}

engine::result<secret_bytes> aes_cm_128(std::span<const uint8_t> key, const std::array<uint8_t, 16>& iv,
                                        std::span<const uint8_t> in) {
    if (key.size() != 16) return engine::make_error(engine::errc::invalid_argument, "AES-CM-128: key must be 16 octets");
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    secret_bytes out(in.size());
    int n = 0, f = 0;
    if (!c || !EVP_EncryptInit_ex(c.get(), EVP_aes_128_ctr(), nullptr, key.data(), iv.data()) ||
        (!in.empty() && !EVP_EncryptUpdate(c.get(), out.mut().data(), &n, in.data(), static_cast<int>(in.size()))) ||
        !EVP_EncryptFinal_ex(c.get(), out.mut().data() + n, &f))
        return engine::make_error(engine::errc::backend_failure, "AES-CM-128: OpenSSL failed");
    return out;
}

engine::result<bytes> hmac_sha1(std::span<const uint8_t> key, std::span<const uint8_t> data) {
    bytes out(20);
    unsigned len = 0;
    if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len) || len != 20)
        return engine::make_error(engine::errc::backend_failure, "HMAC-SHA-1: OpenSSL failed");
    return out;
}

bool hmac_sha1_verify(std::span<const uint8_t> key, std::span<const uint8_t> data, std::span<const uint8_t> mac) noexcept {
    uint8_t expect[20];
    unsigned len = 0;
    if (mac.size() != 20 ||
        !HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), expect, &len))
        return false;
    return CRYPTO_memcmp(expect, mac.data(), 20) == 0;
}

engine::result<bytes> random_bytes(std::size_t n) {
    bytes b(n);
    if (n && RAND_bytes(b.data(), static_cast<int>(n)) != 1)
        return engine::make_error(engine::errc::backend_failure, "RAND_bytes failed");
    return b;
}

} // namespace srtpo::cp::mikey
