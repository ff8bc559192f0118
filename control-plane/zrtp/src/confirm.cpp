#include <srtpo/cp/zrtp/confirm.hpp>
#include <srtpo/cp/zrtp/crypto.hpp>

#include "wire.hpp"

#include <openssl/evp.h>

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {

constexpr std::size_t confirm_fixed_len = 12 + 8 + 16 + 40; // 19 words without a signature

bool aes_cfb(bool enc, cipher_algo c, std::span<const uint8_t> key, std::span<const uint8_t> iv, std::span<const uint8_t> in,
             std::span<uint8_t> out) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return false;
    int n1 = 0, n2 = 0;
    const bool ok = EVP_CipherInit_ex(ctx, c == cipher_algo::aes3 ? EVP_aes_256_cfb128() : EVP_aes_128_cfb128(), nullptr,
                                      key.data(), iv.data(), enc ? 1 : 0) == 1 &&
                    EVP_CipherUpdate(ctx, out.data(), &n1, in.data(), static_cast<int>(in.size())) == 1 &&
                    EVP_CipherFinal_ex(ctx, out.data() + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok && static_cast<std::size_t>(n1 + n2) == in.size();
}

} // namespace

std::vector<uint8_t> build_confirm(bool second, const confirm_body& b, cipher_algo c, hash_algo h,
                                   std::span<const uint8_t> zrtpkey, std::span<const uint8_t> mackey) {
    // H0 (8 words) | 15 unused bits, 9-bit signature length (0) | 0000EVAD (§5.7).
    std::vector<uint8_t> clear;
    clear.reserve(40);
    wire::put(clear, b.h0);
    clear.push_back(0);
    clear.push_back(0);
    clear.push_back(0);
    clear.push_back(static_cast<uint8_t>((b.pbx_enrollment ? 8 : 0) | (b.sas_verified ? 4 : 0) | (b.allow_clear ? 2 : 0) |
                                         (b.disclosure ? 1 : 0)));
    wire::put32(clear, b.cache_expiration);
    std::array<uint8_t, 16> iv{};
    random_bytes(iv);
    std::vector<uint8_t> enc(clear.size());
    aes_cfb(true, c, zrtpkey, iv, clear, enc);
    OPENSSL_cleanse(clear.data(), clear.size());
    auto mac = hmac(h, mackey, {enc});
    std::vector<uint8_t> m;
    m.reserve(confirm_fixed_len);
    put_message_header(m, second ? message_type::confirm2 : message_type::confirm1, confirm_fixed_len);
    wire::put(m, mac.view().first(8));
    wire::put(m, iv);
    wire::put(m, enc);
    return m;
}

bool open_confirm(std::span<const uint8_t> msg, bool second, cipher_algo c, hash_algo h, std::span<const uint8_t> zrtpkey,
                  std::span<const uint8_t> mackey, confirm_body& out, confirm_error& err) {
    auto fail = [&](confirm_failure w, std::string text) {
        err = confirm_error{w, make_error(errc::invalid_argument, std::move(text))};
        return false;
    };
    auto t = parse_message_header(msg);
    if (!t) return fail(confirm_failure::malformed, t.err().message);
    if (*t != (second ? message_type::confirm2 : message_type::confirm1))
        return fail(confirm_failure::malformed, "zrtp Confirm: wrong type");
    if (msg.size() < confirm_fixed_len) return fail(confirm_failure::malformed, "zrtp Confirm: shorter than 19 words");
    auto enc = msg.subspan(36);
    auto mac = hmac(h, mackey, {enc});
    if (!ct_equal(mac.view().first(8), msg.subspan(12, 8)))
        return fail(confirm_failure::bad_mac, "zrtp Confirm: confirm_mac does not verify");
    secret clear(enc.size());
    if (!aes_cfb(false, c, zrtpkey, msg.subspan(20, 16), enc, clear.span()))
        return fail(confirm_failure::malformed, "zrtp Confirm: decryption failed");
    const auto cv = clear.view();
    const std::size_t sig_words = static_cast<std::size_t>((cv[33] & 0x01) << 8 | cv[34]);
    if (enc.size() != 40 + 4 * sig_words)
        return fail(confirm_failure::malformed, "zrtp Confirm: signature length does not match the message length");
    std::memcpy(out.h0.data(), cv.data(), 32);
    out.pbx_enrollment = cv[35] & 8;
    out.sas_verified = cv[35] & 4;
    out.allow_clear = cv[35] & 2;
    out.disclosure = cv[35] & 1;
    out.cache_expiration = wire::get32(cv, 36);
    return true;
}

} // namespace srtpo::cp::zrtp
