#include <srtpo/cp/dtls/stack_choice.hpp>

#include <algorithm>

namespace srtpo::cp::dtls {

std::string_view to_string(dtls_stack s) noexcept {
    return s == dtls_stack::gnutls ? "gnutls" : "openssl";
}

bool is_null_profile(engine::suite s) noexcept {
    const auto* t = engine::traits_of(s);
    return t && t->cipher == engine::cipher_kind::null && engine::dtls_srtp_profile(s);
}

namespace {
bool is_gcm_profile(engine::suite s) noexcept {
    return s == engine::suite::aead_aes_128_gcm || s == engine::suite::aead_aes_256_gcm;
}
} // namespace

bool stack_supports(dtls_stack stack, engine::suite s) noexcept {
    if (stack == dtls_stack::openssl) return openssl_profile_name(s).has_value();
    // GnuTLS 3.7 lib/ext/srtp.c: the two AES-CM and the two NULL profiles (gnutls_srtp_profile_t).
    return s == engine::suite::aes_cm_128_hmac_sha1_80 || s == engine::suite::aes_cm_128_hmac_sha1_32 ||
           is_null_profile(s);
}

std::vector<engine::suite> profiles_for(dtls_stack stack, std::span<const engine::suite> profiles) {
    std::vector<engine::suite> out;
    for (auto s : profiles)
        if (stack_supports(stack, s)) out.push_back(s);
    return out;
}

dtls_stack client_stack(std::span<const engine::suite> profiles) noexcept {
    const bool has_null = std::any_of(profiles.begin(), profiles.end(), is_null_profile);
    const bool has_gcm = std::any_of(profiles.begin(), profiles.end(), is_gcm_profile);
    return has_null && !has_gcm ? dtls_stack::gnutls : dtls_stack::openssl;
}

bool client_role_drops_null(std::span<const engine::suite> profiles) noexcept {
    return client_stack(profiles) == dtls_stack::openssl &&
           std::any_of(profiles.begin(), profiles.end(), is_null_profile);
}

server_choice server_stack(std::span<const engine::suite> ours, profile_selection who_wins,
                           const std::optional<client_hello>& hello) {
    if (!hello || !hello->use_srtp) return {}; // OpenSSL answers (and refuses a missing use_srtp)
    const auto common = select_profiles(ours, hello->use_srtp->profiles, who_wins);
    if (common.empty() || !is_null_profile(common.front())) return {};
    return {dtls_stack::gnutls, common.front()};
}

} // namespace srtpo::cp::dtls
