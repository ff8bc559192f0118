#include <srtpo/cp/ice/stun_integrity.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

namespace srtpo::cp::ice {
namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
        uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
    return t;
}
constexpr auto crc_table = make_crc_table();

struct mac_ctx_free {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

} // namespace

uint32_t crc32(std::span<const std::byte> data) noexcept {
    uint32_t c = 0xFFFFFFFFu;
    for (auto b : data) c = crc_table[(c ^ static_cast<uint8_t>(b)) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

engine::result<std::array<std::byte, 20>> compute_message_integrity(std::span<const std::byte> msg,
                                                                    std::size_t mi_offset,
                                                                    std::span<const std::byte> key) {
    if (mi_offset < header_len || mi_offset > msg.size() || (mi_offset - header_len) > 0xffff - 24)
        return engine::make_error(engine::errc::invalid_argument, "stun: MESSAGE-INTEGRITY offset out of range");
    // The header as if the message ended right after MESSAGE-INTEGRITY (RFC 8489 §14.5).
    std::array<unsigned char, header_len> hdr;
    std::copy_n(reinterpret_cast<const unsigned char*>(msg.data()), header_len, hdr.begin());
    const auto adj = static_cast<uint16_t>(mi_offset - header_len + 24);
    hdr[2] = static_cast<unsigned char>(adj >> 8);
    hdr[3] = static_cast<unsigned char>(adj & 0xff);

    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr); // fetched once, kept
    std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx(hmac ? EVP_MAC_CTX_new(hmac) : nullptr);
    char digest[] = "SHA1";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    std::array<std::byte, 20> out{};
    std::size_t n = 0;
    // An empty key is legal HMAC input but OpenSSL wants a non-null pointer.
    static const unsigned char empty = 0;
    const auto* k = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
    if (!ctx || EVP_MAC_init(ctx.get(), k, key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), hdr.data(), hdr.size()) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(msg.data()) + header_len,
                       mi_offset - header_len) != 1 ||
        EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, out.size()) != 1 || n != out.size())
        return engine::make_error(engine::errc::backend_failure, "stun: HMAC-SHA1 failed");
    return out;
}

integrity_status check_message_integrity(const stun_message& m, std::span<const std::byte> key) {
    const auto* a = m.find(attr::message_integrity);
    if (!a) return integrity_status::absent;
    auto mac = compute_message_integrity(m.raw, a->offset, key);
    if (!mac || a->value.size() != mac->size()) return integrity_status::mismatch;
    return CRYPTO_memcmp(mac->data(), a->value.data(), mac->size()) == 0 ? integrity_status::ok
                                                                        : integrity_status::mismatch;
}

integrity_status check_fingerprint(const stun_message& m) {
    const auto* a = m.find(attr::fingerprint);
    if (!a) return integrity_status::absent;
    const uint32_t want = crc32(m.raw.first(a->offset)) ^ fingerprint_xor;
    uint32_t got = 0;
    for (auto b : a->value) got = got << 8 | static_cast<uint8_t>(b);
    return got == want ? integrity_status::ok : integrity_status::mismatch;
}

} // namespace srtpo::cp::ice
