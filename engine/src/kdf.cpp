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
    const auto e = srtcp ? kdf_label::srtcp_encryption : kdf_label::srtp_encryption;
    const auto a = srtcp ? kdf_label::srtcp_authentication : kdf_label::srtp_authentication;
    const auto s = srtcp ? kdf_label::srtcp_salting : kdf_label::srtp_salting;
    // n_e = master key length; n_a = 160 bits (RFC 3711 §4.3.1, §8.2); n_s = master salt length.
    if (auto r = prf(master_key, master_salt, e, 0, std::span{k.k_e}.first(t.master_key_len)); !r) return r;
    if (t.auth_key_len)
        if (auto r = prf(master_key, master_salt, a, 0, std::span{k.k_a}.first(t.auth_key_len)); !r) return r;
    if (auto r = prf(master_key, master_salt, s, 0, std::span{k.k_s}.first(t.master_salt_len)); !r) return r;
    if (!srtcp) {
        // RFC 6904 §4.3: header-extension keys, same lengths as k_e and k_s.
        if (auto r = prf(master_key, master_salt, kdf_label::srtp_header_encryption, 0, std::span{k.k_he}.first(t.master_key_len)); !r)
            return r;
        if (auto r = prf(master_key, master_salt, kdf_label::srtp_header_salting, 0, std::span{k.k_hs}.first(t.master_salt_len)); !r)
            return r;
    }
    return {};
}

} // namespace srtpo::engine
