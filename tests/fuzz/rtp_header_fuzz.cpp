// libFuzzer: RTP/RTCP header parsing and RFC 8285 element walking on arbitrary bytes.
#include <srtpo/engine/rtp_header.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> pkt{reinterpret_cast<const std::byte*>(data), size};
    srtpo::engine::rtp_header_view h;
    if (srtpo::engine::parse_rtp_header(pkt, h) == srtpo::engine::status::ok) {
        // Everything the view claims must lie inside the packet.
        if (h.header_len > size || (h.extension && h.ext_offset + 4u + h.ext_data_len > size)) __builtin_trap();
        (void)srtpo::engine::check_rtp_padding(pkt, h);
        std::size_t total = 0;
        for (bool two : {false, true})
            (void)srtpo::engine::for_each_extension_element(pkt, h, two, [&](uint8_t, std::size_t off, std::size_t n) {
                if (off + n > size) __builtin_trap();
                total += n;
            });
    }
    srtpo::engine::rtcp_header_view r;
    (void)srtpo::engine::parse_rtcp_header(pkt, r);
    return 0;
}
