#pragma once
// Per-packet outcome on the data path. Every failure has a name and a counter (ARCHITECTURE.md
// principle 7): no exceptions, no errno, no logging per packet.

#include <array>
#include <cstdint>
#include <string_view>

namespace srtpo::engine {

enum class status : uint8_t {
    ok = 0,
    too_short,        ///< shorter than the fixed header, or than header + tag + MKI
    bad_version,      ///< RTP/RTCP version field is not 2 (RFC 3550 §5.1)
    bad_header,       ///< CSRC list or header extension runs past the end (RFC 3550 §5.3.1, RFC 8285)
    bad_padding,      ///< P bit set and the padding count exceeds the payload (RFC 3550 §5.1)
    no_session,       ///< op carries no session
    wrong_direction,  ///< a protect session used to unprotect, or the reverse
    stream_limit,     ///< a new SSRC arrived and the session's stream table is full
    replay_duplicate, ///< index already seen (RFC 3711 §3.3.2)
    replay_old,       ///< index left of the replay window
    auth_fail,        ///< authentication tag did not verify
    mki_unknown,      ///< MKI names no installed master key (RFC 3711 §3.3)
    key_expired,      ///< the master key reached its hard lifetime (RFC 3711 §9.2)
    no_tailroom,      ///< protect needs room for MKI + tag (and cryptex's header) beyond len
    unsupported,      ///< a packet feature the session was not set up for
    backend_error,    ///< the crypto backend refused the job (should never happen)
    count_            ///< number of values; not a status
};

inline constexpr std::size_t status_count = static_cast<std::size_t>(status::count_);

inline constexpr std::array<std::string_view, status_count> status_names{
    "ok",           "too_short",   "bad_version", "bad_header",  "bad_padding",
    "no_session",   "wrong_direction", "stream_limit", "replay_duplicate", "replay_old",
    "auth_fail",    "mki_unknown", "key_expired", "no_tailroom", "unsupported",
    "backend_error",
};

/// Stable lower-case name of a status, for counters and JSON. Thread-safe.
constexpr std::string_view to_string(status s) noexcept {
    auto i = static_cast<std::size_t>(s);
    return i < status_count ? status_names[i] : std::string_view{"invalid"};
}

/// Per-status counters, as kept by callers that tally bursts.
struct status_counters {
    std::array<uint64_t, status_count> n{};
    void add(status s) noexcept { ++n[static_cast<std::size_t>(s)]; }
    uint64_t operator[](status s) const noexcept { return n[static_cast<std::size_t>(s)]; }
};

} // namespace srtpo::engine
