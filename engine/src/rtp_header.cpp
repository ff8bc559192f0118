#include <srtpo/engine/rtp_header.hpp>

namespace srtpo::engine {
namespace {
uint8_t at(std::span<const std::byte> p, std::size_t i) noexcept { return static_cast<uint8_t>(p[i]); }
uint16_t be16(std::span<const std::byte> p, std::size_t i) noexcept {
    return static_cast<uint16_t>(at(p, i) << 8 | at(p, i + 1));
}
uint32_t be32(std::span<const std::byte> p, std::size_t i) noexcept {
    return uint32_t{be16(p, i)} << 16 | be16(p, i + 2);
}
} // namespace

status parse_rtp_header(std::span<const std::byte> pkt, rtp_header_view& h) noexcept {
    if (pkt.size() < rtp_fixed_header_len) return status::too_short;
    if (pkt.size() > 0xffff) return status::bad_header; // no IP packet is longer; offsets are 16-bit
    const uint8_t b0 = at(pkt, 0);
    if ((b0 >> 6) != 2) return status::bad_version;
    h.padding = (b0 & 0x20) != 0;
    h.extension = (b0 & 0x10) != 0;
    h.cc = b0 & 0x0f;
    h.marker = (at(pkt, 1) & 0x80) != 0;
    h.pt = at(pkt, 1) & 0x7f;
    h.seq = be16(pkt, 2);
    h.timestamp = be32(pkt, 4);
    h.ssrc = be32(pkt, 8);
    std::size_t len = rtp_fixed_header_len + 4u * h.cc;
    h.ext_offset = 0;
    h.ext_profile = 0;
    h.ext_data_len = 0;
    if (len > pkt.size()) return status::bad_header;
    if (h.extension) {
        // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words excluding this header.
        if (len + 4 > pkt.size()) return status::bad_header;
        h.ext_offset = static_cast<uint16_t>(len);
        h.ext_profile = be16(pkt, len);
        const std::size_t data = std::size_t{be16(pkt, len + 2)} * 4u;
        if (len + 4 + data > pkt.size()) return status::bad_header;
        h.ext_data_len = static_cast<uint16_t>(data);
        len += 4 + data;
    }
    h.header_len = static_cast<uint16_t>(len);
    return status::ok;
}

status check_rtp_padding(std::span<const std::byte> pkt, const rtp_header_view& h) noexcept {
    if (!h.padding) return status::ok;
    const std::size_t payload = pkt.size() - h.header_len;
    if (payload == 0) return status::bad_padding;
    const std::size_t n = at(pkt, pkt.size() - 1);
    if (n == 0 || n > payload) return status::bad_padding;
    return status::ok;
}

status parse_rtcp_header(std::span<const std::byte> pkt, rtcp_header_view& h) noexcept {
    if (pkt.size() < rtcp_fixed_header_len) return status::too_short;
    const uint8_t b0 = at(pkt, 0);
    if ((b0 >> 6) != 2) return status::bad_version;
    h.padding = (b0 & 0x20) != 0;
    h.count = b0 & 0x1f;
    h.pt = at(pkt, 1);
    h.length_words = be16(pkt, 2);
    h.ssrc = be32(pkt, 4);
    return status::ok;
}

} // namespace srtpo::engine
