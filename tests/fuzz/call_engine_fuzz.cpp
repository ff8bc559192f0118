// libFuzzer: SDP offers and answers (what a SIP peer or an external proxy sends) through the call
// engine, against a real (small) session table and port pool. The input is split on a NUL octet
// into an offer and an answer; its first octet picks the other leg's keying policy and whether a
// re-offer follows. Properties: no crash, no sanitizer report, a refused offer or answer leaves
// the call's ports and flows as they were, and removing the call leaves no flow and no port.
#include "flow_registry.hpp"
#include "log.hpp"
#include "port_pool.hpp"

#include <srtpo/cp/call/call_engine.hpp>
#include <srtpo/table/mapping.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

using namespace srtpo;

namespace {
struct harness {
    std::string name = "srtpo-fuzz-call-" + std::to_string(::getpid());
    std::optional<table::sessions_mapping> t;
    std::optional<cp::flow_registry> reg;
    std::optional<cp::port_pool> pool;
    std::optional<cp::call::call_engine> eng;
    harness() {
        (void)table::unlink_shm(name);
        auto m = table::sessions_mapping::create(name, 64);
        if (!m) std::abort();
        t = std::move(m.value());
        (void)table::unlink_shm(name); // the mapping stays; no file is left behind
        reg.emplace(*t, 100);
        auto p = cp::port_pool::create(31000, 31031); // 16 pairs: exhaustion is reachable
        if (!p) std::abort();
        pool = std::move(*p);
        cp::call::media_config cfg;
        cfg.enabled = true;
        cfg.address = "203.0.113.10";
        eng.emplace(*reg, *pool, cfg);
        cp::set_log_level(cp::log_level::err);
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static harness h;
    if (size < 1) return 0;
    const uint8_t mode = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto cut = rest.find('\0');
    const std::string_view offer = rest.substr(0, cut), answer = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
    cp::call::leg_policy pol;
    constexpr cp::call::keying_method methods[] = {cp::call::keying_method::same, cp::call::keying_method::sdes,
                                                   cp::call::keying_method::plain};
    pol.method = methods[mode % 3];
    pol.rtcp_mux = (mode & 4) != 0;
    if (auto o = h.eng->offer("f", cp::call::side::a, offer, pol); o) {
        if (auto a = h.eng->answer("f", cp::call::side::b, answer); !a) {
            if (h.reg->size() != 0 || h.pool->in_use() != 0) std::abort(); // a failed first answer leaves nothing
        } else if (mode & 8) {
            const auto flows = h.reg->size(), ports = h.pool->in_use();
            // A re-offer of the answer's body from b, refused or answered with the offer's body.
            if (auto o2 = h.eng->offer("f", cp::call::side::b, answer, pol); o2) {
                if (!h.eng->answer("f", cp::call::side::a, offer) && (h.reg->size() != flows || h.pool->in_use() != ports)) std::abort();
            } else if (h.reg->size() != flows || h.pool->in_use() != ports) {
                std::abort();
            }
        }
    } else if (h.eng->calls() != 0 || h.pool->in_use() != 0) {
        std::abort(); // a refused first offer leaves nothing
    }
    h.eng->remove("f");
    if (h.reg->size() != 0 || h.pool->in_use() != 0 || h.eng->calls() != 0) std::abort();
    return 0;
}
