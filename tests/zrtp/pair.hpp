#pragma once
// Two of our endpoints wired back to back in memory on a simulated clock, with optional loss:
// the harness of the self-consistency tests (interop with bzrtp is in zrtp_interop_test.cpp).

#include <srtpo/cp/zrtp/endpoint.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace srtpo::cp::zrtp::test {

struct side {
    std::unique_ptr<zid_cache> cache;
    std::shared_ptr<call> c;
    std::unique_ptr<endpoint> ep;
    std::vector<event> events;
    bool has(event_kind k) const {
        for (const auto& e : events)
            if (e.kind == k) return true;
        return false;
    }
};

inline std::unique_ptr<endpoint> make_endpoint(std::shared_ptr<call> c, endpoint_config cfg) {
    auto r = endpoint::create(std::move(c), std::move(cfg));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.err().message);
    return r ? std::move(*r) : nullptr;
}

/// Runs both endpoints until both are secure or failed, or `limit` simulated time passes.
/// `drop` decides per packet whether it is lost. Returns the simulated time used.
inline std::chrono::milliseconds run_pair(endpoint& a, endpoint& b, std::vector<event>& ea, std::vector<event>& eb,
                                          std::function<bool()> drop = [] { return false; },
                                          std::chrono::milliseconds limit = std::chrono::seconds(30),
                                          std::function<void(std::vector<uint8_t>&)> mutate_a_to_b = {}) {
    time_point t{};
    a.start(t);
    b.start(t);
    auto done = [](endpoint& e) { return e.current_state() == state::secure || e.current_state() == state::failed; };
    const auto step = std::chrono::milliseconds(5);
    for (auto el = std::chrono::milliseconds(0); el < limit; el += step, t += step) {
        for (int round = 0; round < 8; ++round) {
            auto oa = a.take_outgoing();
            auto ob = b.take_outgoing();
            if (oa.empty() && ob.empty()) break;
            for (auto& p : oa) {
                if (mutate_a_to_b) mutate_a_to_b(p);
                if (!drop()) b.receive(p, t);
            }
            for (auto& p : ob)
                if (!drop()) a.receive(p, t);
        }
        auto x = a.take_events(), y = b.take_events();
        ea.insert(ea.end(), x.begin(), x.end());
        eb.insert(eb.end(), y.begin(), y.end());
        if (done(a) && done(b) && a.take_outgoing().empty() && b.take_outgoing().empty()) return el;
        if (auto d = a.next_timeout(); d && *d <= t) a.on_timer(t);
        if (auto d = b.next_timeout(); d && *d <= t) b.on_timer(t);
    }
    return limit;
}

} // namespace srtpo::cp::zrtp::test
