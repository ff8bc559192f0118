#pragma once
// One §6 retransmission timer: the interval starts at `initial`, doubles after each resend up
// to `cap`, and after `max` resends the next expiry reports exhaustion.

#include <chrono>
#include <optional>

namespace srtpo::cp::zrtp {

class retransmit_timer {
public:
    using time_point = std::chrono::steady_clock::time_point;
    enum class outcome { idle, resend, exhausted };

    void arm(std::chrono::milliseconds initial, std::chrono::milliseconds cap, unsigned max, time_point now) {
        _interval = initial;
        _cap = cap;
        _max = max;
        _count = 0;
        _deadline = now + initial;
    }
    void stop() { _deadline.reset(); }
    std::optional<time_point> deadline() const { return _deadline; }

    outcome poll(time_point now) {
        if (!_deadline || now < *_deadline) return outcome::idle;
        if (_count >= _max) {
            _deadline.reset();
            return outcome::exhausted;
        }
        ++_count;
        _interval = std::min(_interval * 2, _cap);
        _deadline = now + _interval;
        return outcome::resend;
    }

private:
    std::optional<time_point> _deadline;
    std::chrono::milliseconds _interval{0}, _cap{0};
    unsigned _max = 0, _count = 0;
};

} // namespace srtpo::cp::zrtp
