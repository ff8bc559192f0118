#pragma once
// Command-line options of srtpo-pmd after the EAL's ("srtpo-pmd [EAL args] -- [options]").

#include "next_hop.hpp"

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::pmd {

struct options {
    std::string flows;                      ///< --flows FILE.toml (static flows)
    std::string table;                      ///< --table NAME: the shared-memory session table (and NAME.status)
    uint32_t exit_after_idle_ms = 0;        ///< --exit-after-idle MS: stop after MS without rx; 0 = never
    uint32_t stats_interval_s = 0;          ///< --stats-interval S: one summary line every S seconds
    uint16_t burst = 32;                    ///< --burst N, 1..64
    std::optional<uint16_t> tx_port;        ///< --tx-port N: every data port transmits on N
    std::optional<uint16_t> exception_port; ///< --exception-port N: non-fast-path frames go there
    /// Without --exception-port: create a TAP interface with this name as the exception port
    /// (--exception-iface NAME, default srtpo-exc) where the host allows it; --no-exception: none.
    std::string exception_iface = "srtpo-exc";
    bool no_exception = false;
    bool json = false;                      ///< --json: final stats also as one JSON line
    /// --rss ip|udp: what a multi-queue port hashes to spread flows over the workers. `ip`
    /// (source and destination address) keeps a flow's RTP and its RTCP on port + 1 on one
    /// worker; `udp` adds the ports and spreads one peer's calls, but only suits deployments
    /// where every flow multiplexes RTCP (RFC 5761). docs/adr/0012-multi-worker-ownership.md.
    enum class rss_kind : uint8_t { ip, udp } rss = rss_kind::ip;
    /// --l2 route|keep: whether processed frames get the tx port's source MAC and the next hop's
    /// destination MAC (next_hop.hpp), or keep the Ethernet header they arrived with.
    bool l2_route = true;
    /// --next-hop-mac [PORT=]MAC (repeatable): the next hop of frames sent on PORT (without
    /// PORT: on every port that has none of its own). Rule 2 of next_hop.hpp.
    struct port_next_hop {
        std::optional<uint16_t> port;
        mac_address mac;
    };
    std::vector<port_next_hop> next_hops;
};

inline constexpr const char* usage =
    "usage: srtpo-pmd [EAL args] -- [--flows FILE.toml] [--table NAME] [--exit-after-idle MS]\n"
    "                 [--stats-interval S] [--burst N] [--tx-port N] [--exception-port N | --exception-iface NAME |\n"
    "                 --no-exception] [--rss ip|udp] [--l2 route|keep] [--next-hop-mac [PORT=]MAC]... [--json]\n"
    "       one worker per EAL lcore (-l/--lcores); each polls its own rx queue of every port\n"
    "       at least one of --flows (static flows) and --table (flows from srtpo-cp's session table)\n";

/// Parses argv[1..argc) (argv[0] is the program name, as rte_eal_init leaves it).
/// Errors name the option; the caller prints them with `usage` and exits 2.
engine::result<options> parse_options(int argc, char** argv);

} // namespace srtpo::pmd
