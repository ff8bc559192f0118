#pragma once
// worker: one lcore's run-to-completion loop (model-codebases.md §7.4):
// rx_burst -> classify -> bulk flow lookup -> engine calls (at most one per class per burst)
// -> header rewrite -> tx_burst. No allocation, no locks, no per-packet logging on the loop.

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

    /// Polls until `stop` is set or the idle timeout expires. Reports an RCU quiescent state once
    /// per loop iteration (it holds no entry pointer between bursts) and goes offline on return.
    void run(const std::atomic<bool>& stop) noexcept;

    /// For benchmarks that drive the loop themselves instead of run(): online() registers this
    /// thread with the registry's RCU (once, before the first poll_once()), poll_once() polls every
    /// queue once and says whether anything arrived, offline() unregisters. Same thread for all.
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
    bool poll(const queue_io& q) noexcept;
    bool claim(flow_entry& e) noexcept;
    void adopt(flow_entry& e) noexcept;
    void touch(flow_entry& e) noexcept;
    void write_status(flow_entry& e) noexcept;
    void poll_exception() noexcept;
    void to_exception(rte_mbuf* m) noexcept;
    void flush_exception() noexcept;

    worker_config _cfg;
    flow_registry& _reg;
    uint64_t _burst_serial = 0;
    std::array<flow_entry*, engine::max_burst> _touched{};
    unsigned _ntouched = 0;
    std::unique_ptr<engine::worker_ctx> _ctx;
    /// The burst's ops by class (unprotect RTP/RTCP, protect RTP/RTCP). A member, not a local:
    /// every op is written before it is read, so the 8 KiB need no per-burst initialisation.
    std::array<std::array<engine::op, engine::max_burst>, 4> _ops;
    /// The burst's frames (max_burst slots, allocated once): each used slot is reset as its frame
    /// is taken, so a burst of n frames no longer value-initialises all max_burst of them.
    std::unique_ptr<slot[]> _slots;
    std::array<flow_key, engine::max_burst> _keys; ///< written before read, like _ops
    worker_stats _st;
    stats_publisher _pub{_st};
    std::vector<std::byte> _scratch; ///< burst x scratch_bytes
    std::array<rte_mbuf*, engine::max_burst> _exc{};
    unsigned _nexc = 0;
};

} // namespace srtpo::pmd
