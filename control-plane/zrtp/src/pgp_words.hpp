#pragma once
#include <array>
#include <string_view>

namespace srtpo::cp::zrtp::detail {
extern const std::array<std::string_view, 256> pgp_even; ///< two-syllable words, byte 0
extern const std::array<std::string_view, 256> pgp_odd;  ///< three-syllable words, byte 1
} // namespace srtpo::cp::zrtp::detail
