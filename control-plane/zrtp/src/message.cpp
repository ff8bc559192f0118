#include <srtpo/cp/zrtp/message.hpp>

#include "wire.hpp"

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {
constexpr std::array<std::string_view, 16> blocks{
    "Hello   ", "HelloACK", "Commit  ", "DHPart1 ", "DHPart2 ", "Confirm1", "Confirm2", "Conf2ACK",
    "Error   ", "ErrorACK", "GoClear ", "ClearACK", "SASrelay", "RelayACK", "Ping    ", "PingACK ",
};
} // namespace

std::string_view type_block(message_type t) noexcept { return blocks[static_cast<std::size_t>(t)]; }

engine::result<message_type> parse_message_header(std::span<const uint8_t> msg) {
    if (msg.size() < message_header_len) return make_error(errc::invalid_argument, "zrtp message: shorter than 12 octets");
    if (wire::get16(msg, 0) != message_preamble) return make_error(errc::invalid_argument, "zrtp message: bad preamble (not 0x505a)");
    if (std::size_t{wire::get16(msg, 2)} * 4 != msg.size())
        return make_error(errc::invalid_argument, "zrtp message: length field does not match the packet");
    for (std::size_t i = 0; i < blocks.size(); ++i)
        if (std::memcmp(blocks[i].data(), msg.data() + 4, 8) == 0) return static_cast<message_type>(i);
    return make_error(errc::invalid_argument, "zrtp message: unknown message type block");
}

void put_message_header(std::vector<uint8_t>& out, message_type t, std::size_t total_len) {
    wire::put16(out, message_preamble);
    wire::put16(out, static_cast<uint16_t>(total_len / 4));
    wire::put(out, type_block(t).data(), 8);
}

std::vector<uint8_t> build_ack(message_type t) {
    std::vector<uint8_t> m;
    put_message_header(m, t, message_header_len);
    return m;
}

engine::result<void> parse_ack(std::span<const uint8_t> msg, message_type t) {
    auto h = parse_message_header(msg);
    if (!h) return h.err();
    if (*h != t || msg.size() != message_header_len)
        return make_error(errc::invalid_argument, "zrtp message: not a 3-word " + std::string(type_block(t)));
    return {};
}

} // namespace srtpo::cp::zrtp
