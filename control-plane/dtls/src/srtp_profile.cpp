#include <srtpo/cp/dtls/srtp_profile.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

namespace srtpo::cp::dtls {
namespace {

struct profile_name {
    engine::suite s;
    std::string_view name;
};

// OpenSSL 3.0 ssl/d1_srtp.c names. GnuTLS spells them SRTP_AES128_CM_HMAC_SHA1_80 etc.
constexpr std::array<profile_name, 4> names{{
    {engine::suite::aes_cm_128_hmac_sha1_80, "SRTP_AES128_CM_SHA1_80"},
    {engine::suite::aes_cm_128_hmac_sha1_32, "SRTP_AES128_CM_SHA1_32"},
    {engine::suite::aead_aes_128_gcm, "SRTP_AEAD_AES_128_GCM"},
    {engine::suite::aead_aes_256_gcm, "SRTP_AEAD_AES_256_GCM"},
}};

constexpr std::array<profile_name, 6> rfc_names{{
    {engine::suite::aes_cm_128_hmac_sha1_80, "SRTP_AES128_CM_HMAC_SHA1_80"},
    {engine::suite::aes_cm_128_hmac_sha1_32, "SRTP_AES128_CM_HMAC_SHA1_32"},
    {engine::suite::null_hmac_sha1_80, "SRTP_NULL_HMAC_SHA1_80"},
    {engine::suite::null_hmac_sha1_32, "SRTP_NULL_HMAC_SHA1_32"},
    {engine::suite::aead_aes_128_gcm, "SRTP_AEAD_AES_128_GCM"},
    {engine::suite::aead_aes_256_gcm, "SRTP_AEAD_AES_256_GCM"},
}};

uint16_t be16(std::span<const std::byte> b, std::size_t at) noexcept {
    return static_cast<uint16_t>(static_cast<unsigned>(b[at]) << 8 | static_cast<unsigned>(b[at + 1]));
}

} // namespace

std::vector<engine::suite> default_profiles() {
    return {engine::suite::aead_aes_128_gcm, engine::suite::aead_aes_256_gcm,
            engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32};
}

std::optional<std::string_view> openssl_profile_name(engine::suite s) noexcept {
    for (const auto& n : names)
        if (n.s == s) return n.name;
    return std::nullopt;
}

std::optional<std::string_view> rfc_profile_name(engine::suite s) noexcept {
    for (const auto& n : rfc_names)
        if (n.s == s) return n.name;
    return std::nullopt;
}

engine::result<void> check_profile_list(std::span<const engine::suite> order) {
    using engine::errc;
    if (order.empty()) return engine::make_error(errc::invalid_argument, "srtp profiles: empty list");
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto name = rfc_profile_name(order[i]);
        if (!name) {
            const auto* t = engine::traits_of(order[i]);
            return engine::make_error(errc::invalid_argument, "srtp profiles: " +
                                                                  std::string(t ? t->name : "unknown suite") +
                                                                  " has no DTLS-SRTP profile");
        }
        if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i), order[i]) !=
            order.begin() + static_cast<std::ptrdiff_t>(i))
            return engine::make_error(errc::invalid_argument, "srtp profiles: " + std::string(*name) + " listed twice");
    }
    return {};
}

std::optional<engine::suite> suite_from_profile_id(uint16_t id) noexcept {
    for (auto s : dtls_srtp_suites)
        if (static_cast<uint16_t>(s) == id) return s;
    return std::nullopt;
}

engine::result<std::string> openssl_profile_list(std::span<const engine::suite> order) {
    using engine::errc;
    if (order.empty()) return engine::make_error(errc::invalid_argument, "srtp profiles: empty list");
    std::string out;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto name = openssl_profile_name(order[i]);
        if (!name)
            return engine::make_error(errc::invalid_argument,
                                      "srtp profiles: " + std::string(engine::traits(order[i]).name) +
                                          " has no DTLS-SRTP profile in OpenSSL 3.0");
        if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i), order[i]) !=
            order.begin() + static_cast<std::ptrdiff_t>(i))
            return engine::make_error(errc::invalid_argument, "srtp profiles: " + std::string(*name) + " listed twice");
        if (!out.empty()) out += ':';
        out += *name;
    }
    return out;
}

engine::result<use_srtp_ext> parse_use_srtp(std::span<const std::byte> body) {
    using engine::errc;
    auto bad = [](const char* what) { return engine::make_error(errc::invalid_argument, std::string("use_srtp: ") + what); };
    if (body.size() < 2) return bad("truncated profile list length");
    const std::size_t list_len = be16(body, 0);
    // SRTPProtectionProfiles<2..2^16-1>: at least one 2-octet profile, an even length.
    if (list_len < 2 || list_len % 2 != 0) return bad("profile list length must be even and >= 2");
    if (body.size() < 2 + list_len + 1) return bad("truncated profile list or MKI length");
    use_srtp_ext ext;
    ext.profiles.reserve(list_len / 2);
    for (std::size_t at = 2; at < 2 + list_len; at += 2) ext.profiles.push_back(be16(body, at));
    const std::size_t mki_at = 2 + list_len;
    const std::size_t mki_len = static_cast<uint8_t>(body[mki_at]);
    if (body.size() < mki_at + 1 + mki_len) return bad("MKI runs past the end");
    if (body.size() != mki_at + 1 + mki_len) return bad("trailing bytes after the MKI");
    ext.mki.assign(body.begin() + static_cast<std::ptrdiff_t>(mki_at + 1), body.end());
    return ext;
}

std::vector<engine::suite> select_profiles(std::span<const engine::suite> ours,
                                           std::span<const uint16_t> client_offer,
                                           profile_selection who_wins) {
    std::vector<engine::suite> out;
    auto we_have = [&](uint16_t id) {
        return std::any_of(ours.begin(), ours.end(), [&](engine::suite s) { return static_cast<uint16_t>(s) == id; });
    };
    auto add = [&](engine::suite s) {
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    };
    if (who_wins == profile_selection::client_preference) {
        for (auto id : client_offer)
            if (we_have(id))
                if (auto s = suite_from_profile_id(id)) add(*s);
    } else {
        for (auto s : ours)
            if (std::find(client_offer.begin(), client_offer.end(), static_cast<uint16_t>(s)) != client_offer.end())
                add(s);
    }
    return out;
}

std::size_t keying_material_len(engine::suite s) noexcept {
    const auto* t = engine::traits_of(s);
    return t ? 2u * t->key_salt_len() : 0;
}

engine::result<srtp_keying> split_keying_material(engine::suite s, std::span<const std::byte> material,
                                                  bool is_client) {
    const auto* t = engine::traits_of(s);
    if (!t || !engine::dtls_srtp_profile(s))
        return engine::make_error(engine::errc::unknown_suite, "dtls-srtp: suite has no profile");
    if (material.size() != keying_material_len(s))
        return engine::make_error(engine::errc::bad_key_length, "dtls-srtp: keying material length " +
                                                                    std::to_string(material.size()) + ", want " +
                                                                    std::to_string(keying_material_len(s)));
    const std::size_t kl = t->master_key_len, sl = t->master_salt_len;
    // client_write_key | server_write_key | client_write_salt | server_write_salt
    std::array<std::byte, engine::sdes_max_key_salt_len> tmp{};
    auto pack = [&](std::size_t key_at, std::size_t salt_at) -> engine::result<engine::key_salt_buffer> {
        std::copy_n(material.begin() + static_cast<std::ptrdiff_t>(key_at), kl, tmp.begin());
        std::copy_n(material.begin() + static_cast<std::ptrdiff_t>(salt_at), sl,
                    tmp.begin() + static_cast<std::ptrdiff_t>(kl));
        auto b = engine::key_salt_buffer::from(std::span<const std::byte>(tmp.data(), kl + sl));
        OPENSSL_cleanse(tmp.data(), tmp.size());
        return b;
    };
    auto client = pack(0, 2 * kl);
    if (!client) return client.err();
    auto server = pack(kl, 2 * kl + sl);
    if (!server) return server.err();
    srtp_keying k;
    k.suite = s;
    k.protocol = "dtls-srtp";
    k.local.key_salt = is_client ? std::move(*client) : std::move(*server);
    k.remote.key_salt = is_client ? std::move(*server) : std::move(*client);
    return k;
}

} // namespace srtpo::cp::dtls
