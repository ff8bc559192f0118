// srtpo-pmd: the DPDK primary process. EAL and ports here; the loop in worker.cpp, flows in
// flows_file.cpp, lookup in flow_table.cpp, counters in stats.cpp.
//
//   srtpo-pmd [EAL args] -- [--flows FILE.toml] [--table NAME] [--exit-after-idle MS]
//             [--stats-interval S] [--burst N] [--tx-port N] [--exception-port N] [--rss ip|udp] [--json]
//
// One worker per EAL lcore; each polls its own rx queue of every port and owns the flows whose
// packets it receives (worker.cpp: claim()).
//
// Exit codes: 0 after a clean stop (signal or idle timeout), 1 on a run-time failure (EAL, ports,
// memory), 2 on a usage, flows-file or session-table error (absent, or its header refused).

#include "flow_registry.hpp"
#include "flows_file.hpp"
#include "table_sync.hpp"
#include "options.hpp"
#include "stats.hpp"
#include "telemetry.hpp"
#include "worker.hpp"

#include <srtpo/engine/backend.hpp>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <memory>
#include <optional>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace srtpo;
using namespace srtpo::pmd;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

/// Ports as RTE_ETH_FOREACH_DEV lists them (the macro itself trips -Wconversion).
mac_address port_mac(uint16_t port) {
    rte_ether_addr a{};
    (void)rte_eth_macaddr_get(port, &a);
    mac_address m;
    std::memcpy(m.b.data(), a.addr_bytes, 6);
    return m;
}

std::vector<uint16_t> eth_ports() {
    std::vector<uint16_t> v;
    for (uint64_t p = rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER); p < RTE_MAX_ETHPORTS;
         p = rte_eth_find_next_owned_by(static_cast<uint16_t>(p + 1), RTE_ETH_DEV_NO_OWNER))
        v.push_back(static_cast<uint16_t>(p));
    return v;
}

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "srtpo-pmd: %s\n", msg.c_str());
    return code;
}

/// Queues of one port: one tx queue per worker (tx queues are not thread-safe), and as many rx
/// queues as the port offers up to one per worker, spread by RSS where the port hashes.
struct port_queues {
    uint16_t rx = 1;
    bool rss = false;
    bool csum = false;    ///< tx IPv4 header + UDP checksum offload enabled
    uint64_t rx_csum = 0; ///< the RX checksum offloads enabled (the port's verdicts the worker reads)
};

/// Configures and starts `port` for `workers` workers. Returns an error message or "".
std::string setup_port(uint16_t port, rte_mempool* pool, uint16_t workers, options::rss_kind rss, port_queues& q) {
    const std::string name = "port " + std::to_string(port);
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) return name + ": dev_info: " + rte_strerror(-rc);
    if (info.max_tx_queues < workers)
        return name + " has " + std::to_string(info.max_tx_queues) + " tx queue(s) but " + std::to_string(workers) +
               " workers need one each: give fewer lcores (or, for net_pcap, one tx_pcap per worker)";
    q.rx = std::min<uint16_t>(workers, std::max<uint16_t>(info.max_rx_queues, 1));
    rte_eth_conf conf{};
    // RSS (model-codebases.md §7.4): the hash decides which worker owns a flow. `ip` hashes the
    // address pair only, so RTP on P and RTCP on P + 1 of a flow meet on one worker.
    const uint64_t want = rss == options::rss_kind::ip ? RTE_ETH_RSS_IP : (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
    const uint64_t hf = want & info.flow_type_rss_offloads;
    if (q.rx > 1 && hf != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = hf;
        q.rss = true;
    }
    // Checksums: ports that can compute IPv4 header and UDP checksums on transmit get them
    // offloaded (the rewrite leaves the pseudo-header sum, udp_rewrite.hpp); others get them
    // computed in software.
    constexpr uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    if ((info.tx_offload_capa & csum) == csum) {
        conf.txmode.offloads |= csum;
        q.csum = true;
    }
    // Receive side: where the port verifies IPv4 and UDP checksums, the worker reads its verdict
    // from the mbuf flags instead of summing the frame (worker.cpp, checksums_pass).
    constexpr uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    q.rx_csum = info.rx_offload_capa & rx_csum;
    conf.rxmode.offloads |= q.rx_csum;
    if (int rc = rte_eth_dev_configure(port, q.rx, workers, &conf); rc != 0) return name + ": configure: " + rte_strerror(-rc);
    uint16_t nb_rx = 1024, nb_tx = 1024;
    if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rx, &nb_tx); rc != 0) return name + ": descriptors: " + rte_strerror(-rc);
    const int socket = rte_eth_dev_socket_id(port);
    const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
    for (uint16_t i = 0; i < q.rx; ++i)
        if (int rc = rte_eth_rx_queue_setup(port, i, nb_rx, sock, nullptr, pool); rc != 0)
            return name + ": rx queue " + std::to_string(i) + ": " + rte_strerror(-rc);
    for (uint16_t i = 0; i < workers; ++i)
        if (int rc = rte_eth_tx_queue_setup(port, i, nb_tx, sock, nullptr); rc != 0)
            return name + ": tx queue " + std::to_string(i) + ": " + rte_strerror(-rc);
    if (int rc = rte_eth_dev_start(port); rc != 0) return name + ": start: " + rte_strerror(-rc);
    (void)rte_eth_promiscuous_enable(port); // vdevs may not support it; not an error
    return {};
}

/// rte_eal_remote_launch entry: one worker per lcore.
int run_worker(void* arg) {
    static_cast<worker*>(arg)->run(g_stop);
    return 0;
}

int run(int argc, char** argv) {
    const int consumed = rte_eal_init(argc, argv);
    if (consumed < 0) return fail(1, std::string("EAL init failed: ") + rte_strerror(rte_errno));
    argc -= consumed;
    argv += consumed;

    auto opt = parse_options(argc, argv);
    if (!opt) {
        std::fprintf(stderr, "srtpo-pmd: %s\n%s", opt.err().message.c_str(), usage);
        rte_eal_cleanup();
        return 2;
    }
    engine::result<std::vector<flow>> flows = std::vector<flow>{};
    if (!opt->flows.empty()) flows = load_flows(opt->flows);
    if (!flows) {
        rte_eal_cleanup();
        return fail(2, flows.err().message);
    }
    // The table first: its capacity sizes the registry (slot ids 0..capacity-1, then the static
    // flows). A missing table or a refused header is a configuration error: exit 2.
    uint32_t table_capacity = 0;
    if (!opt->table.empty()) {
        auto t = table::sessions_mapping::attach(opt->table);
        if (!t) {
            rte_eal_cleanup();
            return fail(2, "--table " + opt->table + ": " + t.err().message);
        }
        table_capacity = t->capacity();
    }

    // The exception path is on by default (issue 4 §4): without --exception-port, a TAP interface
    // becomes the exception port where the host allows one, so ARP, ICMP, ND, STUN, DTLS and ZRTP
    // reach the kernel and srtpo-cp's sockets. The TAP takes the first data port's MAC, so the
    // kernel's ARP/ND answers for the engine's addresses name the MAC the fast path sends from
    // (next_hop.hpp): one L2 identity, whichever path a frame takes. Where it does not (no /dev/net/tun, no
    // CAP_NET_ADMIN), the pmd runs without one and says so; those frames are then counted drops.
    std::string exception_note;
    if (!opt->exception_port && !opt->no_exception) {
        const std::string name = "net_tap_srtpo_exc";
        if (access("/dev/net/tun", R_OK | W_OK) != 0) {
            exception_note = "exception path off: /dev/net/tun is not usable (give --exception-port N, or --no-exception)";
        } else if (const auto data = eth_ports(); !data.empty() &&
                   rte_dev_probe((name + ",iface=" + opt->exception_iface + ",mac=" + to_string(port_mac(data.front()))).c_str()) != 0) {
            exception_note = "exception path off: cannot create TAP interface " + opt->exception_iface + " (CAP_NET_ADMIN? name in use?)";
        } else {
            uint16_t pid = 0;
            if (rte_eth_dev_get_port_by_name(name.c_str(), &pid) == 0) {
                opt->exception_port = pid;
                exception_note = "exception path: TAP interface " + opt->exception_iface + " (port " + std::to_string(pid) + ")";
            }
        }
    }
    const uint16_t nb_ports = rte_eth_dev_count_avail();
    if (nb_ports == 0) {
        rte_eal_cleanup();
        return fail(1, "no ethernet ports (give a NIC bound to a DPDK driver, or --vdev=net_pcap0,rx_pcap=IN,tx_pcap=OUT)");
    }
    for (const auto& h : opt->next_hops)
        if (h.port && *h.port >= nb_ports) {
            rte_eal_cleanup();
            return fail(2, "--next-hop-mac: port " + std::to_string(*h.port) + " does not exist (" + std::to_string(nb_ports) + " ports)");
        }
    for (auto p : {opt->tx_port, opt->exception_port})
        if (p && *p >= nb_ports) {
            rte_eal_cleanup();
            return fail(2, "port " + std::to_string(*p) + " does not exist (" + std::to_string(nb_ports) + " ports)");
        }

    // One worker per lcore of the EAL's set (-l/--lcores); the main lcore runs worker 0.
    const auto nb_workers = static_cast<uint16_t>(rte_lcore_count());
    // Every rx and tx ring of every port may hold mbufs at once, plus the per-lcore caches.
    const unsigned nb_mbufs = std::max(8191u, 4096u * nb_workers * nb_ports - 1);
    rte_mempool* pool = rte_pktmbuf_pool_create("srtpo_mbufs", nb_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    if (!pool) {
        rte_eal_cleanup();
        return fail(1, std::string("mbuf pool: ") + rte_strerror(rte_errno));
    }
    std::vector<uint16_t> ports;
    std::vector<port_queues> pq(RTE_MAX_ETHPORTS);
    for (const uint16_t pid : eth_ports()) {
        if (auto e = setup_port(pid, pool, nb_workers, opt->rss, pq[pid]); !e.empty()) {
            rte_eal_cleanup();
            return fail(1, e);
        }
        if (!opt->exception_port || pid != *opt->exception_port) ports.push_back(pid);
    }
    if (ports.empty()) {
        rte_eal_cleanup();
        return fail(2, "no data port left besides the exception port");
    }

    // Port pairs: with --tx-port every data port transmits there; else 0<->1, 2<->3, ... and a
    // port without a partner transmits back on itself. Worker w polls rx queue w of every port
    // that has one, and transmits on tx queue w.
    std::vector<worker_config> wcs(nb_workers);
    for (uint16_t w = 0; w < nb_workers; ++w) {
        worker_config& wc = wcs[w];
        wc.index = w;
        wc.nb_ports = static_cast<uint16_t>(rte_eth_dev_count_total());
        for (std::size_t i = 0; i < ports.size(); ++i) {
            if (w >= pq[ports[i]].rx) continue;
            queue_io q;
            q.rx_port = ports[i];
            q.rx_queue = w;
            if (opt->tx_port) q.tx_port = *opt->tx_port;
            else if (ports.size() >= 2 && (i ^ 1u) < ports.size()) q.tx_port = ports[i ^ 1u];
            else q.tx_port = ports[i];
            q.tx_queue = w;
            q.tx_csum_offload = pq[q.tx_port].csum;
            q.l2.route = opt->l2_route;
            q.l2.reflect = q.tx_port == q.rx_port;
            q.l2.src = port_mac(q.tx_port);
            for (const auto& h : opt->next_hops)
                if (h.port == q.tx_port || (!h.port && !q.l2.has_next_hop)) {
                    q.l2.has_next_hop = true;
                    q.l2.next_hop = h.mac;
                }
            wc.queues.push_back(q);
        }
        wc.exception_port = opt->exception_port;
        wc.exception_return = ports.front();
        if (opt->exception_port && w < pq[*opt->exception_port].rx) wc.exception_queue = w;
        wc.burst = opt->burst;
        wc.exit_after_idle_ms = opt->exit_after_idle_ms;
        wc.stats_interval_s = opt->stats_interval_s;
        wc.n_static = flows->size();
    }
    auto reg = flow_registry::create(table_capacity + static_cast<uint32_t>(flows->size()), nb_workers, static_cast<int>(rte_socket_id()));
    if (!reg) {
        rte_eal_cleanup();
        return fail(1, reg.err().message);
    }
    // Static flows: ids after the table's slots, never replaced.
    for (std::size_t i = 0; i < flows->size(); ++i) {
        flow& f = (*flows)[i];
        auto e = std::make_unique<flow_entry>();
        e->id = table_capacity + static_cast<uint32_t>(i);
        e->key = make_flow_key(f.match.addr, f.match.port);
        e->proto = table::flow_proto::rtp; // RTCP muxed on P and on P + 1
        e->act = f.act;
        e->in = std::move(f.in);
        e->out = std::move(f.out);
        e->send_from = f.send_from;
        e->send_to = f.send_to;
        if (f.next_hop_mac) {
            e->has_next_hop = true;
            e->next_hop = *f.next_hop_mac;
        }
        e->static_index = static_cast<uint32_t>(i);
        e->adopted.store(true, std::memory_order_relaxed);
        if (auto p = (*reg)->publish(std::move(e)); !p) {
            rte_eal_cleanup();
            return fail(2, f.label + ": " + p.err().message);
        }
    }
    std::unique_ptr<table_sync> sync;
    if (!opt->table.empty()) {
        auto ts = table_sync::open(opt->table, **reg);
        if (!ts) {
            rte_eal_cleanup();
            return fail(2, "--table " + opt->table + ": " + ts.err().message);
        }
        sync = std::move(ts.value());
        if (auto r = sync->initial_sync(); !r) {
            rte_eal_cleanup();
            return fail(1, "--table " + opt->table + ": " + r.err().message);
        }
    }
    std::vector<std::unique_ptr<worker>> workers;
    std::vector<const stats_publisher*> pubs;
    unsigned lcore = rte_get_main_lcore();
    for (uint16_t w = 0; w < nb_workers; ++w) {
        auto ctx = engine::worker_ctx::create();
        if (!ctx) {
            rte_eal_cleanup();
            return fail(1, "worker context: " + ctx.err().message);
        }
        if (w > 0) lcore = rte_get_next_lcore(lcore, 1, 0);
        workers.push_back(std::make_unique<worker>(std::move(wcs[w]), **reg, std::move(ctx.value()), lcore));
        pubs.push_back(&workers.back()->published());
    }
    register_telemetry(pubs, *flows);

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::printf("srtpo-pmd: %zu static flows, %zu flows in total (%zu lookup keys), %zu data ports%s, burst %u, %u worker%s (rss %s)\n",
                flows->size(), (*reg)->published(), (*reg)->keys(), ports.size(), opt->exception_port ? " + exception port" : "",
                opt->burst, nb_workers, nb_workers == 1 ? "" : "s", opt->rss == options::rss_kind::ip ? "ip" : "udp");
    // Sessions take the engine's default backend (IPsec-MB where the CPU has it); the line says
    // which, and which HMAC-SHA1 it runs (ADR 0022; SRTPO_HMAC_SHA1 in the environment).
    std::printf("srtpo-pmd: crypto backend %s\n", std::string(engine::backend_description(engine::default_backend())).c_str());
    for (const uint16_t pid : ports) {
        std::string hop;
        for (const auto& h : opt->next_hops)
            if (h.port == pid || (!h.port && hop.empty())) hop = ", next hop " + to_string(h.mac);
        std::printf("srtpo-pmd: port %u: MAC %s, L2 %s%s\n", pid, to_string(port_mac(pid)).c_str(),
                    opt->l2_route ? "route" : "keep", hop.c_str());
        if (pq[pid].csum) std::printf("srtpo-pmd: port %u: tx checksum offload (IPv4 header, UDP)\n", pid);
        if (const uint64_t rx = pq[pid].rx_csum)
            std::printf("srtpo-pmd: port %u: rx checksum verdicts from the port (%s%s%s)\n", pid,
                        rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM ? "IPv4 header" : "",
                        rx == (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM) ? ", " : "",
                        rx & RTE_ETH_RX_OFFLOAD_UDP_CKSUM ? "UDP" : "");
        if (nb_workers > 1 && pq[pid].rx < nb_workers)
            std::printf("srtpo-pmd: port %u has %u rx queue(s): workers %u.. do not poll it\n", pid, pq[pid].rx, pq[pid].rx);
        else if (nb_workers > 1 && !pq[pid].rss)
            std::printf("srtpo-pmd: port %u: %u rx queues without RSS (each queue is its own source)\n", pid, pq[pid].rx);
    }
    if (sync)
        std::printf("srtpo-pmd: table %s: %u slots, status %s, sync thread polling every 1 ms\n", opt->table.c_str(),
                    sync->capacity(), sync->status_name().c_str());
    if (!exception_note.empty()) std::printf("srtpo-pmd: %s\n", exception_note.c_str());
    std::fflush(stdout);

    if (sync)
        if (auto r = sync->start(); !r) {
            rte_eal_cleanup();
            return fail(1, r.err().message);
        }
    const uint64_t t0 = rte_get_tsc_cycles();
    {
        unsigned lc = rte_get_main_lcore();
        for (std::size_t w = 1; w < workers.size(); ++w) {
            lc = rte_get_next_lcore(lc, 1, 0);
            if (int rc = rte_eal_remote_launch(run_worker, workers[w].get(), lc); rc != 0) {
                g_stop.store(true);
                std::fprintf(stderr, "srtpo-pmd: launching worker %zu on lcore %u: %s\n", w, lc, rte_strerror(-rc));
            }
        }
        workers[0]->run(g_stop);
        rte_eal_mp_wait_lcore();
    }
    if (sync) sync->stop();
    const double seconds = static_cast<double>(rte_get_tsc_cycles() - t0) / static_cast<double>(rte_get_tsc_hz());

    // Stop and close every port: net_pcap flushes its tx file on close.
    for (const uint16_t pid : eth_ports()) {
        (void)rte_eth_dev_stop(pid);
        (void)rte_eth_dev_close(pid);
    }
    unregister_telemetry();
    std::vector<const worker_stats*> all;
    for (const auto& w : workers) all.push_back(&w->stats());
    std::printf("srtpo-pmd: final: %s\n", summary_line(total(all), seconds).c_str());
    if (sync) {
        const auto& c = sync->stats();
        std::printf("srtpo-pmd: table: applied %llu rekeyed %llu rebuilt %llu removed %llu refused %llu resumed %llu resyncs %llu\n",
                    static_cast<unsigned long long>(c.applied), static_cast<unsigned long long>(c.rekeyed),
                    static_cast<unsigned long long>(c.rebuilt), static_cast<unsigned long long>(c.removed),
                    static_cast<unsigned long long>(c.refused), static_cast<unsigned long long>(c.resumed),
                    static_cast<unsigned long long>(c.resyncs));
    }
    if (opt->json) std::printf("%s\n", summary_json(all, *flows, seconds).c_str());
    std::fflush(stdout);
    sync.reset();
    workers.clear();
    reg->reset(); // every entry, and with them the sessions (keys zeroized)
    flows->clear();
    rte_mempool_free(pool);
    rte_eal_cleanup();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}
