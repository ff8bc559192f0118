#include <srtpo/cp/zrtp/crc32c.hpp>
#include <srtpo/cp/zrtp/packet.hpp>

#include "wire.hpp"

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

bool looks_like_zrtp(std::span<const uint8_t> pkt) noexcept {
    return pkt.size() >= packet_header_len && (pkt[0] >> 4) == 1 && wire::get32(pkt, 4) == magic_cookie;
}

engine::result<packet_view> parse_packet(std::span<const uint8_t> pkt) {
    if (pkt.size() < packet_header_len + min_message_len + packet_crc_len)
        return make_error(errc::invalid_argument, "zrtp packet: shorter than header + message + CRC");
    if (pkt.size() > max_packet_len) return make_error(errc::invalid_argument, "zrtp packet: longer than 1500 octets");
    if ((pkt[0] >> 4) != 1) return make_error(errc::invalid_argument, "zrtp packet: first nibble is not 0001 (§5.0)");
    if (wire::get32(pkt, 4) != magic_cookie) return make_error(errc::invalid_argument, "zrtp packet: no 'ZRTP' magic cookie");
    const std::size_t body = pkt.size() - packet_crc_len;
    // §5.0: CRC-32c as SCTP sends it, i.e. the CRC's low-order byte first on the wire.
    const uint32_t want = crc32c(pkt.first(body));
    const uint32_t got = static_cast<uint32_t>(pkt[body]) | static_cast<uint32_t>(pkt[body + 1]) << 8 |
                         static_cast<uint32_t>(pkt[body + 2]) << 16 | static_cast<uint32_t>(pkt[body + 3]) << 24;
    if (want != got) return make_error(errc::invalid_argument, "zrtp packet: CRC-32c mismatch");
    return packet_view{wire::get16(pkt, 2), wire::get32(pkt, 8), pkt.subspan(packet_header_len, body - packet_header_len)};
}

std::vector<uint8_t> frame_packet(uint16_t sequence, uint32_t ssrc, std::span<const uint8_t> message) {
    std::vector<uint8_t> p;
    p.reserve(packet_header_len + message.size() + packet_crc_len);
    p.push_back(0x10);
    p.push_back(0x00);
    wire::put16(p, sequence);
    wire::put32(p, magic_cookie);
    wire::put32(p, ssrc);
    p.insert(p.end(), message.begin(), message.end());
    const uint32_t c = crc32c(p);
    for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(c >> (8 * i)));
    return p;
}

} // namespace srtpo::cp::zrtp
