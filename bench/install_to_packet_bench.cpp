// Install -> first packet processed (issue 5: "time from install to first packet processed by the
// pmd (p50/p99)" with 1 048 576 flows), through the real processes:
//
//   SRTPO_CP=build/control-plane/srtpo-cp SRTPO_PMD=build/pmd/srtpo-pmd build/bench/install_to_packet_bench
//
// srtpo-cp starts with a table of N slots and is filled through its control API with N - P
// forward flows (batch flow.add). srtpo-pmd then attaches to the table (--table, --no-huge, a
// net_pcap port whose rx is a FIFO this benchmark writes), and its start-up scan takes all of
// them in. Then, P times: one flow.add of a keyed flow (unprotect AES_CM_128_HMAC_SHA1_80, a fresh
// key) is sent, and SRTP packets of that flow (protected by the engine with the same key) are fed
// every 100 µs until the pmd's status region counts a processed packet for the flow's slot. The
// time from sending the request to that moment is one sample: the API (JSON, validation, key
// derivation, the seqlock write and the doorbell), the pmd's sync thread (1 ms poll, session
// construction, publication in the lookup) and the worker. The last probe brings the table to N.
// Reported: p50, p99 and max over the P samples (milliseconds), as counters.
#include "cp_process.hpp"
#include "random_key.hpp"

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>
#include <srtpo/net/checksum.hpp>
#include <srtpo/table/mapping.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using clock_type = std::chrono::steady_clock;
namespace engine = srtpo::engine;

/// srtpo-pmd on a net_pcap port fed through a FIFO (pcap format), tx discarded.
struct pmd_process {
    pid_t pid = -1;
    std::string fifo;
    FILE* w = nullptr;
    uint32_t t = 0;

    pmd_process(const std::string& table, const std::string& dir) {
        const char* bin = std::getenv("SRTPO_PMD");
        if (!bin) bin = "pmd/srtpo-pmd";
        fifo = dir + "/rx.fifo";
        ::unlink(fifo.c_str());
        if (::mkfifo(fifo.c_str(), 0600) != 0) return;
        const std::string prefix = "--file-prefix=srtpo-i2p-" + std::to_string(::getpid());
        const std::string vdev = "--vdev=net_pcap0,rx_pcap=" + fifo + ",tx_pcap=/dev/null";
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a benchmark that dies takes the pmd with it
            std::freopen("/dev/null", "w", stdout);
            ::execl(bin, bin, "--no-huge", "--no-pci", "-m", "2048", "--no-shconf", prefix.c_str(), "-l", "0",
                    "--log-level=warning", "--no-telemetry", vdev.c_str(), "--", "--no-exception", "--table", table.c_str(),
                    "--burst", "1", nullptr);
            std::_Exit(127);
        }
        // Non-blocking open fails with ENXIO until the pmd has opened its end.
        for (int i = 0; i < 3000 && !w; ++i) {
            const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
            if (fd >= 0) {
                (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                w = ::fdopen(fd, "w");
                break;
            }
            if (::waitpid(pid, nullptr, WNOHANG) == pid) {
                pid = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (!w) return;
        const uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1}; // pcap, µs, Ethernet
        std::fwrite(hdr, sizeof hdr, 1, w);
        std::fflush(w);
    }
    ~pmd_process() {
        if (w) std::fclose(w);
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
        ::unlink(fifo.c_str());
    }
    void feed(const std::vector<std::byte>& frame) {
        ++t;
        const uint32_t rec[4] = {1'700'000'000u + t / 1000u, (t % 1000u) * 1000u, static_cast<uint32_t>(frame.size()),
                                 static_cast<uint32_t>(frame.size())};
        std::fwrite(rec, sizeof rec, 1, w);
        std::fwrite(frame.data(), 1, frame.size(), w);
        std::fflush(w);
    }
};

/// The match address of flow k: 10.(k >> 14).((k >> 6) & 255).(k & 63):port.
std::array<uint8_t, 4> addr_of(uint32_t k) {
    return {10, static_cast<uint8_t>(k >> 14), static_cast<uint8_t>((k >> 6) & 0xff), static_cast<uint8_t>(k & 0x3f)};
}
uint16_t port_of(uint32_t k) { return static_cast<uint16_t>(10000 + 2 * (k & 0xfff)); }
std::string match_of(uint32_t k) {
    const auto a = addr_of(k);
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]) + ":" +
           std::to_string(port_of(k));
}

/// Ethernet + IPv4 + UDP to flow k, carrying `rtp` (already protected).
std::vector<std::byte> frame_to(uint32_t k, std::span<const std::byte> rtp) {
    std::vector<std::byte> f(14 + 20 + 8 + rtp.size());
    auto* p = reinterpret_cast<uint8_t*>(f.data());
    const uint8_t l2[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    std::memcpy(p, l2, sizeof l2);
    uint8_t* ip = p + 14;
    const auto ip_len = static_cast<uint16_t>(20 + 8 + rtp.size());
    const auto dst = addr_of(k);
    const uint8_t h[20] = {0x45, 0, static_cast<uint8_t>(ip_len >> 8), static_cast<uint8_t>(ip_len), 0, 0, 0x40, 0, 64, 17, 0, 0,
                           192, 0, 2, 10, dst[0], dst[1], dst[2], dst[3]};
    std::memcpy(ip, h, sizeof h);
    const uint16_t sum = srtpo::net::ipv4_header_checksum(std::span(f).subspan(14, 20));
    ip[10] = static_cast<uint8_t>(sum >> 8);
    ip[11] = static_cast<uint8_t>(sum);
    uint8_t* udp = ip + 20;
    const auto udp_len = static_cast<uint16_t>(8 + rtp.size());
    const uint16_t dport = port_of(k);
    const uint8_t u[8] = {0x9c, 0x40, static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), static_cast<uint8_t>(udp_len >> 8),
                          static_cast<uint8_t>(udp_len), 0, 0}; // UDP checksum 0: none (IPv4)
    std::memcpy(udp, u, sizeof u);
    std::memcpy(udp + 8, rtp.data(), rtp.size());
    return f;
}

void BM_InstallToFirstPacket(benchmark::State& state) {
    const auto flows = static_cast<uint32_t>(state.range(0));
    const auto probes = static_cast<uint32_t>(state.range(1));
    for (auto _ : state) {
        srtpo::bench::cp_process cp(flows);
        auto c = srtpo::cp::api::client::connect(cp.sock);
        if (!c) {
            state.SkipWithError(("srtpo-cp did not start (set SRTPO_CP): " + c.err().message).c_str());
            return;
        }
        // 1. Fill the table with N - P forward flows.
        for (uint32_t i = 0; i < flows - probes; i += 8192) {
            json list = json::array();
            for (uint32_t k = i; k < std::min(flows - probes, i + 8192); ++k)
                list.push_back(json{{"match", match_of(k)}, {"send_to", "198.51.100.1:7000"}});
            auto r = c->call(json{{"op", "flow.add"}, {"flows", std::move(list)}});
            if (!r || !r->value("ok", false)) {
                state.SkipWithError(r ? (*r)["error"].dump().c_str() : r.err().message.c_str());
                return;
            }
        }
        // 2. The pmd attaches and scans the table.
        char dir[] = "/tmp/srtpo-i2p-XXXXXX";
        if (!::mkdtemp(dir)) {
            state.SkipWithError("mkdtemp");
            return;
        }
        std::optional<srtpo::table::status_mapping> st;
        std::vector<double> ms;
        {
            pmd_process pmd(cp.table, dir);
            if (!pmd.w) {
                state.SkipWithError("srtpo-pmd did not start (set SRTPO_PMD)");
                return;
            }
            const auto t_attach = clock_type::now();
            while (!st && clock_type::now() - t_attach < std::chrono::seconds(300)) {
                auto s = srtpo::table::status_mapping::attach(cp.table + ".status");
                if (s && s->last_heartbeat() != 0) st = std::move(s.value());
                else std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (!st) {
                state.SkipWithError("srtpo-pmd wrote no heartbeat within 300 s");
                return;
            }
            state.counters["pmd_startup_scan_s"] = std::chrono::duration<double>(clock_type::now() - t_attach).count();
            // 3. P keyed flows, one request each, each timed to its first processed packet.
            auto wctx = engine::worker_ctx::create();
            if (!wctx) {
                state.SkipWithError(wctx.err().message.c_str());
                return;
            }
            for (uint32_t p = 0; p < probes; ++p) {
                const uint32_t k = flows - probes + p;
                const auto key = srtpo::bench::random_bytes(30);
                engine::session_config sc;
                sc.s = engine::suite::aes_cm_128_hmac_sha1_80;
                sc.dir = engine::direction::protect;
                engine::master_key_config mk;
                mk.key = std::as_bytes(std::span(key)).first(16);
                mk.salt = std::as_bytes(std::span(key)).subspan(16, 14);
                sc.keys.push_back(mk);
                auto sender = engine::make_session(sc);
                if (!sender) {
                    state.SkipWithError(sender.err().message.c_str());
                    return;
                }
                const json req{{"op", "flow.add"},
                               {"flow", {{"match", match_of(k)},
                                         {"in", {{"suite", "AES_CM_128_HMAC_SHA1_80"}, {"key", srtpo::bench::to_b64(key)}}},
                                         {"send_to", "198.51.100.1:7000"}}}};
                const auto t0 = clock_type::now();
                auto r = c->call(req);
                if (!r || !r->value("ok", false)) {
                    state.SkipWithError(r ? (*r)["error"].dump().c_str() : r.err().message.c_str());
                    return;
                }
                const auto slot = (*r)["result"]["flows"][0]["slot"].get<uint32_t>();
                bool seen = false;
                for (uint16_t seq = 1; seq < 20000 && !seen; ++seq) {
                    std::array<std::byte, 12 + 160 + 10> rtp{};
                    rtp[0] = std::byte{0x80};
                    rtp[2] = std::byte(seq >> 8);
                    rtp[3] = std::byte(seq & 0xff);
                    rtp[8] = std::byte{0x5e};
                    rtp[11] = std::byte(p & 0xff);
                    engine::op o;
                    o.session = sender->get();
                    o.pkt = {rtp.data(), 12 + 160, static_cast<uint16_t>(rtp.size())};
                    engine::protect_rtp(**wctx, std::span(&o, 1));
                    if (o.st != engine::status::ok) {
                        state.SkipWithError("engine protect failed");
                        return;
                    }
                    pmd.feed(frame_to(k, std::span(rtp).first(o.pkt.len)));
                    const auto until = clock_type::now() + std::chrono::microseconds(100);
                    while (!seen && clock_type::now() < until) seen = st->load(slot).packets > 0;
                }
                if (!seen) {
                    state.SkipWithError("a flow was never processed (2 s of packets)");
                    return;
                }
                ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
            }
        }
        ::rmdir(dir);
        std::sort(ms.begin(), ms.end());
        state.counters["p50_ms"] = ms[ms.size() / 2];
        state.counters["p99_ms"] = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
        state.counters["max_ms"] = ms.back();
        state.counters["flows"] = flows;
    }
}

} // namespace

BENCHMARK(BM_InstallToFirstPacket)
    ->ArgNames({"flows", "probes"})
    ->Args({1 << 20, 1000})
    ->Args({65536, 1000})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

BENCHMARK_MAIN();
