// libFuzzer: the ZRTP endpoint state machine fed hostile packets. Two of our endpoints run a real
// exchange; the fuzzer's bytes decide, packet by packet, whether to pass it, drop it, flip bytes in
// it (then fix the CRC, so the message layer sees the damage), replay an earlier one, or inject
// a message of its own, and when timers fire. Nothing may crash, hang or leak, and a secure
// endpoint must always be able to hand out keys.
#include <srtpo/cp/zrtp/endpoint.hpp>
#include <srtpo/cp/zrtp/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

using namespace srtpo::cp::zrtp;

namespace {

struct reader {
    std::span<const uint8_t> d;
    std::size_t o = 0;
    bool more() const { return o < d.size(); }
    uint8_t u8() { return more() ? d[o++] : 0; }
    std::span<const uint8_t> take(std::size_t n) {
        n = std::min(n, d.size() - o);
        auto s = d.subspan(o, n);
        o += n;
        return s;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    reader r{std::span(data, size)};
    static zid_cache ca = zid_cache::in_memory(), cb = zid_cache::in_memory();
    auto calla = std::make_shared<call>(ca), callb = std::make_shared<call>(cb);
    endpoint_config cfa, cfb;
    cfa.ssrc = 1;
    cfb.ssrc = 2;
    cfb.passive = r.u8() & 1;
    // Cheap key agreements keep the fuzzer fast; DH is exercised by the unit tests.
    cfa.algorithms.key_agreements = cfb.algorithms.key_agreements = {key_agreement::x255, key_agreement::ec25};
    auto a = endpoint::create(calla, cfa), b = endpoint::create(callb, cfb);
    if (!a || !b) __builtin_trap();
    time_point t{};
    (*a)->start(t);
    (*b)->start(t);
    std::vector<std::vector<uint8_t>> seen;
    for (int step = 0; step < 64 && r.more(); ++step) {
        for (auto* pair : {&a, &b}) {
            auto& from = **pair;
            auto& to = pair == &a ? *b : *a;
            for (auto& p : from->take_outgoing()) {
                const uint8_t op = r.u8();
                if (seen.size() < 32) seen.push_back(p);
                switch (op % 5) {
                case 0: to->receive(p, t); break;
                case 1: break; // dropped
                case 2: {      // damaged behind a valid CRC
                    if (p.size() > 20) {
                        std::vector<uint8_t> m(p.begin() + 12, p.end() - 4);
                        m[r.u8() % m.size()] ^= static_cast<uint8_t>(r.u8() | 1);
                        to->receive(frame_packet(7, 9, m), t);
                    }
                    break;
                }
                case 3: to->receive(seen[r.u8() % seen.size()], t); break; // replay
                default: {     // the fuzzer's own message
                    auto m = r.take(r.u8());
                    to->receive(frame_packet(7, 9, m), t);
                    to->receive(m, t);
                }
                }
            }
            (void)from->take_events();
        }
        t += std::chrono::milliseconds(r.u8() * 8);
        (*a)->on_timer(t);
        (*b)->on_timer(t);
    }
    for (auto* e : {&a, &b}) {
        const auto info = (**e)->info();
        if (info.st == state::secure && !(**e)->keying()) __builtin_trap();
        if (info.st != state::secure && (**e)->keying()) __builtin_trap();
    }
    return 0;
}
