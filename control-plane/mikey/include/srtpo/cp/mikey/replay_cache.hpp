#pragma once
// Replay protection of RFC 3830 §5.4: a message is fresh when its timestamp lies within the
// allowed clock skew of ours (NTP, NTP-UTC), or is above the last counter seen from that peer
// (COUNTER), and its (peer ID, RAND) pair has not been seen within the window.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/freshness.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace srtpo::cp::mikey {

/// Thread-safety: not thread-safe; one per responder set, used from one thread (srtpo-cp's
/// event loop). Ownership: owns its entries; holds no key material (RANDs are public).
class replay_cache {
public:
    explicit replay_cache(std::chrono::seconds window = std::chrono::seconds(60), std::size_t capacity = 4096)
        : _window(window), _capacity(capacity) {}
    enum class verdict { fresh, stale, replay, full };
    /// Checks without recording. `peer` is the initiator's identity (may be empty).
    verdict check(const t_payload& t, std::span<const uint8_t> peer, std::span<const uint8_t> rand,
                  std::chrono::system_clock::time_point now) const;
    /// Records a message that passed check() and authentication.
    void commit(const t_payload& t, std::span<const uint8_t> peer, std::span<const uint8_t> rand,
                std::chrono::system_clock::time_point now);
    std::size_t size() const noexcept { return _seen.size(); }
    std::chrono::seconds window() const noexcept { return _window; }

private:
    void expire(std::chrono::system_clock::time_point now);
    static std::string key_of(std::span<const uint8_t> peer, std::span<const uint8_t> rand);
    std::chrono::seconds _window;
    std::size_t _capacity;
    std::map<std::string, std::chrono::system_clock::time_point> _seen; // key -> expiry
    std::map<std::string, uint64_t> _counters;                           // peer -> last COUNTER
};

} // namespace srtpo::cp::mikey
