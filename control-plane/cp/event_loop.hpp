#pragma once
// srtpo-cp's single-threaded event loop: epoll for descriptors, one timerfd for every timer
// (a min-heap of deadlines on CLOCK_MONOTONIC), signalfd for signals. Everything srtpo-cp does —
// the control API, SIP transports, DTLS/ZRTP/STUN media ports and the protocols' retransmission
// timers — runs as callbacks on this one thread, so the registry and the table writer need no
// locks (ARCHITECTURE.md: srtpo-cp is the single writer).
//
// Thread-safety: one thread; callbacks run on it and may add or remove descriptors and timers
// (including their own). Ownership: the loop owns its epoll, timer and signal descriptors, not the
// descriptors callers register.

#include <srtpo/engine/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <queue>
#include <unordered_map>
#include <vector>

namespace srtpo::cp {

class event_loop {
public:
    using clock = std::chrono::steady_clock;
    using fd_handler = std::function<void(uint32_t epoll_events)>;
    using timer_handler = std::function<void()>;
    using timer_id = uint64_t;

    /// Blocks `signals` for the process and delivers them through the loop.
    /// Errors: io_error naming the failing call.
    static engine::result<event_loop> create(std::initializer_list<int> signals);
    event_loop(event_loop&& o) noexcept;
    event_loop& operator=(event_loop&&) = delete;
    event_loop(const event_loop&) = delete;
    ~event_loop();

    /// Watches `fd` for `events` (EPOLLIN, EPOLLOUT, ...). Errors: io_error (epoll_ctl).
    engine::result<void> add(int fd, uint32_t events, fd_handler h);
    engine::result<void> modify(int fd, uint32_t events);
    /// Stops watching `fd` (the caller closes it). Safe from inside the fd's own handler.
    void remove(int fd) noexcept;

    /// Calls `h` once at `when`. Returns an id for cancel().
    timer_id at(clock::time_point when, timer_handler h);
    timer_id after(std::chrono::milliseconds d, timer_handler h) { return at(clock::now() + d, std::move(h)); }
    /// Cancels a timer that has not fired; a fired or unknown id is ignored.
    void cancel(timer_id id) noexcept;

    void on_signal(std::function<void(int signo)> h) { _on_signal = std::move(h); }

    /// Runs until stop(). Errors: io_error if epoll_wait fails for a reason other than EINTR.
    engine::result<void> run();
    void stop() noexcept { _running = false; }

private:
    event_loop() = default;
    void arm_timerfd() noexcept;
    void fire_due_timers();

    struct pending {
        clock::time_point when;
        timer_id id;
        bool operator>(const pending& o) const noexcept { return when > o.when || (when == o.when && id > o.id); }
    };
    int _ep = -1, _tfd = -1, _sfd = -1;
    bool _running = false;
    std::unordered_map<int, fd_handler> _fds;
    std::priority_queue<pending, std::vector<pending>, std::greater<>> _heap;
    std::unordered_map<timer_id, timer_handler> _timers;
    timer_id _next_timer = 1;
    std::function<void(int)> _on_signal;
};

} // namespace srtpo::cp
