#include "telemetry.hpp"

#include <rte_telemetry.h>

#include <algorithm>
#include <atomic>
#include <string>

namespace srtpo::pmd {

void stats_publisher::copy(const worker_stats& live) noexcept {
    // Same-size vectors: element-wise assignment, no allocation.
    _snap.lcore = live.lcore;
    _snap.bursts = live.bursts;
    _snap.rx = live.rx;
    _snap.tx = live.tx;
    _snap.rtp = live.rtp;
    _snap.rtcp = live.rtcp;
    _snap.by_status = live.by_status;
    _snap.frame = live.frame;
    _snap.drops = live.drops;
    _snap.exception_out = live.exception_out;
    _snap.exception_dropped = live.exception_dropped;
    std::copy_n(live.ports.begin(), std::min(live.ports.size(), _snap.ports.size()), _snap.ports.begin());
    std::copy_n(live.flows.begin(), std::min(live.flows.size(), _snap.flows.size()), _snap.flows.begin());
}

namespace {

std::mutex g_reg_m; // guards the registration against unregister during a callback
std::vector<const stats_publisher*> g_pubs;
const std::vector<flow>* g_flows = nullptr;

/// The sum of every worker's published copy (telemetry thread; allocates, off the data path).
worker_stats published_total() {
    std::vector<worker_stats> copies;
    copies.reserve(g_pubs.size());
    for (const auto* p : g_pubs) p->read([&](const worker_stats& s) { copies.push_back(s); });
    std::vector<const worker_stats*> ptrs;
    for (const auto& c : copies) ptrs.push_back(&c);
    return total(ptrs);
}

int stats_cmd(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    std::lock_guard lk(g_reg_m);
    if (g_pubs.empty()) return 0;
    {
        const worker_stats s = published_total();
        rte_tel_data_add_dict_u64(d, "workers", g_pubs.size());
        rte_tel_data_add_dict_u64(d, "rx", s.rx);
        rte_tel_data_add_dict_u64(d, "tx", s.tx);
        rte_tel_data_add_dict_u64(d, "rtp", s.rtp);
        rte_tel_data_add_dict_u64(d, "rtcp", s.rtcp);
        for (std::size_t i = 0; i < engine::status_count; ++i)
            rte_tel_data_add_dict_u64(d, ("status_" + std::string(engine::status_names[i])).c_str(), s.by_status.n[i]);
        for (std::size_t i = 0; i < drop_reason_count; ++i)
            rte_tel_data_add_dict_u64(d, ("drop_" + std::string(drop_reason_names[i])).c_str(), s.drops[i]);
        for (std::size_t i = 1; i < net::parse_status_count; ++i)
            rte_tel_data_add_dict_u64(d, ("frame_" + std::string(net::parse_status_names[i])).c_str(), s.frame[i]);
        rte_tel_data_add_dict_u64(d, "exception_out", s.exception_out);
        rte_tel_data_add_dict_u64(d, "exception_dropped", s.exception_dropped);
        for (std::size_t p = 0; p < s.ports.size(); ++p) {
            rte_tel_data_add_dict_u64(d, ("port" + std::to_string(p) + "_rx").c_str(), s.ports[p].rx);
            rte_tel_data_add_dict_u64(d, ("port" + std::to_string(p) + "_tx").c_str(), s.ports[p].tx);
        }
    }
    return 0;
}

int flows_cmd(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    std::lock_guard lk(g_reg_m);
    if (g_pubs.empty() || !g_flows) return 0;
    {
        const worker_stats s = published_total();
        // RTE_TEL_MAX_DICT_ENTRIES bounds one reply; the first flows are listed.
        for (std::size_t i = 0; i < s.flows.size() && i < g_flows->size() && i < 200; ++i) {
            rte_tel_data* f = rte_tel_data_alloc();
            if (!f) return 0;
            rte_tel_data_start_dict(f);
            rte_tel_data_add_dict_string(f, "match", to_string((*g_flows)[i].match).c_str());
            rte_tel_data_add_dict_string(f, "action", std::string(to_string((*g_flows)[i].act)).c_str());
            rte_tel_data_add_dict_u64(f, "rx", s.flows[i].rx);
            rte_tel_data_add_dict_u64(f, "tx", s.flows[i].tx);
            for (std::size_t k = 0; k < engine::status_count; ++k)
                if (s.flows[i].by_status.n[k] || k == 0)
                    rte_tel_data_add_dict_u64(f, std::string(engine::status_names[k]).c_str(), s.flows[i].by_status.n[k]);
            rte_tel_data_add_dict_container(d, ("flow" + std::to_string(i)).c_str(), f, 0);
        }
    }
    return 0;
}

} // namespace

void register_telemetry(std::vector<const stats_publisher*> pubs, const std::vector<flow>& flows) {
    static std::atomic<bool> registered{false};
    {
        std::lock_guard lk(g_reg_m);
        g_pubs = std::move(pubs);
        g_flows = &flows;
    }
    if (registered.exchange(true)) return;
    rte_telemetry_register_cmd("/srtpo/stats", stats_cmd, "srtpo-pmd totals: rx, tx, per status, per drop reason, per port");
    rte_telemetry_register_cmd("/srtpo/flows", flows_cmd, "srtpo-pmd per-flow counters (match, action, rx, tx, statuses)");
}

void unregister_telemetry() {
    std::lock_guard lk(g_reg_m);
    g_pubs.clear();
    g_flows = nullptr;
}

} // namespace srtpo::pmd
