#pragma once
// Command-line options of srtpo-pmd after the EAL's ("srtpo-pmd [EAL args] -- [options]").

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <optional>
#include <string>

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
};

inline constexpr const char* usage =
    "usage: srtpo-pmd [EAL args] -- [--flows FILE.toml] [--table NAME] [--exit-after-idle MS]\n"
    "                 [--stats-interval S] [--burst N] [--tx-port N] [--exception-port N | --exception-iface NAME |\n"
    "                 --no-exception] [--rss ip|udp] [--json]\n"
    "       one worker per EAL lcore (-l/--lcores); each polls its own rx queue of every port\n"
    "       at least one of --flows (static flows) and --table (flows from srtpo-cp's session table)\n";

/// Parses argv[1..argc) (argv[0] is the program name, as rte_eal_init leaves it).
/// Errors name the option; the caller prints them with `usage` and exits 2.
engine::result<options> parse_options(int argc, char** argv);

} // namespace srtpo::pmd
