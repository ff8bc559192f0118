// srtpo-cp's event loop: timers fire in deadline order and once, cancel works (also from another
// timer), descriptors are served and may remove themselves, and signals arrive as callbacks.
#include "event_loop.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>

using namespace srtpo::cp;
using namespace std::chrono_literals;

TEST(EventLoop, TimersFireInOrderOnceAndCancel) {
    auto l = event_loop::create({});
    ASSERT_TRUE(l) << l.err().message;
    std::string order;
    // Before the timers are set: each fires no earlier than its delay after its own after() call,
    // so the last one ("d", 40 ms) is at least 40 ms after this point.
    const auto t0 = event_loop::clock::now();
    l->after(30ms, [&] { order += "c"; });
    l->after(10ms, [&] { order += "a"; });
    const auto gone = l->after(20ms, [&] { order += "X"; });
    l->after(15ms, [&] {
        order += "b";
        l->cancel(gone);
    });
    l->after(40ms, [&] {
        order += "d";
        l->after(1ms, [&] {
            order += "e";
            l->stop();
        });
    });
    ASSERT_TRUE(l->run());
    EXPECT_EQ(order, "abcde");
    EXPECT_GE(event_loop::clock::now() - t0, 40ms);
}

TEST(EventLoop, DescriptorsAndSignals) {
    auto l = event_loop::create({SIGUSR1});
    ASSERT_TRUE(l);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    int reads = 0, signo = 0;
    ASSERT_TRUE(l->add(p[0], EPOLLIN, [&](uint32_t) {
        char c;
        ASSERT_EQ(::read(p[0], &c, 1), 1);
        ++reads;
        l->remove(p[0]); // from inside its own handler
        ::kill(::getpid(), SIGUSR1);
    }));
    l->on_signal([&](int s) {
        signo = s;
        l->stop();
    });
    ASSERT_EQ(::write(p[1], "xy", 2), 2);
    l->after(2000ms, [&] { l->stop(); }); // a deadline, should the signal never come
    ASSERT_TRUE(l->run());
    EXPECT_EQ(reads, 1) << "removed after the first byte";
    EXPECT_EQ(signo, SIGUSR1);
    ::close(p[0]);
    ::close(p[1]);
}
