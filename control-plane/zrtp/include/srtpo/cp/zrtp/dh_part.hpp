#pragma once
// DHPart1 / DHPart2 (RFC 6189 §5.5, §5.6): H1, the four secret IDs, the public value and a MAC
// keyed by H0.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/message.hpp>

namespace srtpo::cp::zrtp {

using secret_id = std::array<uint8_t, 8>;

struct dh_part {
    bool part2 = false;      ///< DHPart2 (initiator) rather than DHPart1 (responder)
    hash_image h1{};
    secret_id rs1_id{}, rs2_id{}, auxsecret_id{}, pbxsecret_id{};
    std::vector<uint8_t> pv; ///< pvr / pvi, length fixed by the key agreement (§5.1.5)
    mac64 mac{};
};

/// Builds DHPart1 or DHPart2; `mac_key` is H0. Thread-safe (pure).
std::vector<uint8_t> build_dh_part(const dh_part& d, std::span<const uint8_t> mac_key);
/// Parses either; the pv takes whatever the length leaves (the caller checks it against the
/// committed key agreement). Thread-safe (pure).
engine::result<dh_part> parse_dh_part(std::span<const uint8_t> msg);

} // namespace srtpo::cp::zrtp
