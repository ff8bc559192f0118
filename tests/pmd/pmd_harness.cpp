#include "pmd_harness.hpp"

#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace srtpo::test {

namespace fs = std::filesystem;

std::string dpdk_runtime_dir(const std::string& prefix) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    return (geteuid() == 0 ? std::string("/var/run/dpdk") : std::string(xdg ? xdg : "/tmp") + "/dpdk") + "/" + prefix;
}

std::string unique_prefix(const char* what) {
    static int seq = 0;
    return std::string("srtpo-") + what + "-" + std::to_string(getpid()) + "-" + std::to_string(seq++);
}

std::string pmd_command_prefix(const std::string& file_prefix, const std::string& lcores) {
    const char* bin = std::getenv("SRTPO_PMD");
    return std::string(bin ? bin : "srtpo-pmd") + " --no-huge --no-pci -m 256 --no-shconf --file-prefix=" + file_prefix + " " +
           lcores + " --log-level=warning --no-telemetry";
}

namespace {
nlohmann::json json_line(const std::string& out) {
    nlohmann::json j;
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);)
        if (!l.empty() && l.front() == '{') j = nlohmann::json::parse(l, nullptr, false);
    return j;
}
} // namespace

pmd_result run_pmd_args(const std::string& in, const std::string& out, const std::string& args, const std::string& eal_extra) {
    return run_pmd_eal("--vdev=net_pcap0,rx_pcap=" + in + ",tx_pcap=" + out + " " + eal_extra, args);
}

pmd_result run_pmd_eal(const std::string& eal, const std::string& args, const std::string& lcores) {
    const std::string prefix = unique_prefix("pmd-test");
    // --no-exception: the tests count exception frames as drops unless they give an exception port.
    const std::string cmd = "timeout 60 " + pmd_command_prefix(prefix, lcores) + " " + eal + " -- " +
                            (args.find("--exception-port") == std::string::npos ? "--no-exception " : "") + args +
                            " --exit-after-idle 200 --json 2>&1";
    pmd_result r;
    const auto cr = run_command(cmd);
    r.code = cr.code;
    r.out = cr.out;
    std::error_code ec;
    fs::remove_all(dpdk_runtime_dir(prefix), ec);
    r.stats = json_line(r.out);
    return r;
}

void write_frames(const std::string& path, const frame_list& frames) {
    net::pcap_writer w(path, net::link_type::ethernet);
    int64_t t = 0;
    for (const auto& f : frames) w.write(std::chrono::nanoseconds(t += 1000), f);
}

std::vector<uint8_t> random_key(std::size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> k(n);
    for (auto& x : k) x = static_cast<uint8_t>(rng());
    return k;
}

live_pmd::~live_pmd() {
    if (_pid > 0) kill9();
    cleanup();
}

bool live_pmd::start(const std::string& dir, const std::string& out_pcap, const std::string& args) {
    static int seq = 0;
    std::signal(SIGPIPE, SIG_IGN); // the pmd may die (kill -9) with the FIFO open
    _fifo = dir + "/rx" + std::to_string(seq) + ".fifo";
    _log = dir + "/pmd" + std::to_string(seq++) + ".log";
    _prefix = unique_prefix("pmd-live");
    if (mkfifo(_fifo.c_str(), 0600) != 0) {
        ADD_FAILURE() << "mkfifo " << _fifo;
        return false;
    }
    const std::string cmd = "exec " + pmd_command_prefix(_prefix) + " --vdev=net_pcap0,rx_pcap=" + _fifo + ",tx_pcap=" + out_pcap +
                            " -- --no-exception " + args + " --burst 1 --exit-after-idle 300 --json > " + _log + " 2>&1";
    _pid = fork();
    if (_pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // O_NONBLOCK open for writing fails with ENXIO until the pmd (EAL probe of net_pcap) opens
    // its end: poll, so that a pmd that died early cannot hang the test.
    for (int i = 0; i < 1000; ++i) {
        const int fd = ::open(_fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) {
            (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            _w = fdopen(fd, "w");
            break;
        }
        int st = 0;
        if (waitpid(_pid, &st, WNOHANG) == _pid) {
            _pid = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!_w) {
        std::ifstream l(_log);
        ADD_FAILURE() << "srtpo-pmd did not open " << _fifo << ":\n" << std::string(std::istreambuf_iterator<char>(l), {});
        return false;
    }
    // pcap global header (libpcap format, microseconds, Ethernet).
    const uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    std::fwrite(hdr, sizeof hdr, 1, _w);
    std::fflush(_w);
    return true;
}

void live_pmd::feed(std::span<const std::byte> frame) {
    if (!_w) return;
    ++_t;
    const uint32_t rec[4] = {1'700'000'000u + _t / 1000u, (_t % 1000u) * 1000u, static_cast<uint32_t>(frame.size()),
                             static_cast<uint32_t>(frame.size())};
    std::fwrite(rec, sizeof rec, 1, _w);
    std::fwrite(frame.data(), 1, frame.size(), _w);
    std::fflush(_w);
}

pmd_result live_pmd::finish() {
    pmd_result r;
    if (_w) {
        std::fclose(_w);
        _w = nullptr;
    }
    int st = 0;
    for (int i = 0; i < 2000 && _pid > 0; ++i) {
        if (waitpid(_pid, &st, WNOHANG) == _pid) {
            r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            _pid = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (_pid > 0) kill9();
    std::ifstream l(_log);
    r.out.assign(std::istreambuf_iterator<char>(l), {});
    r.stats = json_line(r.out);
    cleanup();
    return r;
}

void live_pmd::kill9() {
    if (_w) {
        std::fclose(_w);
        _w = nullptr;
    }
    if (_pid > 0) {
        kill(_pid, SIGKILL);
        int st = 0;
        waitpid(_pid, &st, 0);
        _pid = -1;
    }
    cleanup();
}

void live_pmd::cleanup() {
    std::error_code ec;
    if (!_prefix.empty()) fs::remove_all(dpdk_runtime_dir(_prefix), ec);
    if (!_fifo.empty()) fs::remove(_fifo, ec);
}

mki_sender::mki_sender(const std::vector<uint8_t>& key1, const std::vector<uint8_t>& key2) : _k1(key1), _k2(key2) {
    srtp_master_key_t m1{_k1.data(), &_id1, 1}, m2{_k2.data(), &_id2, 1};
    srtp_master_key_t* keys[2] = {&m1, &m2};
    srtp_policy_t pol{};
    libsrtp_set_policy(pol, engine::suite::aes_cm_128_hmac_sha1_80);
    pol.ssrc.type = ssrc_any_outbound;
    pol.keys = keys;
    pol.num_master_keys = 2;
    EXPECT_EQ(srtp_create(&_ctx, &pol), srtp_err_status_ok);
}

mki_sender::~mki_sender() { srtp_dealloc(_ctx); }

std::vector<std::byte> mki_sender::protect(const std::vector<std::byte>& plain, unsigned key_index) {
    std::vector<std::byte> b = plain;
    b.resize(b.size() + 64);
    auto f = net::parse_udp_frame({b.data(), plain.size()}, net::link_type::ethernet);
    int len = static_cast<int>(f.payload_len);
    EXPECT_EQ(srtp_protect_mki(_ctx, reinterpret_cast<uint8_t*>(b.data() + f.payload_offset), &len, 1, key_index), srtp_err_status_ok);
    EXPECT_EQ(net::set_udp_payload_len(b, f, static_cast<std::size_t>(len)), net::rewrite_status::ok);
    b.resize(f.frame_len);
    return b;
}

} // namespace srtpo::test
