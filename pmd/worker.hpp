#pragma once
// worker: one lcore's run-to-completion loop (model-codebases.md §7.4):
// rx_burst -> classify -> bulk flow lookup -> engine calls (at most one per class per burst)
// -> header rewrite -> tx_burst. No allocation, no locks, no per-packet logging on the loop.
// A full burst runs in two stages, one poll apart (ADR 0023): received, classified, looked up and
// its sessions prefetched in one poll of its queue; engine calls, rewrite and tx in the next,
// after the newer burst's staging — so that one burst's memory misses overlap another's crypto.
// A burst that is not full (the queue is drained) runs at once.

#include "flow_registry.hpp"
#include "flows_file.hpp"
#include "next_hop.hpp"
#include "stats.hpp"
#include "telemetry.hpp"

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

struct rte_mbuf;

namespace srtpo::pmd {

/// One rx queue this worker polls and the port/queue its output leaves on.
struct queue_io {
    uint16_t rx_port = 0, rx_queue = 0;
    uint16_t tx_port = 0, tx_queue = 0;
    /// tx_port computes IPv4 header and UDP checksums (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM and
    /// _UDP_CKSUM enabled): rewritten frames leave with offload flags instead of software sums.
    bool tx_csum_offload = false;
    l2_out l2; ///< Ethernet header of processed frames sent on tx_port (next_hop.hpp)
};

struct worker_config {
    uint16_t index = 0;                     ///< this worker's number: its tx queue on every port and its
                                            ///< thread id in the registry's QSBR variable
    std::vector<queue_io> queues;
    std::optional<uint16_t> exception_port; ///< polled too: what arrives there leaves on exception_return
    uint16_t exception_return = 0;
    std::optional<uint16_t> exception_queue; ///< this worker's rx queue on the exception port (none: not polled)
    uint16_t burst = 32;
    uint32_t exit_after_idle_ms = 0;
    uint32_t stats_interval_s = 0;          ///< 0: no periodic line
    uint16_t nb_ports = 0;
    std::size_t n_static = 0;               ///< static (--flows) entries: per-flow counters in worker_stats
};

class worker {
public:
    /// Allocates everything the loop needs (control path). `reg` outlives the worker; the worker
    /// is the single owner of the sessions of the flows whose packets it receives.
    worker(worker_config cfg, flow_registry& reg, std::unique_ptr<engine::worker_ctx> ctx, unsigned lcore);
    ~worker(); // out of line: slot is complete only in worker.cpp

    /// Polls until `stop` is set or the idle timeout expires, then runs the bursts still staged.
    /// Reports an RCU quiescent state once per loop iteration (it holds entry pointers across one
    /// report: the registry waits two grace periods) and goes offline on return.
    void run(const std::atomic<bool>& stop) noexcept;

    /// For benchmarks that drive the loop themselves instead of run(): online() registers this
    /// thread with the registry's RCU (once, before the first poll_once()), poll_once() polls every
    /// queue once and says whether anything arrived or ran (poll until false: a full burst
    /// received in one call runs in the next), offline() runs what is still staged and
    /// unregisters. Same thread for all.
    void online() noexcept;
    bool poll_once() noexcept;
    void offline() noexcept;

    const worker_stats& stats() const noexcept { return _st; }
    /// The copy DPDK telemetry reads (refreshed about every 100 ms while running).
    const stats_publisher& published() const noexcept { return _pub; }

    /// Bytes of scratch per packet for authenticate_only (the packet is verified in a copy).
    static constexpr std::size_t scratch_bytes = 2048 + 128;

private:
    struct slot;
    struct burst;
    /// A queue with its two bursts: the one held from the last poll, and the one received next.
    struct pipe {
        queue_io q;
        std::array<std::unique_ptr<burst>, 2> b;
        unsigned held = 0;
    };
    bool poll(pipe& p) noexcept;
    // A burst's steps, in order (worker.cpp says what each does and asks for).
    bool receive(const queue_io& q, burst& b, bool may_hold) noexcept;
    void lookup(burst& b) noexcept;
    void prefetch_entries(const burst& b) noexcept;
    void build_ops(burst& b) noexcept;
    void prefetch_burst_sessions(const burst& b) noexcept;
    void run_unprotect(burst& b) noexcept;
    void run_protect(burst& b) noexcept;
    void run_tx(const queue_io& q, burst& b) noexcept;
    void finish(const queue_io& q, burst& b) noexcept; ///< run_unprotect, run_protect, run_tx

    void drain() noexcept;
    bool claim(flow_entry& e) noexcept;
    void adopt(flow_entry& e) noexcept;
    void touch(flow_entry& e, burst& b) noexcept;
    void write_status(flow_entry& e) noexcept;
    void poll_exception() noexcept;
    void to_exception(rte_mbuf* m) noexcept;
    void flush_exception() noexcept;

    worker_config _cfg;
    flow_registry& _reg;
    uint64_t _burst_serial = 0;
    std::unique_ptr<engine::worker_ctx> _ctx;
    /// One per queue, allocated once. A burst's slots are reset as its frames are taken, and its
    /// ops written before they are read, so a burst needs no initialisation of its own.
    std::vector<pipe> _pipes;
    worker_stats _st;
    stats_publisher _pub{_st};
    std::array<rte_mbuf*, engine::max_burst> _exc{};
    unsigned _nexc = 0;
};

} // namespace srtpo::pmd
