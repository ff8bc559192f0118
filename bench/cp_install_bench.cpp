// Install rate of flows through srtpo-cp's control API (issue 5: ≥ 200 000 flows/s with 1 048 576
// flows, batch requests allowed), and srtpo-cp's own memory per flow.
//
//   SRTPO_CP=build/control-plane/srtpo-cp build/bench/cp_install_bench
//
// Each run starts a fresh srtpo-cp (its own table of 1 048 576 slots and socket), builds every
// request first (random keys, distinct addresses), then times sending them as batch requests over
// the Unix socket until the last response arrives: the socket, parsing and validation, key
// derivation (RFC 3711 §4.3) and the seqlock writes into the table are all inside the time.
//
// Two ways of sending (the `pipelined` argument):
//   0: one request, wait for its answer, the next (api::client::call, JSON encoding inside the
//      time): client and daemon take turns, so the wall time is the sum of both.
//   1: the request lines are encoded before the time starts; one thread writes them all while the
//      benchmark reads the answers, as an orchestrator streaming a bulk load would. The daemon
//      works on request k+1 while the client reads answer k: the wall time is the slower side.
// Pin srtpo-cp and the client to different cores to measure the daemon's rate (SRTPO_CP_CPU=N:
// the daemon runs under `taskset -c N`; the client under whatever taskset the benchmark got).
#include <srtpo/cp/api/client.hpp>

#include "cp_process.hpp"
#include "random_key.hpp"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;

/// Private memory of a process in bytes (smaps_rollup: what it alone holds, not the shared table).
long private_bytes(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string line;
    long total = 0;
    while (std::getline(f, line))
        if (line.rfind("Private_Clean:", 0) == 0 || line.rfind("Private_Dirty:", 0) == 0)
            total += std::atol(line.c_str() + line.find(':') + 1) * 1024;
    return total;
}

/// CPU seconds (user + system) a process has used.
double cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream in(s.substr(s.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stoul(field);
        if (i == 15) stime = std::stoul(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// A raw connection to the control socket (benchmark only: the request lines are prepared ahead).
int connect_raw(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), std::min(path.size() + 1, sizeof a.sun_path - 1));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

/// Streams `lines` on `fd` from a writer thread while reading one answer per line; returns an
/// error text, empty when every answer said ok.
std::string stream_requests(int fd, const std::vector<std::string>& lines) {
    std::thread writer([&] {
        for (const auto& l : lines)
            for (std::size_t off = 0; off < l.size();) {
                const ssize_t n = ::send(fd, l.data() + off, l.size() - off, MSG_NOSIGNAL);
                if (n <= 0) return;
                off += static_cast<std::size_t>(n);
            }
    });
    std::string buf, err;
    std::size_t answered = 0;
    std::vector<char> chunk(1 << 16);
    while (answered < lines.size()) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n <= 0) { err = "srtpo-cp closed the connection"; break; }
        buf.append(chunk.data(), static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
            ++answered;
            const auto j = json::parse(std::string_view(buf).substr(0, nl), nullptr, false);
            if (err.empty() && (j.is_discarded() || !j.value("ok", false))) err = std::string(buf, 0, std::min<std::size_t>(nl, 300));
        }
    }
    ::shutdown(fd, SHUT_RDWR);
    writer.join();
    return err;
}

void BM_ApiInstall(benchmark::State& state) {
    const auto flows = static_cast<uint32_t>(state.range(0));
    const auto batch = static_cast<uint32_t>(state.range(1));
    const bool transcrypt = state.range(2) != 0;
    const bool pipelined = state.range(3) != 0;
    for (auto _ : state) {
        state.PauseTiming();
        srtpo::bench::cp_process d(flows);
        auto c = srtpo::cp::api::client::connect(d.sock);
        if (!c) {
            state.SkipWithError(("srtpo-cp did not start (set SRTPO_CP): " + c.err().message).c_str());
            return;
        }
        std::vector<json> reqs;
        for (uint32_t i = 0; i < flows; i += batch) {
            json list = json::array();
            for (uint32_t k = i; k < std::min(flows, i + batch); ++k) {
                json f{{"match", "10." + std::to_string(k >> 14) + "." + std::to_string((k >> 6) & 0xff) + "." +
                                     std::to_string(k & 0x3f) + ":" + std::to_string(10000 + 2 * (k & 0xfff))},
                       {"in", {{"suite", "AES_CM_128_HMAC_SHA1_80"}, {"key", srtpo::bench::random_b64_key(30)}}},
                       {"send_to", "198.51.100.1:7000"}};
                if (transcrypt) f["out"] = {{"suite", "AEAD_AES_128_GCM"}, {"key", srtpo::bench::random_b64_key(28)}};
                list.push_back(std::move(f));
            }
            reqs.push_back(json{{"op", "flow.add"}, {"flows", std::move(list)}});
        }
        std::vector<std::string> lines;
        int fd = -1;
        if (pipelined) {
            for (const auto& r : reqs) lines.push_back(r.dump() + "\n");
            reqs.clear();
            fd = connect_raw(d.sock);
            if (fd < 0) {
                state.SkipWithError("cannot connect to srtpo-cp");
                return;
            }
        }
        const long mem0 = private_bytes(d.pid);
        const double cpu0 = cpu_seconds(d.pid);
        state.ResumeTiming();
        if (pipelined) {
            const std::string err = stream_requests(fd, lines);
            ::close(fd);
            if (!err.empty()) {
                state.SkipWithError(err.c_str());
                return;
            }
        }
        for (const auto& r : reqs) {
            auto resp = c->call(r);
            if (!resp || !(*resp).value("ok", false)) {
                state.SkipWithError(resp ? (*resp)["error"].dump().c_str() : resp.err().message.c_str());
                return;
            }
        }
        state.PauseTiming();
        state.counters["cp_private_bytes_per_flow"] = static_cast<double>(private_bytes(d.pid) - mem0) / flows;
        // srtpo-cp's own CPU per flow: what the install costs the daemon, whatever the client and
        // other processes on the machine take.
        state.counters["cp_cpu_us_per_flow"] = (cpu_seconds(d.pid) - cpu0) * 1e6 / flows;
        state.counters["table_bytes_per_flow"] = 448 + 64; // session_slot + live_state (docs/shm-abi.md)
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * flows);
}

} // namespace

BENCHMARK(BM_ApiInstall)
    ->ArgNames({"flows", "batch", "transcrypt", "pipelined"})
    ->Args({1 << 20, 8192, 0, 0})
    ->Args({1 << 20, 8192, 0, 1})
    ->Args({1 << 20, 8192, 1, 0})
    ->Args({1 << 20, 8192, 1, 1})
    ->Args({65536, 1, 0, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
