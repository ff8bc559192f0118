#include <srtpo/cp/zrtp/commit.hpp>
#include <srtpo/cp/zrtp/crypto.hpp>

#include "wire.hpp"

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {
constexpr std::size_t commit_fixed_len = 12 + 32 + 12 + 20 + 8; // without hvi/nonce
}

bool commit::multistream() const noexcept { return std::memcmp(ka.data(), "Mult", 4) == 0; }
bool commit::preshared() const noexcept { return std::memcmp(ka.data(), "Prsh", 4) == 0; }

std::vector<uint8_t> build_commit(const commit& c, std::span<const uint8_t> mac_key) {
    const std::size_t len = commit_fixed_len + c.hvi_or_nonce.size() + c.key_id.size();
    std::vector<uint8_t> m;
    m.reserve(len);
    put_message_header(m, message_type::commit, len);
    wire::put(m, c.h2);
    wire::put(m, c.zid);
    for (const auto* w : {&c.hash, &c.cipher, &c.auth, &c.ka, &c.sas}) wire::put(m, w->data(), 4);
    wire::put(m, c.hvi_or_nonce);
    wire::put(m, c.key_id);
    wire::put(m, message_mac(mac_key, m));
    return m;
}

engine::result<commit> parse_commit(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::commit) return make_error(errc::invalid_argument, "zrtp Commit: wrong type");
    if (msg.size() < commit_fixed_len + 16) return make_error(errc::invalid_argument, "zrtp Commit: too short");
    commit c;
    std::size_t o = 12;
    std::memcpy(c.h2.data(), msg.data() + o, 32), o += 32;
    std::memcpy(c.zid.data(), msg.data() + o, 12), o += 12;
    for (auto* w : {&c.hash, &c.cipher, &c.auth, &c.ka, &c.sas}) std::memcpy(w->data(), msg.data() + o, 4), o += 4;
    const std::size_t var = c.multistream() ? 16 : c.preshared() ? 24 : 32;
    if (msg.size() != commit_fixed_len + var)
        return make_error(errc::invalid_argument, "zrtp Commit: length does not match its key agreement type");
    const std::size_t nonce = c.preshared() ? 16 : var;
    c.hvi_or_nonce.assign(msg.begin() + static_cast<std::ptrdiff_t>(o), msg.begin() + static_cast<std::ptrdiff_t>(o + nonce));
    o += nonce;
    if (c.preshared()) c.key_id.assign(msg.begin() + static_cast<std::ptrdiff_t>(o), msg.begin() + static_cast<std::ptrdiff_t>(o + 8)), o += 8;
    std::memcpy(c.mac.data(), msg.data() + o, 8);
    return c;
}

} // namespace srtpo::cp::zrtp
