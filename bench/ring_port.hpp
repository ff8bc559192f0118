#pragma once
// A net_ring ethdev port over two rte_rings, for in-process runs of srtpo-pmd's worker
// (pmd_worker_bench, tests/pmd/worker_pipeline_test): frames enqueued on `rx` are what the
// worker receives, what it sends lands on `tx`. Needs a started EAL; the port is never freed
// (it lives as long as the process). Control path only; not thread-safe.

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <string>

namespace srtpo::bench {

struct ring_port {
    rte_mempool* pool = nullptr;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t port = 0;
};

/// Creates `<name>_mbufs` (n_mbufs mbufs, per-lcore cache `cache`), rings `<name>_rx` and
/// `<name>_tx` of `ring_size` slots, and a started one-queue net_ring port over them with
/// `desc` descriptors. Returns an error message, or "" with `out` filled.
inline std::string make_ring_port(const std::string& name, unsigned n_mbufs, unsigned cache, unsigned ring_size, uint16_t desc,
                                  ring_port& out) {
    out.pool = rte_pktmbuf_pool_create((name + "_mbufs").c_str(), n_mbufs, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    out.rx = rte_ring_create((name + "_rx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    out.tx = rte_ring_create((name + "_tx").c_str(), ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!out.pool || !out.rx || !out.tx) return std::string("mempool/ring: ") + rte_strerror(rte_errno);
    const int p = rte_eth_from_rings(("net_ring_" + name).c_str(), &out.rx, 1, &out.tx, 1, 0);
    if (p < 0) return std::string("rte_eth_from_rings: ") + rte_strerror(rte_errno);
    out.port = static_cast<uint16_t>(p);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(out.port, 1, 1, &conf) != 0 || rte_eth_rx_queue_setup(out.port, 0, desc, 0, nullptr, out.pool) != 0 ||
        rte_eth_tx_queue_setup(out.port, 0, desc, 0, nullptr) != 0 || rte_eth_dev_start(out.port) != 0)
        return "net_ring port set-up failed";
    return "";
}

} // namespace srtpo::bench
