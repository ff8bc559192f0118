#include <srtpo/cp/dtls/fingerprint.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace srtpo::cp::dtls {
namespace {

struct hash_info {
    hash_func h;
    std::string_view name;
    std::size_t len;
    const EVP_MD* (*md)();
};

// Ordered weakest to strongest: fingerprint_matches() picks the last one offered.
constexpr std::array<hash_info, 5> hashes{{
    {hash_func::sha_1, "sha-1", 20, &EVP_sha1},
    {hash_func::sha_224, "sha-224", 28, &EVP_sha224},
    {hash_func::sha_256, "sha-256", 32, &EVP_sha256},
    {hash_func::sha_384, "sha-384", 48, &EVP_sha384},
    {hash_func::sha_512, "sha-512", 64, &EVP_sha512},
}};

const hash_info& info(hash_func h) noexcept { return hashes[static_cast<std::size_t>(h)]; }

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::string_view hash_name(hash_func h) noexcept { return info(h).name; }
std::size_t digest_len(hash_func h) noexcept { return info(h).len; }

std::optional<hash_func> hash_from_name(std::string_view token) noexcept {
    for (const auto& i : hashes) {
        if (i.name.size() != token.size()) continue;
        if (std::equal(token.begin(), token.end(), i.name.begin(),
                       [](char a, char b) { return lower(a) == b; }))
            return i.h;
    }
    return std::nullopt;
}

engine::result<fingerprint> parse_fingerprint(std::string_view value) {
    using engine::errc;
    using engine::make_error;
    value = trim(value);
    const auto sp = value.find(' ');
    if (sp == std::string_view::npos)
        return make_error(errc::invalid_argument, "fingerprint: expected 'hash-func SP hex'");
    const auto token = value.substr(0, sp);
    const auto hex = trim(value.substr(sp + 1));
    const auto h = hash_from_name(token);
    if (!h) return make_error(errc::invalid_argument, "fingerprint: unsupported hash function '" +
                                                          std::string(token.substr(0, 16)) + "'");
    fingerprint fp{*h, {}};
    const std::size_t want = digest_len(*h);
    // 2UHEX *(":" 2UHEX): exactly 3n-1 characters.
    if (hex.size() != want * 3 - 1)
        return make_error(errc::invalid_argument, "fingerprint: " + std::string(hash_name(*h)) + " needs " +
                                                      std::to_string(want) + " hex pairs");
    fp.digest.reserve(want);
    for (std::size_t i = 0; i < want; ++i) {
        const std::size_t at = i * 3;
        const int hi = hex_value(hex[at]);
        const int lo = hex_value(hex[at + 1]);
        if (hi < 0 || lo < 0)
            return make_error(errc::invalid_argument, "fingerprint: bad hex pair " + std::to_string(i + 1));
        if (i + 1 < want && hex[at + 2] != ':')
            return make_error(errc::invalid_argument, "fingerprint: expected ':' after pair " + std::to_string(i + 1));
        fp.digest.push_back(static_cast<std::byte>(hi << 4 | lo));
    }
    return fp;
}

std::string format_fingerprint(const fingerprint& fp) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string s(hash_name(fp.hash));
    s += ' ';
    for (std::size_t i = 0; i < fp.digest.size(); ++i) {
        if (i) s += ':';
        const auto b = static_cast<uint8_t>(fp.digest[i]);
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

engine::result<fingerprint> compute_fingerprint(std::span<const std::byte> cert_der, hash_func h) {
    fingerprint fp{h, std::vector<std::byte>(digest_len(h))};
    unsigned int n = 0;
    if (EVP_Digest(cert_der.data(), cert_der.size(), reinterpret_cast<unsigned char*>(fp.digest.data()), &n,
                   info(h).md(), nullptr) != 1 ||
        n != fp.digest.size())
        return engine::make_error(engine::errc::backend_failure, "fingerprint: EVP_Digest failed");
    return fp;
}

bool fingerprint_matches(std::span<const fingerprint> offered, std::span<const std::byte> cert_der) {
    std::optional<hash_func> best;
    for (const auto& f : offered)
        if (!best || static_cast<uint8_t>(f.hash) > static_cast<uint8_t>(*best)) best = f.hash;
    if (!best) return false;
    auto ours = compute_fingerprint(cert_der, *best);
    if (!ours) return false;
    bool match = false;
    for (const auto& f : offered)
        if (f.hash == *best && f.digest.size() == ours->digest.size() &&
            CRYPTO_memcmp(f.digest.data(), ours->digest.data(), f.digest.size()) == 0)
            match = true;
    return match;
}

} // namespace srtpo::cp::dtls
