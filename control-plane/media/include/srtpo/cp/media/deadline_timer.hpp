#pragma once
// One re-armable timer on the event loop for a sans-I/O protocol endpoint: after every input
// the keyer asks the endpoint for its next_timeout() and calls arm() with it; the old timer is
// cancelled, so exactly one is pending (DTLS retransmission/handshake timers, RFC 6347
// §4.2.4.1; ZRTP T1/T2, RFC 6189 §6).

#include <chrono>
#include <functional>
#include <optional>

namespace srtpo::cp {
class event_loop;
}

namespace srtpo::cp::media {

/// Thread-safety: event loop thread only. Ownership: cancels its pending timer on destruction;
/// `loop` must outlive it.
class deadline_timer {
public:
    using time_point = std::chrono::steady_clock::time_point;
    deadline_timer(event_loop& loop, std::function<void()> on_fire) : _loop(loop), _fire(std::move(on_fire)) {}
    ~deadline_timer() { cancel(); }
    deadline_timer(const deadline_timer&) = delete;
    deadline_timer& operator=(const deadline_timer&) = delete;

    /// Fires at `when`, replacing any pending deadline; nullopt just cancels. A deadline equal
    /// to the pending one keeps it (no churn in the loop's heap).
    void arm(std::optional<time_point> when);
    void cancel() noexcept;

private:
    event_loop& _loop;
    std::function<void()> _fire;
    uint64_t _id = 0;
    std::optional<time_point> _when;
};

} // namespace srtpo::cp::media
