#pragma once
// TEST DOUBLE for call::media_handler. It stands for the call engine (control-plane/call, written
// separately): where the real engine allocates ports, keys each leg and installs flows, this one
// only rewrites every c= line and the o= address to a fixed per-leg address (192.0.2.10 towards leg a, 192.0.2.20
// towards leg b) and every m= port to 40000 (leg a) / 40002 (leg b), drops a=crypto lines (so a
// caller's key can never appear on the other leg) and records each call it gets. Knobs make the
// next offer or answer fail with a chosen api_errc. What it proves: that the B2BUA routes every
// SDP body through the handler with the right call id, side and policy, and sends on what the
// handler returned, not what the peer sent.

#include <srtpo/cp/call/media_handler.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace srtpo::cp::test {

class fake_call_engine final : public call::media_handler {
public:
    struct record {
        std::string op;      ///< offer, answer, reject_offer, remove
        std::string call_id;
        call::side side = call::side::a;
        std::string sdp;     ///< what the peer sent
        call::keying_method to_method = call::keying_method::same;
    };
    std::vector<record> calls;
    std::optional<api::api_error> fail_next_offer, fail_next_answer;

    static std::string address_for(call::side to) { return to == call::side::a ? "192.0.2.10" : "192.0.2.20"; }
    static int port_for(call::side to) { return to == call::side::a ? 40000 : 40002; }

    /// The SDP this double sends towards `to` for a peer's `sdp`.
    static std::string rewrite(std::string_view sdp, call::side to) {
        std::istringstream in{std::string(sdp)};
        std::string line, out;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.starts_with("c=")) line = "c=IN IP4 " + address_for(to);
            else if (line.starts_with("o=")) line = line.substr(0, line.rfind(' ') + 1) + address_for(to);
            else if (line.starts_with("a=crypto:")) continue;
            else if (line.starts_with("m=")) {
                auto sp1 = line.find(' ');
                auto sp2 = line.find(' ', sp1 + 1);
                if (sp1 != std::string::npos && sp2 != std::string::npos)
                    line = line.substr(0, sp1 + 1) + std::to_string(port_for(to)) + line.substr(sp2);
            }
            out += line + "\r\n";
        }
        return out;
    }

    api::api_result<call::sdp_rewrite> offer(std::string_view call_id, call::side from, std::string_view sdp,
                                             const call::leg_policy& to_policy) override {
        calls.push_back({"offer", std::string(call_id), from, std::string(sdp), to_policy.method});
        if (fail_next_offer) {
            auto e = *fail_next_offer;
            fail_next_offer.reset();
            return e;
        }
        return call::sdp_rewrite{rewrite(sdp, call::other(from)), {}};
    }
    api::api_result<call::sdp_rewrite> answer(std::string_view call_id, call::side from, std::string_view sdp) override {
        calls.push_back({"answer", std::string(call_id), from, std::string(sdp), {}});
        if (fail_next_answer) {
            auto e = *fail_next_answer;
            fail_next_answer.reset();
            return e;
        }
        return call::sdp_rewrite{rewrite(sdp, call::other(from)), {}};
    }
    void reject_offer(std::string_view call_id, call::side to) override {
        calls.push_back({"reject_offer", std::string(call_id), to, {}, {}});
    }
    void remove(std::string_view call_id) override { calls.push_back({"remove", std::string(call_id), call::side::a, {}, {}}); }

    std::size_t count(std::string_view op) const {
        std::size_t n = 0;
        for (const auto& r : calls) n += r.op == op;
        return n;
    }
};

} // namespace srtpo::cp::test
