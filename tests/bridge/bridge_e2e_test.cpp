// DTLS-SRTP and ZRTP legs bridged to SDES end to end (suite 'bridge', issues 7 and 8): real
// processes only. srtpo-cp runs with [media] on 127.0.0.1 and [dtls]/[zrtp] files in a temp dir;
// `keying-ctl call offer/answer` carries leg A's offer (a WebRTC-like DTLS-SRTP peer, or a ZRTP
// peer) and leg B's SDES answer; the third-party peer keys against srtpo-cp's media port on
// loopback: `openssl s_server -dtls -use_srtp` (srtpo-cp answers a=setup:active, so it is the
// DTLS client) or Linphone's bzrtp (tests/interop/zrtp, GPL, a separate process). Then media:
// libsrtp protects A's RTP with the keys the peer itself exported / printed, srtpo-pmd (net_pcap,
// flows from the table) transcrypts it, and libsrtp opens what B receives with the key from B's
// SDES offer (and the reverse direction with the peer's receive key). Ports 34000..34999.
#include "capture_oracle.hpp"
#include "call_test_util.hpp"
#include "harness_output.hpp"
#include "pmd_harness.hpp"

#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/cp/sdp/session_description.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

using namespace srtpo;
using json = nlohmann::json;
using test::frame_list;
using test::tmpdir;
using namespace std::chrono_literals;
using namespace srtpo::test::call;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);


/// Polls `done` every 20 ms until it holds or `limit` passes.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

/// A third-party peer as a child process (stdout+stderr to `log`, stdin a pipe kept open so
/// servers do not see EOF), under `timeout`, killed by PID at the end.
struct child {
    pid_t pid = -1;
    int in_fd = -1;
    std::string log;
    child(const std::vector<std::string>& argv, std::string log_path, int timeout_s) : log(std::move(log_path)) {
        int p[2];
        if (::pipe(p) != 0) return;
        pid = ::fork();
        if (pid == 0) {
            ::dup2(p[0], 0);
            ::close(p[1]);
            std::freopen(log.c_str(), "w", stdout);
            ::dup2(1, 2);
            std::vector<std::string> full{"timeout", std::to_string(timeout_s)};
            full.insert(full.end(), argv.begin(), argv.end());
            std::vector<char*> a;
            for (auto& s : full) a.push_back(s.data());
            a.push_back(nullptr);
            ::execvp(a[0], a.data());
            std::_Exit(127);
        }
        ::close(p[0]);
        in_fd = p[1];
    }
    ~child() {
        if (pid > 0) {
            // SIGTERM first: `timeout` passes it on to the peer (a SIGKILL would orphan the peer,
            // still holding its ports); SIGKILL if it has not gone within a second.
            ::kill(pid, SIGTERM);
            if (!poll_until([&] { return exited(); }, 1s)) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
        if (in_fd >= 0) ::close(in_fd);
    }
    std::string output() const {
        std::ifstream f(log);
        return {std::istreambuf_iterator<char>(f), {}};
    }
    bool wait_for(const std::string& needle, std::chrono::milliseconds limit) const {
        return poll_until([&] { return output().find(needle) != std::string::npos; }, limit);
    }
    int status = -1; ///< exit code once exited() saw it end (-1: killed or still running)
    bool exited() {
        int st = 0;
        if (pid > 0 && ::waitpid(pid, &st, WNOHANG) == pid) {
            pid = -1;
            status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        return pid < 0;
    }
};


/// srtpo-cp with [media] on 127.0.0.1 and [dtls]/[zrtp] files under the test's dir.
struct cp_daemon {
    pid_t pid = -1;
    std::string sock, log;
    ~cp_daemon() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    static std::string config(const tmpdir& d) {
        return "[media]\naddress = \"127.0.0.1\"\nport_min = 34000\nport_max = 34099\n"
               "[dtls]\ncertificate = \"" + (d / "dtls-cert.pem") + "\"\nprivate_key = \"" + (d / "dtls-key.pem") +
               "\"\ninitial_retransmit_ms = 100\nhandshake_timeout_ms = 8000\n"
               "[zrtp]\ncache = \"" + (d / "zid.cache") + "\"\ncache_key = \"" + (d / "zid.key") + "\"\nhandshake_timeout_ms = 8000\n";
    }
    /// Starts it; false if it exited (its log says why) or never answered `health`.
    bool start(const tmpdir& d, const std::string& table, const std::string& toml) {
        sock = d / "cp.sock";
        log = d / "cp.log";
        std::ofstream(d / "cp.toml") << toml;
        const std::string bin = env_or("SRTPO_CP", "srtpo-cp"), cfg = d / "cp.toml";
        pid = ::fork();
        if (pid == 0) {
            std::freopen(log.c_str(), "a", stdout);
            ::dup2(1, 2);
            ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), "--table", table.c_str(), "--socket", sock.c_str(), "--capacity",
                    "64", nullptr);
            std::_Exit(127);
        }
        return poll_until(
            [&] {
                int st = 0;
                if (pid > 0 && ::waitpid(pid, &st, WNOHANG) == pid) pid = -1;
                return pid < 0 || ctl("health").code == 0;
            },
            5s) &&
               pid > 0;
    }
    int wait_exit(std::chrono::milliseconds limit) {
        int st = 0, code = -1;
        poll_until([&] {
            if (::waitpid(pid, &st, WNOHANG) == pid) {
                code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                pid = -1;
                return true;
            }
            return false;
        }, limit);
        return code;
    }
    std::string output() const {
        std::ifstream f(log);
        return {std::istreambuf_iterator<char>(f), {}};
    }
    test::command_result ctl(const std::string& args) const {
        return test::run_command(env_or("SRTPO_KEYING_CTL", "keying-ctl") + " --socket " + sock + " " + args);
    }
    json ctl_json(const std::string& args) const {
        auto r = ctl("--json " + args);
        auto j = json::parse(r.out, nullptr, false);
        return j.is_discarded() ? json() : j;
    }
    /// Both legs of stream 0 of `id` have their flow in the table.
    bool call_flows(const std::string& id) const {
        auto j = ctl_json("call show " + id);
        if (!j.is_object() || !j.contains("streams") || j["streams"].empty()) return false;
        const auto& l = j["streams"][0]["legs"];
        return l.is_object() && !l["a"]["flow"].is_null() && !l["b"]["flow"].is_null();
    }
    std::size_t flows() const {
        auto j = ctl_json("flow list");
        return j.is_object() ? j.value("count", std::size_t{999}) : 999;
    }
};


/// A peer's SDP: one audio m= line at 127.0.0.1:`port` with the given a= lines.
std::string peer_sdp(uint16_t port, const std::string& proto, const std::vector<std::string>& attrs) {
    std::string s = "v=0\r\no=peer 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " + std::to_string(port) + " " +
                    proto + " 0\r\na=rtpmap:0 PCMU/8000\r\n";
    for (const auto& a : attrs) s += "a=" + a + "\r\n";
    return s;
}

uint16_t port_of(const std::string& body) {
    auto sd = cp::sdp::parse(body);
    return sd ? sd->media.at(0).port : 0;
}
std::string attribute(const std::string& body, const std::string& name) {
    const auto p = body.find("a=" + name + ":");
    if (p == std::string::npos) return "";
    const auto b = p + name.size() + 3;
    return body.substr(b, body.find_first_of("\r\n", b) - b);
}

std::vector<uint8_t> unhex(const std::string& h) {
    std::vector<uint8_t> v;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) v.push_back(static_cast<uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return v;
}

/// Rewrites an IPv4/UDP Ethernet frame's addresses and ports (new IPv4 header checksum; UDP
/// checksum 0 = none, RFC 768), so the generator's RTP looks as if it came from a peer on
/// loopback to srtpo-cp's port.
std::vector<std::byte> readdress(std::vector<std::byte> f, uint16_t sport, uint16_t dport) {
    const auto u = net::parse_udp_frame(f, net::link_type::ethernet);
    EXPECT_TRUE(u.ok() && u.ip_version == 4);
    auto* ip = reinterpret_cast<uint8_t*>(f.data()) + u.l3_offset;
    auto* udp = reinterpret_cast<uint8_t*>(f.data()) + u.l4_offset;
    for (int i : {12, 16}) {
        ip[i] = 127;
        ip[i + 1] = 0;
        ip[i + 2] = 0;
        ip[i + 3] = 1;
    }
    ip[10] = ip[11] = 0;
    uint32_t sum = 0;
    const std::size_t ihl = (ip[0] & 0x0f) * 4u;
    for (std::size_t i = 0; i < ihl; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    udp[0] = static_cast<uint8_t>(sport >> 8);
    udp[1] = static_cast<uint8_t>(sport);
    udp[2] = static_cast<uint8_t>(dport >> 8);
    udp[3] = static_cast<uint8_t>(dport);
    udp[6] = udp[7] = 0;
    return f;
}

std::vector<std::byte> payload_of(const std::vector<std::byte>& f) {
    const auto u = net::parse_udp_frame(f, net::link_type::ethernet);
    return {f.begin() + u.payload_offset, f.begin() + u.payload_offset + u.payload_len};
}

struct keyed {
    engine::suite suite{};
    std::vector<uint8_t> key;
};

/// The two legs' addresses: A's peer a_peer <-> our a_local; B's peer b_peer <-> our b_local.
struct legs {
    uint16_t a_peer, a_local, b_peer, b_local;
};

/// n RTP packets each way (no RTCP: the DTLS/ZRTP leg muxes it), A's protected by libsrtp with
/// `a_sends`, B's with `b_sends`; srtpo-pmd transcrypts with the table's flows; libsrtp opens
/// what each peer gets with its receive key, and the payloads must be the other side's.
void media_through_pmd(const tmpdir& d, const std::string& table, const legs& l, const keyed& a_sends, const keyed& a_receives,
                       const keyed& b_sends, const keyed& b_receives) {
    net::rtp_capture_options g;
    g.packets_per_direction = 40;
    g.rtcp_interval = 0;
    g.base_port = 20000;
    g.seed = 9;
    (void)net::write_rtp_capture(d / "gen.pcap", g);
    frame_list from_a, from_b;
    for (auto& f : test::capture_frames(d / "gen.pcap")) {
        const auto u = net::parse_udp_frame(f, net::link_type::ethernet);
        if (u.dst_port == 20000) from_a.push_back(readdress(f, l.a_peer, l.a_local));
        else from_b.push_back(readdress(f, l.b_peer, l.b_local));
    }
    ASSERT_EQ(from_a.size(), 40u);
    ASSERT_EQ(from_b.size(), 40u);
    frame_list input;
    for (auto [frames, key, name] : {std::tuple{&from_a, &a_sends, "a"}, std::tuple{&from_b, &b_sends, "b"}}) {
        const std::string plain = d / (std::string(name) + "_plain.pcap").c_str(), srtp = d / (std::string(name) + "_srtp.pcap").c_str();
        test::write_frames(plain, *frames);
        ASSERT_EQ(test::libsrtp_pass(plain, srtp, key->suite, key->key, true), frames->size()) << name;
        for (auto& f : test::capture_frames(srtp)) input.push_back(std::move(f));
    }
    test::write_frames(d / "in.pcap", input);
    auto p = test::run_pmd_args(d / "in.pcap", d / "out.pcap", "--table " + table);
    ASSERT_EQ(p.code, 0) << p.out;
    const auto out = test::capture_frames(d / "out.pcap");
    ASSERT_EQ(out.size(), 80u) << p.out;
    for (auto [port, key, expect, name] : {std::tuple{l.b_peer, &b_receives, &from_a, "b"}, std::tuple{l.a_peer, &a_receives, &from_b, "a"}}) {
        frame_list got;
        for (const auto& f : out)
            if (net::parse_udp_frame(f, net::link_type::ethernet).dst_port == port) got.push_back(f);
        ASSERT_EQ(got.size(), expect->size()) << "to " << name;
        const std::string enc = d / (std::string("to_") + name + ".pcap").c_str(), open = d / (std::string("to_") + name + "_open.pcap").c_str();
        test::write_frames(enc, got);
        ASSERT_EQ(test::libsrtp_pass(enc, open, key->suite, key->key, false), expect->size()) << "libsrtp could not open what " << name << " got";
        const auto opened = test::capture_frames(open);
        for (std::size_t i = 0; i < opened.size(); ++i)
            ASSERT_EQ(payload_of(opened[i]), payload_of((*expect)[i])) << name << " packet " << i;
    }
}

/// A's offer through `call offer`, B's SDES answer through `call answer`; returns our answer
/// to A and fills B's keys. B's peer is at 127.0.0.1:b_peer.
struct exchange {
    std::string answer_a;
    sdp_key ours_b;
    std::vector<uint8_t> key_b;
    uint16_t a_local = 0, b_local = 0;
};
exchange offer_answer(const tmpdir& d, const cp_daemon& cp, const std::string& id, const std::string& offer_a, uint16_t b_peer) {
    exchange x;
    write_file(d / "a_offer.sdp", offer_a);
    auto r = cp.ctl("call offer " + id + " " + (d / "a_offer.sdp") + " --method sdes --suite AES_CM_128_HMAC_SHA1_80 >" + (d / "b_offer.sdp"));
    EXPECT_EQ(r.code, 0) << r.out << read_sdp(d / "b_offer.sdp");
    const auto offer_b = read_sdp(d / "b_offer.sdp");
    x.ours_b = key_of(offer_b);
    x.b_local = x.ours_b.port;
    EXPECT_EQ(x.ours_b.suite, engine::suite::aes_cm_128_hmac_sha1_80) << offer_b;
    x.key_b = test::random_key(30, 4242);
    write_file(d / "b_answer.sdp",
               peer_sdp(b_peer, "RTP/SAVP", {"crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(x.key_b)}));
    r = cp.ctl("call answer " + id + " " + (d / "b_answer.sdp") + " >" + (d / "a_answer.sdp"));
    EXPECT_EQ(r.code, 0) << r.out << read_sdp(d / "a_answer.sdp");
    x.answer_a = read_sdp(d / "a_answer.sdp");
    x.a_local = port_of(x.answer_a);
    return x;
}

/// A peer certificate from the openssl CLI and its a=fingerprint as the CLI computes it.
struct peer_cert {
    std::string cert, key, fingerprint;
};
peer_cert make_cert(const tmpdir& d, const std::string& name) {
    peer_cert c{d / (name + ".pem").c_str(), d / (name + "-key.pem").c_str(), ""};
    auto r = test::run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" + name +
                               " -keyout " + c.key + " -out " + c.cert + " 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
    r = test::run_command("openssl x509 -in " + c.cert + " -noout -fingerprint -sha256");
    const auto eq = r.out.find('=');
    EXPECT_NE(eq, std::string::npos) << r.out;
    if (eq != std::string::npos) c.fingerprint = "sha-256 " + r.out.substr(eq + 1, r.out.find_first_of("\r\n", eq) - eq - 1);
    return c;
}

std::optional<std::vector<uint8_t>> keying_material(const std::string& out) {
    const auto p = out.find("Keying material: ");
    if (p == std::string::npos) return std::nullopt;
    const auto b = p + 17;
    return unhex(out.substr(b, out.find_first_of("\r\n", b) - b));
}

class bridge : public ::testing::Test {
protected:
    void SetUp() override {
        table = "/srtpo-bridge-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        cleanup.t = table;
    }
    tmpdir d{"srtpo-bridge"};
    std::string table;
    shm_cleanup cleanup;
    cp_daemon cp;
};

// Issue 7's gateway: a WebRTC-like DTLS-SRTP peer (openssl s_server, offer actpass, ICE
// credentials) on leg A, an SDES trunk on leg B.
TEST_F(bridge, dtls_srtp_peer_to_sdes_media_through_pmd) {
    ASSERT_TRUE(cp.start(d, table, cp_daemon::config(d))) << cp.output();
    const auto pc = make_cert(d, "webrtc");
    const uint16_t a_peer = 34500, b_peer = 34600;
    const auto x = offer_answer(d, cp, "dtls1",
                                peer_sdp(a_peer, "UDP/TLS/RTP/SAVPF",
                                         {"fingerprint:" + pc.fingerprint, "setup:actpass", "ice-ufrag:wxyz", "ice-pwd:0123456789abcdefghijkl",
                                          "rtcp-mux"}),
                                b_peer);
    // Our answer to the WebRTC peer: active (RFC 5763 §5), our certificate's fingerprint, ICE-lite.
    EXPECT_EQ(attribute(x.answer_a, "setup"), "active") << x.answer_a;
    EXPECT_NE(x.answer_a.find("a=ice-lite"), std::string::npos) << x.answer_a;
    EXPECT_NE(x.answer_a.find("UDP/TLS/RTP/SAVP"), std::string::npos) << x.answer_a;
    EXPECT_EQ(x.answer_a.find("a=crypto"), std::string::npos) << x.answer_a;
    auto our_fp = test::run_command("openssl x509 -in " + (d / "dtls-cert.pem") + " -noout -fingerprint -sha256");
    EXPECT_NE(our_fp.out.find(attribute(x.answer_a, "fingerprint").substr(8)), std::string::npos)
        << "a=fingerprint must be the certificate srtpo-cp stored: " << x.answer_a << our_fp.out;
    struct stat st{};
    ASSERT_EQ(::stat((d / "dtls-key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    // No handshake yet (the peer is not listening): SDES alone installs nothing, and the DTLS leg
    // says it is still handshaking.
    EXPECT_EQ(cp.flows(), 0u);
    EXPECT_EQ(cp.ctl_json("call show dtls1")["streams"][0]["legs"]["a"]["media_path"]["peer_fingerprint"], "unchecked");
    child s({"openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:" + std::to_string(a_peer), "-naccept", "1", "-Verify", "1",
             "-cert", pc.cert, "-key", pc.key, "-CAfile", d / "dtls-cert.pem", "-verify_return_error", "-use_srtp",
             "SRTP_AES128_CM_SHA1_80", "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60"},
            d / "s_server.log", 20);
    ASSERT_TRUE(s.wait_for("ACCEPT", 5s)) << s.output();
    // srtpo-cp retransmits its ClientHello (100 ms, doubling) and completes the handshake.
    ASSERT_TRUE(poll_until([&] { return cp.call_flows("dtls1"); }, 10s)) << s.output() << cp.output();
    ASSERT_TRUE(s.wait_for("Keying material", 3s)) << s.output();
    const auto km = keying_material(s.output());
    ASSERT_TRUE(km && km->size() == 60) << s.output();

    const auto show = cp.ctl_json("call show dtls1");
    const auto& mp = show["streams"][0]["legs"]["a"]["media_path"];
    EXPECT_EQ(mp["state"], "connected") << show.dump(1);
    EXPECT_EQ(mp["profile"], "SRTP_AES128_CM_SHA1_80") << show.dump(1);
    EXPECT_EQ(mp["peer_fingerprint"], "match") << show.dump(1);
    EXPECT_EQ(mp["role"], "client") << show.dump(1);
    auto text = cp.ctl("call show dtls1");
    EXPECT_NE(text.out.find("dtls-srtp connected, profile SRTP_AES128_CM_SHA1_80, peer fingerprint match"), std::string::npos) << text.out;

    // RFC 5764 §4.2: client_key | server_key | client_salt | server_salt; the peer is the server.
    const auto part = [&](std::size_t key_at, std::size_t salt_at) {
        std::vector<uint8_t> v(km->begin() + static_cast<long>(key_at), km->begin() + static_cast<long>(key_at + 16));
        v.insert(v.end(), km->begin() + static_cast<long>(salt_at), km->begin() + static_cast<long>(salt_at + 14));
        return v;
    };
    const auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
    media_through_pmd(d, table, {a_peer, x.a_local, b_peer, x.b_local}, keyed{cm80, part(16, 46)}, keyed{cm80, part(0, 32)},
                      keyed{cm80, x.key_b}, keyed{cm80, x.ours_b.key});

    auto r = cp.ctl("call del dtls1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(cp.flows(), 0u);
}

// The peer's certificate does not match its a=fingerprint: the handshake fails, nothing is
// installed, and `call show` says why.
TEST_F(bridge, dtls_fingerprint_mismatch_installs_nothing) {
    ASSERT_TRUE(cp.start(d, table, cp_daemon::config(d))) << cp.output();
    const auto pc = make_cert(d, "webrtc"), other = make_cert(d, "other");
    const uint16_t a_peer = 34510, b_peer = 34610;
    child s({"openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:" + std::to_string(a_peer), "-naccept", "1", "-cert", pc.cert,
             "-key", pc.key, "-use_srtp", "SRTP_AES128_CM_SHA1_80"},
            d / "s_server.log", 20);
    ASSERT_TRUE(s.wait_for("ACCEPT", 5s)) << s.output();
    const auto x = offer_answer(d, cp, "bad1",
                                peer_sdp(a_peer, "UDP/TLS/RTP/SAVPF", {"fingerprint:" + other.fingerprint, "setup:actpass", "rtcp-mux"}),
                                b_peer);
    json mp;
    ASSERT_TRUE(poll_until(
        [&] {
            mp = cp.ctl_json("call show bad1")["streams"][0]["legs"]["a"]["media_path"];
            return mp.is_object() && mp.value("state", "") == "failed";
        },
        10s))
        << mp.dump(1) << s.output();
    EXPECT_EQ(mp["peer_fingerprint"], "mismatch") << mp.dump(1);
    EXPECT_NE(mp.value("failure", "").find("fingerprint"), std::string::npos) << mp.dump(1);
    EXPECT_EQ(cp.flows(), 0u);
    auto text = cp.ctl("call show bad1");
    EXPECT_NE(text.out.find("failed: fingerprint_mismatch"), std::string::npos) << text.out;
}

// Issue 7's SIP path: a DTLS-SRTP caller (UDP/TLS/RTP/SAVP, a=fingerprint, a=setup:active) comes
// in over SIP over TLS to srtpo-cp's B2BUA, and the route makes leg B an SDES trunk. sipp carries
// the signalling (Debian's sipp has no TLS: socat (OpenSSL) hops in front of srtpo-cp's TLS
// listener and behind its TLS client, as in tests/pmd/call_e2e_tls_test.cpp); `openssl s_client
// -dtls1_2 -use_srtp` is the caller's DTLS stack, handshaking with srtpo-cp's media port from the
// address:port of the caller's SDP; the media of both peers then goes through srtpo-pmd.
// Ports: SIP 34700 (srtpo-cp TLS), 34720 (caller's hop), 34711 (callee's hop), 34710/34730 (sipp),
// sipp control/media 34740-34770; media peers 34540 (A), 34640 (B).
TEST_F(bridge, dtls_srtp_caller_over_sip_tls_to_sdes_callee_media_through_pmd) {
    for (const char* p : {"sipp", "socat"})
        ASSERT_EQ(test::run_command(std::string("command -v ") + p).code, 0) << p << " missing: scripts/install-deps.sh installs it";
    // One certificate for SIP over TLS (srtpo-cp's listener and the callee's hop) for localhost /
    // 127.0.0.1, signed by a test CA that both verifying sides trust.
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    auto r = test::run_command("cd " + d.p.string() + " && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 2 -subj /CN=srtpo-test-ca 2>&1 && " +
                               "openssl req" + ec + "-keyout sip.key -out sip.csr -subj /CN=localhost 2>&1 && " +
                               "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > sip.ext && " +
                               "openssl x509 -req -in sip.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile sip.ext -out sip.crt 2>&1 && " +
                               "cat sip.crt sip.key > sip.pem && chmod 600 ca.key sip.key sip.pem");
    ASSERT_EQ(r.code, 0) << r.out;
    const std::string sip = "[sip]\n[[sip.listen]]\ntransport = \"tls\"\naddress = \"127.0.0.1\"\nport = 34700\n[sip.tls]\ncert = \"" +
                            (d / "sip.crt") + "\"\nkey = \"" + (d / "sip.key") + "\"\nca = \"" + (d / "ca.crt") +
                            "\"\nverify_server = true\nverify_hostname = true\n[[sip.route]]\ndomain = \"tls.test\"\n"
                            "next_hop = \"sip:127.0.0.1:34711;transport=tls\"\nb_keying = \"sdes\"\nb_suites = [\"AES_CM_128_HMAC_SHA1_80\"]\n";
    ASSERT_TRUE(cp.start(d, table, cp_daemon::config(d) + sip)) << cp.output();
    const auto pc = make_cert(d, "caller");
    const uint16_t a_peer = 34540, b_peer = 34640;
    const auto key_b = test::random_key(30, 4343);

    child hop_b({"socat", "OPENSSL-LISTEN:34711,bind=127.0.0.1,reuseaddr,cert=" + (d / "sip.pem") + ",verify=0", "TCP:127.0.0.1:34710"},
                d / "socat-b.log", 30);
    child hop_a({"socat", "TCP-LISTEN:34720,bind=127.0.0.1,reuseaddr", "OPENSSL:127.0.0.1:34700,cafile=" + (d / "ca.crt") + ",commonname=localhost"},
                d / "socat-a.log", 30);
    const std::string scen = env_or("SRTPO_SCENARIOS", "tests/pmd/scenarios");
    const std::vector<std::string> sipp{"sipp", "-t", "t1", "-i", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "25s", "-timeout_error", "-trace_logs"};
    auto with = [&](std::vector<std::string> v, std::initializer_list<std::string> more) {
        v.insert(v.end(), more);
        return v;
    };
    child uas(with(sipp, {"-sf", scen + "/sip_tls_uas.xml", "-p", "34710", "-cp", "34740", "-mp", "34750", "-log_file", d / "uas.log",
                          "-key", "answer_port", std::to_string(b_peer), "-key", "answer_proto", "RTP/SAVP", "-key", "answer_attr",
                          "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(key_b)}),
              d / "uas.out", 30);
    const auto listening = [](uint16_t port) {
        char want[40];
        std::snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", port);
        return poll_until(
            [&] {
                std::ifstream f("/proc/net/tcp");
                return std::string{std::istreambuf_iterator<char>(f), {}}.find(want) != std::string::npos;
            },
            5s);
    };
    ASSERT_TRUE(listening(34710) && listening(34711) && listening(34720)) << uas.output() << hop_b.output() << hop_a.output();
    child uac(with(sipp, {"-sf", scen + "/sip_tls_uac.xml", "-p", "34730", "-cp", "34760", "-mp", "34770", "-log_file", d / "uac.log",
                          "-s", "bob", "-d", "8000", "-key", "rdomain", "tls.test", "-key", "offer_port", std::to_string(a_peer), "-key",
                          "offer_proto", "UDP/TLS/RTP/SAVP", "-key", "offer_attr1", "a=fingerprint:" + pc.fingerprint, "-key",
                          "offer_attr2", "a=setup:active", "127.0.0.1:34720"}),
              d / "uac.out", 30);

    // What each sipp logged about the SDP srtpo-cp sent it.
    const auto line_of = [&](const std::string& file, const std::string& tag) {
        std::string line;
        poll_until(
            [&] {
                std::ifstream f(file);
                for (std::string l; std::getline(f, l);)
                    if (l.rfind(tag + " ", 0) == 0) line = l;
                return !line.empty();
            },
            10s);
        return line;
    };
    const auto offer_b = line_of(d / "uas.log", "OFFER"), answer_a = line_of(d / "uac.log", "ANSWER");
    ASSERT_FALSE(offer_b.empty() || answer_a.empty()) << uac.output() << uas.output() << cp.output() << hop_a.output() << hop_b.output();
    std::istringstream ob(offer_b.substr(6)), oa(answer_a.substr(7));
    int b_local = 0, a_local = 0;
    std::string b_proto, b_crypto, a_proto;
    ob >> b_local >> b_proto >> b_crypto;
    oa >> a_local >> a_proto;
    EXPECT_EQ(b_proto, "RTP/SAVP") << offer_b;
    ASSERT_EQ(b_crypto.rfind("crypto=AES_CM_128_HMAC_SHA1_80,", 0), 0u) << offer_b;
    const auto ours_b = engine::parse_sdes_inline("inline:" + b_crypto.substr(31));
    ASSERT_TRUE(ours_b) << offer_b;
    EXPECT_EQ(a_proto, "UDP/TLS/RTP/SAVP") << answer_a;
    // RFC 5763 §5: the caller is active, so srtpo-cp answers passive with its own certificate.
    EXPECT_NE(answer_a.find("setup=passive"), std::string::npos) << answer_a;
    auto our_fp = test::run_command("openssl x509 -in " + (d / "dtls-cert.pem") + " -noout -fingerprint -sha256");
    const auto fp_at = answer_a.find("fingerprint=sha-256 ");
    ASSERT_NE(fp_at, std::string::npos) << answer_a;
    EXPECT_NE(our_fp.out.find(answer_a.substr(fp_at + 20, 95)), std::string::npos) << answer_a << our_fp.out;
    EXPECT_EQ(cp.flows(), 0u) << "no DTLS keys yet: nothing may be installed";

    // The caller's DTLS stack, from the address:port its SDP named, verifying srtpo-cp's certificate.
    child s({"openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:" + std::to_string(a_local), "-bind", "127.0.0.1:" + std::to_string(a_peer),
             "-cert", pc.cert, "-key", pc.key, "-CAfile", d / "dtls-cert.pem", "-verify_return_error", "-use_srtp", "SRTP_AES128_CM_SHA1_80",
             "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60"},
            d / "s_client.log", 20);
    ASSERT_TRUE(s.wait_for("Keying material", 10s)) << s.output() << cp.output();
    ASSERT_TRUE(poll_until([&] { return cp.flows() == 2; }, 5s)) << cp.ctl("flow list").out << cp.output();
    const auto km = keying_material(s.output());
    ASSERT_TRUE(km && km->size() == 60) << s.output();
    // RFC 5764 §4.2: client_key | server_key | client_salt | server_salt; the caller is the client.
    const auto part = [&](std::size_t key_at, std::size_t salt_at) {
        std::vector<uint8_t> v(km->begin() + static_cast<long>(key_at), km->begin() + static_cast<long>(key_at + 16));
        v.insert(v.end(), km->begin() + static_cast<long>(salt_at), km->begin() + static_cast<long>(salt_at + 14));
        return v;
    };
    const auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
    std::vector<uint8_t> ours_b_key;
    for (auto b : ours_b->key_salt.bytes()) ours_b_key.push_back(static_cast<uint8_t>(b));
    media_through_pmd(d, table, {a_peer, static_cast<uint16_t>(a_local), b_peer, static_cast<uint16_t>(b_local)}, keyed{cm80, part(0, 32)},
                      keyed{cm80, part(16, 46)}, keyed{cm80, key_b}, keyed{cm80, ours_b_key});

    // The caller hangs up: both sipps end cleanly and the BYE removes the flows.
    ASSERT_TRUE(poll_until([&] { return uac.exited(); }, 20s)) << uac.output();
    EXPECT_EQ(uac.status, 0) << uac.output() << cp.output();
    ASSERT_TRUE(poll_until([&] { return uas.exited(); }, 5s)) << uas.output();
    EXPECT_EQ(uas.status, 0) << uas.output();
    EXPECT_EQ(cp.flows(), 0u) << "the BYE left flows behind: " << cp.ctl("flow list").out;
}

std::string bzrtp_harness() { return env_or("ZRTP_BZRTP_HARNESS", ""); }


// Issue 8: Linphone's bzrtp on leg A (a=zrtp-hash in its offer), SDES on leg B.
TEST_F(bridge, zrtp_peer_to_sdes_sas_verify_and_media_through_pmd) {
    if (bzrtp_harness().empty()) GTEST_SKIP() << "bzrtp harness not built (libbzrtp-dev absent)";
    ASSERT_TRUE(cp.start(d, table, cp_daemon::config(d))) << cp.output();
    const uint16_t a_peer = 34520, b_peer = 34620;
    // Ports come from the pool lowest first: A's leg gets 34000 (the harness sends there).
    child z({"env", "ASAN_OPTIONS=detect_leaks=0", bzrtp_harness(), "--local", std::to_string(a_peer), "--remote", "34000", "--ka", "X255",
             "--timeout-ms", "15000", "--linger-ms", "3000"},
            d / "bzrtp.log", 25);
    ASSERT_TRUE(z.wait_for("ZRTP-HASH", 5s)) << z.output();
    const auto hash = test::bzrtp::hello_hash(z.output());
    const auto x = offer_answer(d, cp, "z1", peer_sdp(a_peer, "RTP/AVP", {"zrtp-hash:" + hash}), b_peer);
    ASSERT_EQ(x.a_local, 34000) << x.answer_a;
    EXPECT_NE(x.answer_a.find("a=zrtp-hash:1.10 "), std::string::npos) << x.answer_a;

    ASSERT_TRUE(z.wait_for("KEYS ", 15s)) << z.output() << cp.output();
    ASSERT_TRUE(poll_until([&] { return cp.call_flows("z1"); }, 5s)) << cp.output();
    const auto secure = test::bzrtp::fields(z.output(), "SECURE"), keys = test::bzrtp::fields(z.output(), "KEYS");
    auto show = cp.ctl_json("zrtp show z1");
    ASSERT_TRUE(show.is_object() && show["streams"].size() == 1) << show.dump(1);
    const auto& s0 = show["streams"][0];
    EXPECT_EQ(s0["state"], "secure") << s0.dump(1);
    EXPECT_EQ(s0["sas"], secure.at("sas")) << "the SAS both users read must be the same";
    EXPECT_EQ(s0["algorithms"]["key_agreement"], "X255") << s0.dump(1);
    EXPECT_EQ(s0["cache"], "new_peer") << s0.dump(1);
    EXPECT_EQ(s0["sas_verified"], false);
    EXPECT_FALSE(s0.contains("keys") || s0.dump().find(keys.at("tx")) != std::string::npos) << "zrtp show must never carry keys";
    auto text = cp.ctl("zrtp show z1");
    EXPECT_EQ(text.code, 0);
    EXPECT_NE(text.out.find(secure.at("sas")), std::string::npos) << text.out;

    // The operator compared the SAS: verify persists in the 0600 cache.
    struct stat before{};
    ASSERT_EQ(::stat((d / "zid.cache").c_str(), &before), 0);
    EXPECT_EQ(before.st_mode & 0777, 0600u);
    auto r = cp.ctl("zrtp verify z1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("marked verified"), std::string::npos) << r.out;
    EXPECT_EQ(cp.ctl_json("zrtp show z1")["streams"][0]["sas_verified"], true);
    std::ifstream cf(d / "zid.cache", std::ios::binary);
    const std::string cache{std::istreambuf_iterator<char>(cf), {}};
    EXPECT_FALSE(cache.empty());
    r = cp.ctl("zrtp verify z1 --stream 3");
    EXPECT_EQ(r.code, 3) << "no such stream: refused, " << r.out;
    r = cp.ctl("zrtp verify");
    EXPECT_EQ(r.code, 2) << "usage: " << r.out;

    // Media: libsrtp with bzrtp's own keys (tx = what it sends, rx = what it opens).
    const auto s = engine::suite::aes_cm_128_hmac_sha1_80;
    const auto suite_a = show["streams"][0]["algorithms"]["auth_tag"] == "HS32" ? engine::suite::aes_cm_128_hmac_sha1_32 : s;
    ASSERT_EQ(show["streams"][0]["algorithms"]["cipher"], "AES1") << "our [zrtp] ciphers default prefers AES1 (libsrtp_pass: AES-128)";
    media_through_pmd(d, table, {a_peer, x.a_local, b_peer, x.b_local}, keyed{suite_a, unhex(keys.at("tx"))},
                      keyed{suite_a, unhex(keys.at("rx"))}, keyed{s, x.key_b}, keyed{s, x.ours_b.key});
}

// A verify before the exchange is secure is refused (exit 3) and marks nothing; an unknown
// call is refused too; srtpo-cp without a harness keeps its ZRTP leg waiting.
TEST_F(bridge, zrtp_verify_refused_before_secure) {
    ASSERT_TRUE(cp.start(d, table, cp_daemon::config(d))) << cp.output();
    (void)offer_answer(d, cp, "z2", peer_sdp(34530, "RTP/AVP", {"zrtp-hash:1.10 " + std::string(64, '0')}), 34630); // nobody answers ZRTP at 34530
    auto r = cp.ctl("zrtp verify z2");
    EXPECT_EQ(r.code, 3) << r.out;
    EXPECT_NE(r.out.find("not secure yet"), std::string::npos) << r.out;
    EXPECT_EQ(cp.ctl_json("zrtp show z2")["streams"][0]["sas_verified"], false);
    r = cp.ctl("zrtp show nosuchcall");
    EXPECT_EQ(r.code, 3) << r.out;
    EXPECT_EQ(cp.flows(), 0u);
}

// Startup: an unwritable certificate path and a key file others can read are clear errors.
TEST_F(bridge, startup_refuses_bad_certificate_and_cache_paths) {
    std::string toml = cp_daemon::config(d);
    const auto bad = "/proc/srtpo-no-such-dir/cert.pem";
    auto t1 = toml;
    t1.replace(t1.find(d / "dtls-cert.pem"), (d / "dtls-cert.pem").size(), bad);
    t1.replace(t1.find(d / "dtls-key.pem"), (d / "dtls-key.pem").size(), "/proc/srtpo-no-such-dir/key.pem");
    EXPECT_FALSE(cp.start(d, table, t1));
    EXPECT_EQ(cp.pid, -1);
    EXPECT_NE(cp.output().find("dtls certificate"), std::string::npos) << cp.output();
    // A ZID cache key file readable by others (someone could forge the cache's HMAC).
    write_file(d / "zid.key", std::string(64, 'a'));
    ::chmod((d / "zid.key").c_str(), 0644);
    ::unlink((d / "cp.log").c_str());
    EXPECT_FALSE(cp.start(d, table, toml));
    EXPECT_NE(cp.output().find("zrtp cache"), std::string::npos) << cp.output();
    EXPECT_NE(cp.output().find("0600"), std::string::npos) << cp.output();
    // An unknown key in [dtls] is a config error (exit 2), as --check-config says.
    write_file(d / "x.toml", "[dtls]\nmtu_typo = 3\n");
    auto r = test::run_command(env_or("SRTPO_CP", "srtpo-cp") + " --check-config --config " + (d / "x.toml") + " 2>&1");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("mtu_typo"), std::string::npos) << r.out;
}

} // namespace
