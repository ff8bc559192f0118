#include "stats.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

namespace srtpo::pmd {

worker_stats total(const std::vector<const worker_stats*>& ws) {
    worker_stats t;
    for (const auto* w : ws) {
        t.bursts += w->bursts;
        t.rx += w->rx;
        t.tx += w->tx;
        t.rtp += w->rtp;
        t.rtcp += w->rtcp;
        for (std::size_t i = 0; i < engine::status_count; ++i) t.by_status.n[i] += w->by_status.n[i];
        for (std::size_t i = 0; i < t.frame.size(); ++i) t.frame[i] += w->frame[i];
        for (std::size_t i = 0; i < t.drops.size(); ++i) t.drops[i] += w->drops[i];
        t.exception_out += w->exception_out;
        t.exception_dropped += w->exception_dropped;
        if (t.ports.size() < w->ports.size()) t.ports.resize(w->ports.size());
        for (std::size_t i = 0; i < w->ports.size(); ++i) {
            t.ports[i].rx += w->ports[i].rx;
            t.ports[i].tx += w->ports[i].tx;
            t.ports[i].exception_in += w->ports[i].exception_in;
        }
        if (t.flows.size() < w->flows.size()) t.flows.resize(w->flows.size());
        for (std::size_t i = 0; i < w->flows.size(); ++i) {
            t.flows[i].rx += w->flows[i].rx;
            t.flows[i].tx += w->flows[i].tx;
            for (std::size_t s = 0; s < engine::status_count; ++s) t.flows[i].by_status.n[s] += w->flows[i].by_status.n[s];
        }
    }
    return t;
}

std::string summary_line(const worker_stats& t, double seconds) {
    std::ostringstream o;
    o << "rx " << t.rx << " tx " << t.tx << " | rtp " << t.rtp << " rtcp " << t.rtcp << ":";
    for (std::size_t i = 0; i < engine::status_count; ++i)
        if (i == 0 || t.by_status.n[i]) o << ' ' << engine::status_names[i] << ' ' << t.by_status.n[i];
    o << " | drops:";
    bool any = false;
    for (std::size_t i = 0; i < drop_reason_count; ++i)
        if (t.drops[i]) {
            o << ' ' << drop_reason_names[i] << ' ' << t.drops[i];
            any = true;
        }
    if (!any) o << " none";
    if (t.exception_out) o << " | exception out " << t.exception_out;
    if (seconds > 0) o << " | " << static_cast<uint64_t>(static_cast<double>(t.rx) / seconds) << " pkt/s";
    return o.str();
}

namespace {

nlohmann::ordered_json statuses(const engine::status_counters& c) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < engine::status_count; ++i) j[std::string(engine::status_names[i])] = c.n[i];
    return j;
}

} // namespace

std::string summary_json(const std::vector<const worker_stats*>& ws, const std::vector<flow>& flows, double seconds) {
    const worker_stats t = total(ws);
    nlohmann::ordered_json j;
    j["rx"] = t.rx;
    j["tx"] = t.tx;
    j["rtp"] = t.rtp;
    j["rtcp"] = t.rtcp;
    j["status"] = statuses(t.by_status);
    auto& d = j["drops"] = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < drop_reason_count; ++i) d[std::string(drop_reason_names[i])] = t.drops[i];
    auto& fr = j["frame"] = nlohmann::ordered_json::object();
    for (std::size_t i = 1; i < net::parse_status_count; ++i) fr[std::string(net::parse_status_names[i])] = t.frame[i];
    j["exception_out"] = t.exception_out;
    j["exception_dropped"] = t.exception_dropped;
    auto& ports = j["ports"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < t.ports.size(); ++i)
        ports.push_back({{"port", i}, {"rx", t.ports[i].rx}, {"tx", t.ports[i].tx}, {"exception_in", t.ports[i].exception_in}});
    auto& lc = j["lcores"] = nlohmann::ordered_json::array();
    for (const auto* w : ws) lc.push_back({{"lcore", w->lcore}, {"bursts", w->bursts}, {"rx", w->rx}, {"tx", w->tx}});
    auto& fl = j["flows"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < flows.size() && i < t.flows.size(); ++i)
        fl.push_back({{"flow", flows[i].label},
                      {"action", std::string(to_string(flows[i].act))},
                      {"rx", t.flows[i].rx},
                      {"tx", t.flows[i].tx},
                      {"status", statuses(t.flows[i].by_status)}});
    j["seconds"] = seconds;
    return j.dump();
}

} // namespace srtpo::pmd
