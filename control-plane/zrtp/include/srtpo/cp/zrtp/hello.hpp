#pragma once
// Hello (RFC 6189 §5.2): version, client id, H3, ZID, flags, algorithm lists, MAC keyed by H2.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/message.hpp>

#include <string>

namespace srtpo::cp::zrtp {

inline constexpr std::string_view zrtp_version = "1.10"; ///< §4.1.1

struct hello {
    std::array<char, 4> version{};
    std::array<char, 16> client_id{};
    hash_image h3{};
    zid_t zid{};
    bool signature_capable = false; ///< S
    bool mitm = false;              ///< M (a PBX)
    bool passive = false;           ///< P: never sends Commit (§4.2)
    offered_algorithms algorithms;  ///< words we do not implement are dropped
    mac64 mac{};
};

/// Builds a Hello; `mac_key` is H2. Lists come from `prefs` in order, plus "Mult" when
/// `multistream`. Thread-safe (pure).
std::vector<uint8_t> build_hello(const hello& h, const algorithm_prefs& prefs, bool multistream,
                                 std::span<const uint8_t> mac_key);
/// Parses a Hello: the five 4-bit counts must be <= 7 and fit the length exactly.
/// The MAC is not checked here (H2 arrives later, §5.2). Thread-safe (pure).
engine::result<hello> parse_hello(std::span<const uint8_t> msg);

} // namespace srtpo::cp::zrtp
