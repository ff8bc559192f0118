#include <srtpo/cp/zrtp/crypto.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace srtpo::cp::zrtp {
namespace {

const char* md_name(hash_algo h) noexcept { return h == hash_algo::s384 ? "SHA384" : "SHA256"; }

struct mac_ctx_free {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

// OpenSSL failing to hash is a broken process (out of memory, FIPS self-test failure): abort
// rather than hand out a wrong key.
[[noreturn]] void crypto_abort() { std::abort(); }

secret hmac_raw(const char* md, bytes_view key, std::initializer_list<bytes_view> parts) {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) crypto_abort();
    std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx(EVP_MAC_CTX_new(mac));
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(md), 0),
                           OSSL_PARAM_construct_end()};
    static const uint8_t empty_key = 0;
    if (!ctx || !EVP_MAC_init(ctx.get(), key.empty() ? &empty_key : key.data(), key.size(), params)) crypto_abort();
    for (auto p : parts)
        if (!p.empty() && !EVP_MAC_update(ctx.get(), p.data(), p.size())) crypto_abort();
    secret out(EVP_MAX_MD_SIZE);
    std::size_t n = 0;
    if (!EVP_MAC_final(ctx.get(), out.data(), &n, out.size())) crypto_abort();
    secret r(out.view().first(n));
    return r;
}

} // namespace

std::vector<uint8_t> digest(hash_algo h, std::initializer_list<bytes_view> parts) {
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, h == hash_algo::s384 ? EVP_sha384() : EVP_sha256(), nullptr)) crypto_abort();
    for (auto p : parts)
        if (!p.empty() && !EVP_DigestUpdate(c, p.data(), p.size())) crypto_abort();
    std::vector<uint8_t> out(hash_length(h));
    unsigned n = 0;
    if (!EVP_DigestFinal_ex(c, out.data(), &n)) crypto_abort();
    EVP_MD_CTX_free(c);
    return out;
}

std::array<uint8_t, 32> sha256(bytes_view data) {
    auto d = digest(hash_algo::s256, {data});
    std::array<uint8_t, 32> a{};
    std::copy(d.begin(), d.end(), a.begin());
    return a;
}

secret hmac(hash_algo h, bytes_view key, std::initializer_list<bytes_view> parts) {
    return hmac_raw(md_name(h), key, parts);
}

std::array<uint8_t, 8> message_mac(bytes_view key, bytes_view message) {
    auto m = hmac_raw("SHA256", key, {message});
    std::array<uint8_t, 8> a{};
    std::copy_n(m.data(), 8, a.begin());
    return a;
}

secret kdf(hash_algo h, bytes_view ki, std::string_view label, bytes_view context, std::size_t out_len) {
    const uint8_t i[4] = {0, 0, 0, 1};
    const uint8_t zero = 0;
    const auto bits = static_cast<uint32_t>(out_len * 8);
    const uint8_t l[4] = {static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
                          static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
    auto full = hmac(h, ki, {bytes_view(i), bytes_view(reinterpret_cast<const uint8_t*>(label.data()), label.size()),
                             bytes_view(&zero, 1), context, bytes_view(l)});
    return secret(full.view().first(std::min(out_len, full.size())));
}

void random_bytes(std::span<uint8_t> out) {
    if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) crypto_abort();
}

bool ct_equal(bytes_view a, bytes_view b) noexcept {
    return a.size() == b.size() && (a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

} // namespace srtpo::cp::zrtp
