// OpenSSL 3 reference backend: every suite, one library call per packet.
//
// It keeps no expanded keys: each job re-keys a cipher context the worker owns (no allocation —
// EVP_*Init_ex2 with a NULL cipher reuses the context). That is slower than pre-expanding, and
// deliberate: this backend is the readable reference the fast path is checked against.

#include "crypto_backend.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include <array>
#include <cstring>

namespace srtpo::engine::detail {
namespace {

using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;
using mac_ptr = std::unique_ptr<EVP_MAC_CTX, void (*)(EVP_MAC_CTX*)>;

ctx_ptr new_ctx(const EVP_CIPHER* c) {
    ctx_ptr p{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
    if (p && EVP_EncryptInit_ex2(p.get(), c, nullptr, nullptr, nullptr) != 1) p.reset();
    if (p) EVP_CIPHER_CTX_set_padding(p.get(), 0);
    return p;
}

auto u8(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }
auto u8(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }

class ossl_worker final : public backend_worker {
public:
    bool init() {
        ctr128 = new_ctx(EVP_aes_128_ctr());
        ctr192 = new_ctx(EVP_aes_192_ctr());
        ctr256 = new_ctx(EVP_aes_256_ctr());
        ecb128 = new_ctx(EVP_aes_128_ecb());
        gcm128 = new_ctx(EVP_aes_128_gcm());
        gcm256 = new_ctx(EVP_aes_256_gcm());
        EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        if (!mac) return false;
        hmac = mac_ptr{EVP_MAC_CTX_new(mac), EVP_MAC_CTX_free};
        EVP_MAC_free(mac);
        if (!hmac) return false;
        char sha1[] = "SHA1";
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha1, 0), OSSL_PARAM_construct_end()};
        if (EVP_MAC_CTX_set_params(hmac.get(), params) != 1) return false;
        return ctr128 && ctr192 && ctr256 && ecb128 && gcm128 && gcm256;
    }

    void keystream_xor(const suite_traits& t, std::span<crypto_job> jobs) noexcept override {
        if (t.cipher == cipher_kind::aes_f8) {
            for (auto& j : jobs) f8(j);
            return;
        }
        EVP_CIPHER_CTX* c = t.master_key_len == 16 ? ctr128.get() : t.master_key_len == 24 ? ctr192.get() : ctr256.get();
        for (auto& j : jobs) {
            const auto& key = j.header_keys ? j.keys->raw.k_he : j.keys->raw.k_e;
            int outl = 0;
            if (EVP_EncryptInit_ex2(c, nullptr, u8(key.data()), j.iv.data(), nullptr) != 1 ||
                EVP_EncryptUpdate(c, u8(j.data), &outl, u8(j.data), static_cast<int>(j.data_len)) != 1)
                j.failed = true;
        }
    }

    void hmac_sha1(const suite_traits&, std::span<crypto_job> jobs) noexcept override {
        for (auto& j : jobs) {
            std::size_t outl = 0;
            if (EVP_MAC_init(hmac.get(), u8(j.keys->raw.k_a.data()), j.keys->raw.k_a.size(), nullptr) != 1 ||
                EVP_MAC_update(hmac.get(), u8(j.auth), j.auth_len) != 1 || EVP_MAC_final(hmac.get(), u8(j.tag), &outl, 20) != 1)
                j.failed = true;
        }
    }

    void gcm(const suite_traits& t, bool encrypt, std::span<crypto_job> jobs) noexcept override {
        EVP_CIPHER_CTX* c = t.master_key_len == 16 ? gcm128.get() : gcm256.get();
        for (auto& j : jobs) {
            int outl = 0;
            const auto* key = u8(j.keys->raw.k_e.data());
            bool ok;
            if (encrypt) {
                ok = EVP_EncryptInit_ex2(c, nullptr, key, j.iv.data(), nullptr) == 1 &&
                     EVP_EncryptUpdate(c, nullptr, &outl, u8(j.auth), static_cast<int>(j.auth_len)) == 1 &&
                     (j.data_len == 0 || EVP_EncryptUpdate(c, u8(j.data), &outl, u8(j.data), static_cast<int>(j.data_len)) == 1) &&
                     EVP_EncryptFinal_ex(c, nullptr, &outl) == 1 &&
                     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, j.tag) == 1;
                j.failed = !ok;
            } else {
                // OpenSSL verifies the tag itself in Final (in constant time).
                ok = EVP_DecryptInit_ex2(c, nullptr, key, j.iv.data(), nullptr) == 1 &&
                     EVP_DecryptUpdate(c, nullptr, &outl, u8(j.auth), static_cast<int>(j.auth_len)) == 1 &&
                     (j.data_len == 0 || EVP_DecryptUpdate(c, u8(j.data), &outl, u8(j.data), static_cast<int>(j.data_len)) == 1) &&
                     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, j.tag) == 1;
                j.auth_ok = ok && EVP_DecryptFinal_ex(c, nullptr, &outl) == 1;
                j.failed = !ok;
            }
        }
    }

private:
    /// AES-f8 (RFC 3711 §4.1.2): IV' = E(k_e ⊕ m, IV), m = k_s ‖ 0x55…; S(j) = E(k_e, IV' ⊕ j ⊕ S(j−1)).
    void f8(crypto_job& j) noexcept {
        std::array<uint8_t, 16> masked_key, ivp, s{}, in;
        const auto& ke = j.keys->raw.k_e;
        const auto& ks = j.keys->raw.k_s;
        for (std::size_t i = 0; i < 16; ++i)
            masked_key[i] = static_cast<uint8_t>(static_cast<uint8_t>(ke[i]) ^ (i < 14 ? static_cast<uint8_t>(ks[i]) : 0x55u));
        int outl = 0;
        bool ok = EVP_EncryptInit_ex2(ecb128.get(), nullptr, masked_key.data(), nullptr, nullptr) == 1 &&
                  EVP_EncryptUpdate(ecb128.get(), ivp.data(), &outl, j.iv.data(), 16) == 1 &&
                  EVP_EncryptInit_ex2(ecb128.get(), nullptr, u8(ke.data()), nullptr, nullptr) == 1;
        OPENSSL_cleanse(masked_key.data(), masked_key.size());
        for (uint32_t off = 0, blk = 0; ok && off < j.data_len; off += 16, ++blk) {
            for (std::size_t i = 0; i < 16; ++i) in[i] = static_cast<uint8_t>(ivp[i] ^ s[i]);
            for (int b = 0; b < 4; ++b) in[15 - b] ^= static_cast<uint8_t>(blk >> (8 * b));
            ok = EVP_EncryptUpdate(ecb128.get(), s.data(), &outl, in.data(), 16) == 1;
            const uint32_t n = std::min<uint32_t>(16, j.data_len - off);
            for (uint32_t i = 0; i < n; ++i) j.data[off + i] ^= std::byte{s[i]};
        }
        OPENSSL_cleanse(s.data(), s.size());
        j.failed = !ok;
    }

    ctx_ptr ctr128{nullptr, EVP_CIPHER_CTX_free}, ctr192{nullptr, EVP_CIPHER_CTX_free}, ctr256{nullptr, EVP_CIPHER_CTX_free},
        ecb128{nullptr, EVP_CIPHER_CTX_free}, gcm128{nullptr, EVP_CIPHER_CTX_free}, gcm256{nullptr, EVP_CIPHER_CTX_free};
    mac_ptr hmac{nullptr, EVP_MAC_CTX_free};
};

class ossl_backend final : public crypto_backend {
public:
    backend_kind kind() const noexcept override { return backend_kind::openssl; }
    bool supports(const suite_traits&) const noexcept override { return true; }
    std::size_t expanded_size(const suite_traits&) const noexcept override { return 0; }
    result<void> expand(const suite_traits&, key_block&) const override { return {}; }
    result<std::unique_ptr<backend_worker>> make_worker() const override {
        auto w = std::make_unique<ossl_worker>();
        if (!w->init()) return make_error(errc::backend_failure, "OpenSSL: cannot create cipher/MAC contexts");
        return std::unique_ptr<backend_worker>{std::move(w)};
    }
};

} // namespace

const crypto_backend& openssl_backend() noexcept {
    static const ossl_backend b;
    return b;
}

} // namespace srtpo::engine::detail
