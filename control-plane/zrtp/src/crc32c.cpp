#include <srtpo/cp/zrtp/crc32c.hpp>

#include <array>

namespace srtpo::cp::zrtp {
namespace {

constexpr std::array<uint32_t, 256> make_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int j = 0; j < 8; ++j) c = (c >> 1) ^ ((c & 1u) ? 0x82F63B78u : 0u);
        t[i] = c;
    }
    return t;
}
constexpr auto table = make_table();

} // namespace

uint32_t crc32c(std::span<const uint8_t> data) noexcept {
    uint32_t c = 0xFFFFFFFFu;
    for (uint8_t b : data) c = (c >> 8) ^ table[(c ^ b) & 0xFFu];
    return ~c;
}

} // namespace srtpo::cp::zrtp
