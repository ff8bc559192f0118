#include "event_loop.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace srtpo::cp {

namespace {
engine::error sys_error(const std::string& what) {
    return engine::make_error(engine::errc::io_error, what + ": " + std::strerror(errno));
}
} // namespace

engine::result<event_loop> event_loop::create(std::initializer_list<int> signals) {
    event_loop l;
    l._ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (l._ep < 0) return sys_error("epoll_create1");
    l._tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l._tfd < 0) return sys_error("timerfd_create");
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : signals) sigaddset(&mask, s);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return sys_error("sigprocmask");
    l._sfd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l._sfd < 0) return sys_error("signalfd");
    for (int fd : {l._tfd, l._sfd}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(l._ep, EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl");
    }
    return l;
}

event_loop::event_loop(event_loop&& o) noexcept
    : _ep(o._ep), _tfd(o._tfd), _sfd(o._sfd), _running(o._running), _fds(std::move(o._fds)), _heap(std::move(o._heap)),
      _timers(std::move(o._timers)), _next_timer(o._next_timer), _on_signal(std::move(o._on_signal)) {
    o._ep = o._tfd = o._sfd = -1;
}

event_loop::~event_loop() {
    for (int fd : {_ep, _tfd, _sfd})
        if (fd >= 0) ::close(fd);
}

engine::result<void> event_loop::add(int fd, uint32_t events, fd_handler h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(_ep, EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl add");
    _fds[fd] = std::move(h);
    return {};
}

engine::result<void> event_loop::modify(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(_ep, EPOLL_CTL_MOD, fd, &ev) != 0) return sys_error("epoll_ctl mod");
    return {};
}

void event_loop::remove(int fd) noexcept {
    (void)::epoll_ctl(_ep, EPOLL_CTL_DEL, fd, nullptr);
    _fds.erase(fd);
}

event_loop::timer_id event_loop::at(clock::time_point when, timer_handler h) {
    const timer_id id = _next_timer++;
    _timers.emplace(id, std::move(h));
    const bool earliest = _heap.empty() || when < _heap.top().when;
    _heap.push({when, id});
    if (earliest) arm_timerfd();
    return id;
}

void event_loop::cancel(timer_id id) noexcept { _timers.erase(id); } // the heap entry is skipped when it comes up

void event_loop::arm_timerfd() noexcept {
    while (!_heap.empty() && !_timers.count(_heap.top().id)) _heap.pop();
    itimerspec its{};
    if (!_heap.empty()) {
        auto d = _heap.top().when - clock::now();
        if (d < std::chrono::nanoseconds(1)) d = std::chrono::nanoseconds(1); // 0 would disarm
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
        its.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
        its.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    (void)::timerfd_settime(_tfd, 0, &its, nullptr);
}

void event_loop::fire_due_timers() {
    const auto now = clock::now();
    while (!_heap.empty() && _heap.top().when <= now) {
        const auto id = _heap.top().id;
        _heap.pop();
        auto it = _timers.find(id);
        if (it == _timers.end()) continue;
        auto h = std::move(it->second);
        _timers.erase(it);
        h(); // may add timers
    }
    arm_timerfd();
}

engine::result<void> event_loop::run() {
    _running = true;
    epoll_event evs[64];
    while (_running) {
        const int n = ::epoll_wait(_ep, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("epoll_wait");
        }
        for (int i = 0; i < n && _running; ++i) {
            const int fd = evs[i].data.fd;
            if (fd == _tfd) {
                uint64_t ticks = 0;
                (void)!::read(_tfd, &ticks, sizeof ticks);
                fire_due_timers();
            } else if (fd == _sfd) {
                signalfd_siginfo si{};
                while (::read(_sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
                    if (_on_signal) _on_signal(static_cast<int>(si.ssi_signo));
            } else if (auto it = _fds.find(fd); it != _fds.end()) {
                auto h = it->second; // a copy: the handler may remove itself
                h(evs[i].events);
            }
        }
    }
    return {};
}

} // namespace srtpo::cp
