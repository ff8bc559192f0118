#pragma once
// Commit (RFC 6189 §5.4): H2, ZID, the five chosen algorithms, then hvi (DH mode, 32 octets) or
// a nonce (Multistream, 16 octets; Preshared, 16 + 8-octet key ID), and a MAC keyed by H1.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/message.hpp>

namespace srtpo::cp::zrtp {

struct commit {
    hash_image h2{};
    zid_t zid{};
    /// Raw words, so that the receiver can answer an unsupported one with the right Error code.
    algo_word hash{}, cipher{}, auth{}, ka{}, sas{};
    std::vector<uint8_t> hvi_or_nonce; ///< 32 (hvi), or 16 (nonce) for Mult and Prsh
    std::vector<uint8_t> key_id;       ///< Prsh only, 8 octets
    mac64 mac{};
    bool multistream() const noexcept;
    bool preshared() const noexcept;
};

/// Builds a Commit; `mac_key` is H1. Thread-safe (pure).
std::vector<uint8_t> build_commit(const commit& c, std::span<const uint8_t> mac_key);
/// Parses a Commit; the length must be the one its key agreement word implies (29, 25 or 27
/// words). Thread-safe (pure).
engine::result<commit> parse_commit(std::span<const uint8_t> msg);

} // namespace srtpo::cp::zrtp
