// SRTP key derivation: RFC 3711 §4.3 with the AES-CM PRF of §4.3.3.

#include <srtpo/engine/kdf.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <string>

namespace srtpo::engine {

void secure_zero(void* p, std::size_t n) noexcept { OPENSSL_cleanse(p, n); }

session_keys::~session_keys() { secure_zero(this, sizeof *this); }

namespace {
const EVP_CIPHER* ctr_cipher(std::size_t key_len) noexcept {
    switch (key_len) {
    case 16: return EVP_aes_128_ctr();
    case 24: return EVP_aes_192_ctr();
    case 32: return EVP_aes_256_ctr();
    default: return nullptr;
    }
}
} // namespace

result<void> prf(std::span<const std::byte> master_key, std::span<const std::byte> master_salt, kdf_label label,
                 uint64_t r, std::span<std::byte> out) {
    const EVP_CIPHER* cipher = ctr_cipher(master_key.size());
    if (!cipher) return make_error(errc::bad_key_length, "master key must be 16, 24 or 32 octets");
    if (master_salt.size() != 14 && master_salt.size() != 12)
        return make_error(errc::bad_key_length, "master salt must be 14 (or 12 for AEAD) octets");

    // x = key_id XOR master_salt, key_id = label ‖ r (8 + 48 bits), aligned to the salt's least
    // significant end (RFC 3711 §4.3.1). A 96-bit AEAD salt is taken as the high 96 of 112 bits
    // (RFC 7714 §11). The PRF input block is x · 2^16.
    std::array<uint8_t, 16> iv{};
    std::copy_n(reinterpret_cast<const uint8_t*>(master_salt.data()), master_salt.size(), iv.begin());
    iv[7] ^= static_cast<uint8_t>(label);
    for (int i = 0; i < 6; ++i) iv[13 - i] ^= static_cast<uint8_t>(r >> (8 * i));

    std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
    if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher, reinterpret_cast<const unsigned char*>(master_key.data()), iv.data(),
                                    nullptr) != 1)
        return make_error(errc::backend_failure, "OpenSSL AES-CTR init failed in key derivation");
    std::fill(out.begin(), out.end(), std::byte{0});
    int outl = 0;
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (EVP_EncryptUpdate(ctx.get(), o, &outl, o, static_cast<int>(out.size())) != 1)
        return make_error(errc::backend_failure, "OpenSSL AES-CTR failed in key derivation");
    return {};
}

result<void> derive_session_keys(const suite_traits& t, std::span<const std::byte> master_key,
                                 std::span<const std::byte> master_salt, bool srtcp, session_keys& k) {
    if (master_key.size() != t.master_key_len || master_salt.size() != t.master_salt_len)
        return make_error(errc::bad_key_length, "master key or salt length does not match " + std::string(t.name));
    // Fetched once: an implicit fetch (EVP_aes_*_ecb()) takes OpenSSL's provider lock on every init,
    // which showed in srtpo-cp's bulk installs.
    static EVP_CIPHER* const ecb_ciphers[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr),
                                               EVP_CIPHER_fetch(nullptr, "AES-192-ECB", nullptr),
                                               EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr)};
    const EVP_CIPHER* ecb = ecb_ciphers[t.master_key_len == 16 ? 0 : t.master_key_len == 24 ? 1 : 2];
    // n_e = master key length; n_a = 160 bits (RFC 3711 §4.3.1, §8.2); n_s = master salt length;
    // RFC 6904 §4.3 header-extension keys (SRTP only) have the lengths of k_e and k_s.
    struct output {
        kdf_label label;
        std::span<std::byte> out;
    };
    std::array<output, 5> outs{};
    std::size_t n = 0;
    outs[n++] = {srtcp ? kdf_label::srtcp_encryption : kdf_label::srtp_encryption, std::span{k.k_e}.first(t.master_key_len)};
    if (t.auth_key_len)
        outs[n++] = {srtcp ? kdf_label::srtcp_authentication : kdf_label::srtp_authentication, std::span{k.k_a}.first(t.auth_key_len)};
    outs[n++] = {srtcp ? kdf_label::srtcp_salting : kdf_label::srtp_salting, std::span{k.k_s}.first(t.master_salt_len)};
    if (!srtcp) {
        outs[n++] = {kdf_label::srtp_header_encryption, std::span{k.k_he}.first(t.master_key_len)};
        outs[n++] = {kdf_label::srtp_header_salting, std::span{k.k_hs}.first(t.master_salt_len)};
    }
    // The AES-CM PRF of every label at once (control path, but srtpo-cp installs flows in bulk):
    // the keystream blocks AES(x_label · 2^16 + j) are independent, so they are computed as one
    // ECB call under one key schedule instead of one CTR context per label. Same bytes as prf().
    constexpr std::size_t max_blocks = 2 + 2 + 1 + 2 + 1; // k_e 32, k_a 20, k_s 14, k_he 32, k_hs 14
    std::array<uint8_t, 16 * max_blocks> blocks{};
    std::size_t nb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j * 16 < outs[i].out.size(); ++j, ++nb) {
            uint8_t* b = blocks.data() + 16 * nb;
            std::copy_n(reinterpret_cast<const uint8_t*>(master_salt.data()), master_salt.size(), b);
            b[7] ^= static_cast<uint8_t>(outs[i].label); // key_id = label || r with r = 0 (KDR 0), §4.3.1
            b[14] = static_cast<uint8_t>(j >> 8);
            b[15] = static_cast<uint8_t>(j);
        }
    }
    std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
    int outl = 0;
    const auto len = static_cast<int>(16 * nb);
    const bool ok = ctx && ecb && EVP_EncryptInit_ex2(ctx.get(), ecb, reinterpret_cast<const unsigned char*>(master_key.data()), nullptr, nullptr) == 1 &&
                    EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 && EVP_EncryptUpdate(ctx.get(), blocks.data(), &outl, blocks.data(), len) == 1 &&
                    outl == len;
    if (!ok) {
        secure_zero(blocks.data(), blocks.size());
        return make_error(errc::backend_failure, "OpenSSL AES-ECB failed in key derivation");
    }
    const uint8_t* ks = blocks.data();
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(reinterpret_cast<const std::byte*>(ks), outs[i].out.size(), outs[i].out.begin());
        ks += 16 * ((outs[i].out.size() + 15) / 16);
    }
    secure_zero(blocks.data(), blocks.size());
    return {};
}

} // namespace srtpo::engine
