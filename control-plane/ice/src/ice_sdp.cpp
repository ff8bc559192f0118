#include <srtpo/cp/ice/ice_sdp.hpp>
#include <srtpo/cp/ice/stun_message.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace srtpo::cp::ice {
namespace {

constexpr std::string_view ice_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static_assert(ice_chars.size() == 64);

bool all_ice_chars(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return ice_chars.find(c) != std::string_view::npos; });
}

engine::result<std::string> random_ice_string(std::size_t n) {
    std::array<unsigned char, 64> r{};
    if (n > r.size() || RAND_bytes(r.data(), static_cast<int>(n)) != 1)
        return engine::make_error(engine::errc::backend_failure, "ice: RAND_bytes failed");
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += ice_chars[r[i] & 63]; // 64 symbols: 6 bits each, no bias
    OPENSSL_cleanse(r.data(), r.size());
    return s;
}

} // namespace

engine::result<ice_credentials> generate_credentials() {
    auto u = random_ice_string(8);
    if (!u) return u.err();
    auto p = random_ice_string(24);
    if (!p) return p.err();
    return ice_credentials{std::move(*u), std::move(*p)};
}

bool valid_ufrag(std::string_view s) noexcept { return s.size() >= 4 && s.size() <= 256 && all_ice_chars(s); }
bool valid_pwd(std::string_view s) noexcept { return s.size() >= 22 && s.size() <= 256 && all_ice_chars(s); }

std::string ice_lite_session_line() { return "a=ice-lite"; }

engine::result<std::vector<std::string>> ice_media_lines(const ice_credentials& ours,
                                                          std::span<const host_candidate> candidates) {
    auto bad = [](std::string m) { return engine::make_error(engine::errc::invalid_argument, "ice sdp: " + std::move(m)); };
    if (!valid_ufrag(ours.ufrag)) return bad("ufrag must be 4..256 ice-chars");
    if (!valid_pwd(ours.pwd)) return bad("pwd must be 22..256 ice-chars");
    std::vector<std::string> lines{"a=ice-ufrag:" + ours.ufrag, "a=ice-pwd:" + ours.pwd};
    for (const auto& c : candidates) {
        auto addr = transport_address::from_string(c.address, c.port);
        if (!addr) return bad("candidate address '" + c.address + "' is not an IP literal");
        if (c.port == 0) return bad("candidate port 0");
        if (c.component == 0) return bad("component id 0");
        if (c.foundation.empty() || c.foundation.size() > 32 || !all_ice_chars(c.foundation))
            return bad("foundation must be 1..32 ice-chars");
        lines.push_back("a=candidate:" + c.foundation + " " + std::to_string(c.component) + " UDP " +
                        std::to_string(candidate_priority(c.component, c.local_preference)) + " " + addr->ip_string() +
                        " " + std::to_string(c.port) + " typ host");
    }
    return lines;
}

} // namespace srtpo::cp::ice
