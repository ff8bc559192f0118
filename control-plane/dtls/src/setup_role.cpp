#include <srtpo/cp/dtls/setup_role.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace srtpo::cp::dtls {
namespace {

constexpr std::array<std::string_view, 4> setup_names{"active", "passive", "actpass", "holdconn"};
constexpr std::string_view tls_id_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
static_assert(tls_id_alphabet.size() == 66);

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

engine::result<setup_attr> parse_setup(std::string_view value) {
    for (std::size_t i = 0; i < setup_names.size(); ++i)
        if (iequals(value, setup_names[i])) return static_cast<setup_attr>(i);
    return engine::make_error(engine::errc::invalid_argument,
                              "a=setup: expected active, passive, actpass or holdconn");
}

std::string_view to_string(setup_attr s) noexcept { return setup_names[static_cast<std::size_t>(s)]; }

setup_attr answer_setup(setup_attr offer) noexcept {
    switch (offer) {
    case setup_attr::actpass: return setup_attr::active;
    case setup_attr::active: return setup_attr::passive;
    case setup_attr::passive: return setup_attr::active;
    case setup_attr::holdconn: return setup_attr::holdconn;
    }
    return setup_attr::holdconn;
}

engine::result<dtls_role> negotiate_role(setup_attr ours, setup_attr theirs) {
    using engine::errc;
    if (ours == setup_attr::holdconn || theirs == setup_attr::holdconn)
        return engine::make_error(errc::invalid_argument, "a=setup: holdconn, no DTLS association wanted");
    // One side must have answered with active or passive (RFC 4145 §4.1).
    if (ours == setup_attr::actpass && theirs == setup_attr::actpass)
        return engine::make_error(errc::invalid_argument, "a=setup: both sides actpass, the answer must decide");
    if (ours == theirs)
        return engine::make_error(errc::invalid_argument, "a=setup: both sides " + std::string(to_string(ours)));
    if (ours == setup_attr::active) return dtls_role::client;
    if (ours == setup_attr::passive) return dtls_role::server;
    // ours is actpass: the peer's answer decides.
    return theirs == setup_attr::active ? dtls_role::server : dtls_role::client;
}

engine::result<std::string> make_tls_id() {
    std::array<unsigned char, 32> r{};
    if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1)
        return engine::make_error(engine::errc::backend_failure, "tls-id: RAND_bytes failed");
    std::string id;
    id.reserve(r.size());
    // 64 of the 66 characters, 6 bits per character: no modulo bias.
    for (auto b : r) id += tls_id_alphabet[b & 63];
    return id;
}

bool valid_tls_id(std::string_view id) noexcept {
    if (id.size() < 20 || id.size() > 255) return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return tls_id_alphabet.find(c) != std::string_view::npos; });
}

engine::result<association_action> tls_id_action(std::optional<std::string_view> previous,
                                                 std::optional<std::string_view> current) {
    if (current && !valid_tls_id(*current))
        return engine::make_error(engine::errc::invalid_argument, "a=tls-id: 20..255 characters of [A-Za-z0-9+/_-]");
    if (!previous) return association_action::new_association;
    if (!current) return association_action::keep;
    return *previous == *current ? association_action::keep : association_action::new_association;
}

} // namespace srtpo::cp::dtls
