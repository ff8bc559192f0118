#include <srtpo/cp/zrtp/sas.hpp>

#include "pgp_words.hpp"

namespace srtpo::cp::zrtp {

std::string render_b32(uint32_t v) {
    static constexpr char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769"; // z-base-32 (§5.1.6)
    std::string s(4, ' ');
    for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = alphabet[(v >> (27 - 5 * i)) & 0x1f];
    return s;
}

std::string render_b256(uint32_t v) {
    return std::string(detail::pgp_even[v >> 24]) + ":" + std::string(detail::pgp_odd[(v >> 16) & 0xff]);
}

std::string render_sas(sas_type t, uint32_t v) { return t == sas_type::b256 ? render_b256(v) : render_b32(v); }

} // namespace srtpo::cp::zrtp
