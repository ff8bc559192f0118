#pragma once
// The media side of the end-to-end call tests (tests/pmd/call_e2e, call_e2e_tls): srtpo-cp as a
// child process, libsrtp-protected media through srtpo-pmd checked with each peer's keys, and
// the sipp helpers (spawn, wait, the lines a scenario logged). Header-only, test code; every
// function runs on the single test thread; the caller owns every child it spawns (stopped by PID).
// A test program using it must register libsrtp's environment (test::register_libsrtp_environment).
#include "call_test_util.hpp"
#include "pmd_harness.hpp"

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

namespace srtpo::test::call {

using namespace std::chrono_literals;
using test::frame_list;
using test::tmpdir;
/// srtpo-cp with a config file, as a child process; stopped with SIGKILL by PID at the end.
struct cp_daemon {
    pid_t pid = -1;
    std::string sock;
    uint16_t media_base = 31000; ///< first of the 100 media ports the [media] section gives srtpo-cp
    ~cp_daemon() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    bool start(const tmpdir& d, const std::string& table, const std::string& extra_media = "") {
        sock = d / "cp.sock";
        {
            std::ofstream c(d / "cp.toml");
            c << "[media]\naddress = \"192.0.2.1\"\nport_min = " << media_base << "\nport_max = " << media_base + 99 << "\n" << extra_media;
        }
        const std::string bin = env_or("SRTPO_CP", "srtpo-cp"), cfg = d / "cp.toml", log = d / "cp.log";
        pid = ::fork();
        if (pid == 0) {
            std::freopen(log.c_str(), "a", stdout);
            ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), "--table", table.c_str(), "--socket", sock.c_str(), "--capacity",
                    "64", nullptr);
            std::_Exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (ctl("health").code == 0) return true;
            int st = 0;
            if (::waitpid(pid, &st, WNOHANG) == pid) { // it refused to start (a config error)
                pid = -1;
                return false;
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    test::command_result ctl(const std::string& args) const {
        return test::run_command(env_or("SRTPO_KEYING_CTL", "keying-ctl") + " --socket " + sock + " " + args);
    }
};


inline uint16_t dst_port_of(const std::vector<std::byte>& f) { return net::parse_udp_frame(f, net::link_type::ethernet).dst_port; }

/// Frames whose UDP destination port is `rtp` or `rtp + 1` (RTCP, RFC 3550 §11).
inline frame_list towards(const frame_list& all, uint16_t rtp) {
    frame_list out;
    for (const auto& f : all)
        if (dst_port_of(f) == rtp || dst_port_of(f) == rtp + 1) out.push_back(f);
    return out;
}

inline std::string sdp_text(const std::string& addr, uint16_t port, const std::string& proto, const std::string& crypto) {
    return "v=0\r\no=peer 7 1 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " " + proto +
           " 0\r\na=rtpmap:0 PCMU/8000\r\n" + crypto;
}


/// What a peer sees of a frame: addresses, ports and the UDP payload (RTP/RTCP). The pmd
/// writes its own IPv4 identification, so whole frames are not compared.
struct seen {
    net::ip_address src, dst;
    uint16_t sport = 0, dport = 0;
    std::vector<std::byte> payload;
    friend bool operator==(const seen&, const seen&) = default;
};
inline std::vector<seen> seen_of(const frame_list& fs) {
    std::vector<seen> v;
    for (const auto& f : fs) {
        const auto u = net::parse_udp_frame(f, net::link_type::ethernet);
        EXPECT_TRUE(u.ok());
        v.push_back({u.src, u.dst, u.src_port, u.dst_port,
                     {f.begin() + u.payload_offset, f.begin() + u.payload_offset + u.payload_len}});
    }
    return v;
}
/// Index of the first differing frame, or -1; the sizes must match too.
inline long first_difference(const frame_list& x, const frame_list& y) {
    const auto a = seen_of(x), b = seen_of(y);
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (!(a[i] == b[i])) {
            ADD_FAILURE() << "frame " << i << ": ports " << a[i].sport << "->" << a[i].dport << " vs " << b[i].sport << "->" << b[i].dport
                          << ", payload " << a[i].payload.size() << " vs " << b[i].payload.size() << " octets"
                          << (a[i].src == b[i].src && a[i].dst == b[i].dst ? "" : ", addresses differ");
            return static_cast<long>(i);
        }
    return a.size() == b.size() ? -1 : static_cast<long>(std::min(a.size(), b.size()));
}

struct keyed {
    engine::suite suite{};
    std::vector<uint8_t> key;
};
/// The keys of a call as the peers know them: what each sends with and what it opens with
/// (absent: plain RTP on that leg), and keys that must NOT open what that peer receives.
struct media_keys {
    std::optional<keyed> a_sends, a_receives, b_sends, b_receives;
    std::optional<std::vector<uint8_t>> not_for_a, not_for_b;
};

/// What media_through_pmd checked: frames each peer got (and opened, on an SRTP leg).
struct media_counts {
    std::size_t to_a = 0, to_b = 0;
};

/// Protects each peer's media with libsrtp (or leaves it plain), runs srtpo-pmd over it with the
/// flows srtpo-cp installed, and checks with libsrtp that each peer gets the other's media, byte
/// for byte, and that the key a peer sent with does not open what it receives. `base` is the
/// capture's A-side media port (B's is base + 2); `counts`, if given, gets the frames each peer
/// got intact (opened by libsrtp on an SRTP leg).
inline void media_through_pmd(const tmpdir& d, const std::string& table, const frame_list& from_a, const frame_list& from_b,
                              const media_keys& k, uint16_t base = 31000, media_counts* counts = nullptr) {
    media_counts dummy;
    test::write_frames(d / "a_plain.pcap", from_a);
    test::write_frames(d / "b_plain.pcap", from_b);
    frame_list input;
    for (auto [frames_in, key, name] : {std::tuple{&from_a, &k.a_sends, "a"}, std::tuple{&from_b, &k.b_sends, "b"}}) {
        if (!*key) {
            input.insert(input.end(), frames_in->begin(), frames_in->end());
            continue;
        }
        const std::string plain = d / (std::string(name) + "_plain.pcap").c_str(), srtp = d / (std::string(name) + "_srtp.pcap").c_str();
        ASSERT_EQ(test::libsrtp_pass(plain, srtp, (*key)->suite, (*key)->key, true), frames_in->size());
        for (auto& f : test::capture_frames(srtp)) input.push_back(std::move(f));
    }
    test::write_frames(d / "in.pcap", input);
    auto p = test::run_pmd_args(d / "in.pcap", d / "out.pcap", "--table " + table);
    ASSERT_EQ(p.code, 0) << p.out;
    const auto out = test::capture_frames(d / "out.pcap");
    ASSERT_EQ(out.size(), from_a.size() + from_b.size()) << p.out;
    // B's peer receives on 192.0.2.1:base (A's media); A's peer on 198.51.100.1:base+2 (B's).
    for (auto [port, key, expect, no, name] : {std::tuple{base, &k.b_receives, &from_a, &k.not_for_b, "b"},
                                               std::tuple{static_cast<uint16_t>(base + 2), &k.a_receives, &from_b, &k.not_for_a, "a"}}) {
        const auto got = towards(out, port);
        std::size_t& counted = (name[0] == 'a') ? (counts ? counts->to_a : dummy.to_a) : (counts ? counts->to_b : dummy.to_b);
        if (!*key) {
            const bool same = first_difference(got, *expect) == -1;
            EXPECT_TRUE(same) << name << " (plain RTP) did not get the other side's media in the clear";
            if (same) counted = got.size();
            continue;
        }
        const std::string enc = d / (std::string("to_") + name + ".pcap").c_str(), open = d / (std::string("to_") + name + "_open.pcap").c_str();
        test::write_frames(enc, got);
        ASSERT_EQ(test::libsrtp_pass(enc, open, (*key)->suite, (*key)->key, false), expect->size()) << "to " << name;
        const bool same = first_difference(test::capture_frames(open), *expect) == -1;
        EXPECT_TRUE(same) << name << " did not get the other side's media";
        if (same) counted = expect->size();
        if (*no) {
            EXPECT_EQ(test::libsrtp_pass(enc, d / "x.pcap", (*key)->suite, **no, false), 0u) << "a key not for " << name << " opened its media";
        }
    }
}

struct call_media {
    frame_list from_a, from_b;
    uint32_t a_ssrc = 0; ///< the SSRC A's peer sends
};
inline call_media make_media(const tmpdir& d, uint16_t base = 31000) {
    net::rtp_capture_options g;
    g.calls = 1;
    g.packets_per_direction = 120;
    g.rtcp_interval = 20;
    g.initial_seq = 65480;
    g.base_port = base;
    g.seed = 78;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", g);
    const auto plain = test::capture_frames(d / "plain.pcap");
    return {towards(plain, base), towards(plain, static_cast<uint16_t>(base + 2)), sum.streams[1].ssrc};
}

inline std::string hex_of(const uint8_t* p, std::size_t n) {
    std::string s;
    char b[3];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}

/// GStreamer's gst_mikey_peer (tests/mikey), under a timeout: its parser can loop.
inline test::command_result gst_peer(const std::string& args) {
    return test::run_command("ASAN_OPTIONS=detect_leaks=0 timeout 10 " + env_or("SRTPO_GST_MIKEY_PEER", "gst_mikey_peer") + " " + args +
                             " 2>/dev/null");
}

inline std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

inline std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

inline pid_t spawn_logged(const std::string& cmd, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >" + log + " 2>&1").c_str(), nullptr);
        std::_Exit(127);
    }
    return pid;
}

/// A spawned child killed (SIGKILL, by PID) and reaped when the test leaves its scope.
struct child {
    pid_t pid = -1;
    ~child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

/// Exit status of `pid` within `ms`, or -1 (then it is killed).
inline int wait_exit(pid_t pid, int ms) {
    for (int i = 0; i < ms / 20; ++i) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        std::this_thread::sleep_for(20ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

/// Polls `path` (a sipp -log_file) for up to 10 s for a line containing "<tag> " that `parse`
/// (given the rest of that line, returning std::optional<T>) accepts, and returns its result.
template <class T, class Parse>
std::optional<T> logged_line(const std::string& path, const std::string& tag, Parse parse) {
    for (int i = 0; i < 500; ++i) {
        std::ifstream f(path);
        for (std::string line; std::getline(f, line);) {
            const auto at = line.find(tag + " ");
            if (at == std::string::npos) continue;
            std::istringstream in(line.substr(at + tag.size()));
            if (auto v = parse(in)) return v;
        }
        std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
}

/// The "<tag> <suite> <key> <port>" line a sipp scenario logged, waiting up to 10 s for it.
inline std::optional<std::tuple<std::string, std::string, int>> logged(const std::string& path, const std::string& tag) {
    using line = std::tuple<std::string, std::string, int>;
    return logged_line<line>(path, tag, [](std::istringstream& in) -> std::optional<line> {
        std::string suite, key;
        int port = 0;
        if (in >> suite >> key >> port) return line{suite, key, port};
        return std::nullopt;
    });
}

inline std::vector<uint8_t> unbase64(const std::string& b64) {
    auto parsed = engine::parse_sdes_inline("inline:" + b64);
    EXPECT_TRUE(parsed) << "bad base64 from sipp";
    std::vector<uint8_t> k;
    if (parsed)
        for (auto x : parsed->key_salt.bytes()) k.push_back(static_cast<uint8_t>(x));
    return k;
}

} // namespace srtpo::test::call
