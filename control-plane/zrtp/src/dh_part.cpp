#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/dh_part.hpp>

#include "wire.hpp"

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {
constexpr std::size_t dh_fixed_len = 12 + 32 + 32 + 8;
}

std::vector<uint8_t> build_dh_part(const dh_part& d, std::span<const uint8_t> mac_key) {
    const std::size_t len = dh_fixed_len + d.pv.size();
    std::vector<uint8_t> m;
    m.reserve(len);
    put_message_header(m, d.part2 ? message_type::dh_part2 : message_type::dh_part1, len);
    wire::put(m, d.h1);
    for (const auto* id : {&d.rs1_id, &d.rs2_id, &d.auxsecret_id, &d.pbxsecret_id}) wire::put(m, *id);
    wire::put(m, d.pv);
    wire::put(m, message_mac(mac_key, m));
    return m;
}

engine::result<dh_part> parse_dh_part(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::dh_part1 && *t != message_type::dh_part2)
        return make_error(errc::invalid_argument, "zrtp DHPart: wrong type");
    if (msg.size() < dh_fixed_len + 32) return make_error(errc::invalid_argument, "zrtp DHPart: too short for any public value");
    dh_part d;
    d.part2 = *t == message_type::dh_part2;
    std::size_t o = 12;
    std::memcpy(d.h1.data(), msg.data() + o, 32), o += 32;
    for (auto* id : {&d.rs1_id, &d.rs2_id, &d.auxsecret_id, &d.pbxsecret_id}) std::memcpy(id->data(), msg.data() + o, 8), o += 8;
    const std::size_t pvl = msg.size() - dh_fixed_len;
    d.pv.assign(msg.begin() + static_cast<std::ptrdiff_t>(o), msg.begin() + static_cast<std::ptrdiff_t>(o + pvl));
    o += pvl;
    std::memcpy(d.mac.data(), msg.data() + o, 8);
    return d;
}

} // namespace srtpo::cp::zrtp
