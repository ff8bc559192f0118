#pragma once
// Packet index estimation: RFC 3711 §3.3.1 and the pseudo-code of Appendix A.
//
// Templated on the sequence-number type so tests can use uint8_t and cross a rollover in a few
// hundred packets (libsrtp's ROC_TEST idea); the engine uses uint16_t.

#include <cstdint>
#include <limits>
#include <type_traits>

namespace srtpo::engine {

template <class Seq>
struct index_guess {
    uint32_t roc;   ///< v in Appendix A: the guessed rollover counter
    int64_t delta;  ///< guessed index minus the highest index s_l stands for; > 0 means newer
};

/// Guesses the ROC of sequence number `seq` given the highest index seen, (roc, s_l).
/// Appendix A compares against half the sequence space; we clamp the "ROC - 1" case at ROC 0
/// (there is no index before 0: a packet that looks that old is taken as a newer one), which is
/// also what libsrtp does, so both pick the same index.
template <class Seq>
constexpr index_guess<Seq> estimate_index(uint32_t roc, Seq s_l, Seq seq) noexcept {
    static_assert(std::is_unsigned_v<Seq>);
    constexpr int64_t span = int64_t{std::numeric_limits<Seq>::max()} + 1;
    constexpr int64_t half = span / 2;
    const int64_t s = seq, l = s_l;
    if (l < half) {
        if (s - l > half && roc > 0) return {roc - 1, s - l - span};
        return {roc, s - l};
    }
    if (l - half > s) return {roc + 1, s - l + span};
    return {roc, s - l};
}

/// The 48-bit SRTP packet index i = 2^16 · ROC + SEQ (RFC 3711 §3.3.1).
constexpr uint64_t packet_index(uint32_t roc, uint16_t seq) noexcept {
    return (uint64_t{roc} << 16) | seq;
}

} // namespace srtpo::engine
