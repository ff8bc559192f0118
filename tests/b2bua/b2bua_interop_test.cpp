// The B2BUA between real third-party SIP peers on loopback, and its TLS listener against OpenSSL's
// own client:
//  - SIPp (Debian sip-tester) as the caller on leg A and as the callee on leg B, over TCP, and over
//    TLS on both legs through socat TLS hops (Debian's sipp has no TLS): a caller's sipp talks TCP
//    to `socat TCP-LISTEN -> OPENSSL:` (TLS client into our listener) and our TLS client connects
//    to `socat OPENSSL-LISTEN -> TCP:` in front of the callee's sipp. Cases: basic call, CANCEL,
//    hold re-INVITE, 486 relayed, a caller that never ACKs, OPTIONS (TCP and UDP). The callee's
//    sipp checks that the SDP it receives is the media handler's rewrite and carries none of the
//    caller's a=crypto; the caller's sipp checks the same for the 200.
//  - gnutls-cli (an independent TLS stack): SIP OPTIONS over TLS 1.2 and 1.3 answered 200;
//  - openssl s_client: TLS 1.2 and 1.3 both negotiate; with verify_client a self-signed client
//    certificate and a missing one are refused, a CA-signed one accepted; a key file that is not
//    0600 stops the service from starting.
//  - raw TCP: CRLF keep-alive answered, a malformed request answered 400 with the connection kept,
//    a framing error closing it, the per-source connection limit and the idle timeout.
// The process under test is b2bua_host: srtpo-cp's sip_service with the recording call-engine
// double (fake_call_engine.hpp). Ports: 33060 (TCP/UDP), 33061/33161 (TLS), 33070 (sipp UAS),
// 33071 (socat TLS server), 33072 (socat TLS client), 33080 (sipp UAC), 33090-33091 (sipp
// control), 33100-33119 (sipp media, unused).

#include <srtpo/cp/api/client.hpp>

#include "../sip/peer_process.hpp"
#include "../sip/sip_test_util.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

namespace srtpo::cp {
namespace {

using namespace std::string_literals;

std::string scenario(const std::string& name) {
    const char* d = std::getenv("SRTPO_B2BUA_SCENARIOS");
    return std::string(d ? d : "tests/b2bua/scenarios") + "/" + name;
}

const char* host_binary() {
    const char* h = std::getenv("SRTPO_B2BUA_HOST");
    return h ? h : "b2bua_host";
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

// True once something listens on 127.0.0.1:port (TCP), read from /proc/net/tcp (no connection made).
bool wait_listening(uint16_t port, int ms) {
    for (int i = 0; i < ms / 20; ++i) {
        std::ifstream f("/proc/net/tcp");
        std::string line;
        char want[32];
        std::snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", port);
        while (std::getline(f, line))
            if (line.find(want) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Certificates made with the OpenSSL CLI: a CA, a server certificate for 127.0.0.1/localhost, a
// client certificate from the CA, and a self-signed client certificate the CA never saw.
void make_pki(const std::string& d) {
    std::string out;
    auto sh = [&](const std::string& cmd) {
        ASSERT_EQ(test::run({"sh", "-c", cmd}, out, 20000), 0) << cmd << "\n" << out;
    };
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    sh("cd " + d + " && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 2 -subj /CN=srtpo-test-ca 2>/dev/null");
    for (const char* n : {"srv", "cli"}) {
        const std::string name = n;
        sh("cd " + d + " && openssl req" + ec + "-keyout " + name + ".key -out " + name + ".csr -subj /CN=localhost 2>/dev/null && " +
           "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > " + name + ".ext && " +
           "openssl x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile " + name + ".ext -out " +
           name + ".crt 2>/dev/null && cat " + name + ".crt " + name + ".key > " + name + ".pem");
    }
    sh("cd " + d + " && openssl req -x509" + ec + "-keyout bad.key -out bad.crt -days 2 -subj /CN=localhost 2>/dev/null");
    sh("cd " + d + " && chmod 600 *.key *.pem");
}

struct host_result {
    int rc = -1;
    std::string log;
    int stat(const std::string& name) const {
        std::smatch m;
        if (std::regex_search(log, m, std::regex(name + "=(\\d+)"))) return std::stoi(m[1]);
        return -1;
    }
};

class B2buaInterop : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* p : {"sipp", "socat", "openssl"})
            ASSERT_TRUE(test::in_path(p)) << p << " missing: scripts/install-deps.sh installs it";
        make_pki(dir.path());
    }
    void TearDown() override {
        for (auto* g : {&uac, &uas, &hop_a, &hop_b})
            if (g->pid > 0) g->finish(200);
        if (host.pid > 0) stop_host();
    }

    std::string base_config(const std::string& extra_sip = {}, const std::string& extra_tls = {}) const {
        const auto& d = dir.path();
        return "[sip]\nuser_agent = \"srtpo-test\"\n" + extra_sip +
               "[[sip.listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1\"\nport = 33060\n"
               "[[sip.listen]]\ntransport = \"udp\"\naddress = \"127.0.0.1\"\nport = 33060\n"
               "[[sip.listen]]\ntransport = \"tls\"\naddress = \"127.0.0.1\"\nport = 33061\n"
               "[sip.tls]\ncert = \"" + d + "/srv.crt\"\nkey = \"" + d + "/srv.key\"\nca = \"" + d + "/ca.crt\"\n" + extra_tls +
               "[sip.timers]\nt1_ms = 50\nt2_ms = 400\n"
               "[[sip.route]]\ndomain = \"tcp.test\"\nnext_hop = \"sip:127.0.0.1:33070;transport=tcp\"\nb_keying = \"sdes\"\n"
               "[[sip.route]]\ndomain = \"tls.test\"\nnext_hop = \"sip:127.0.0.1:33071;transport=tls\"\n"
               "[[sip.route]]\ndomain = \"udp.test\"\nnext_hop = \"sip:127.0.0.1:33070;transport=udp\"\n";
    }

    void start_host(const std::string& config) {
        write_file(dir.path() + "/b2bua.toml", config);
        host_log = dir.path() + "/host.log";
        host.pid = test::spawn({host_binary(), dir.path() + "/b2bua.toml"}, host_log);
        ASSERT_GT(host.pid, 0);
        for (int i = 0; i < 250; ++i) {
            if (test::read_file(host_log).find("READY") != std::string::npos) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        FAIL() << "b2bua_host did not start:\n" << test::read_file(host_log);
    }
    host_result stop_host() {
        host_result r;
        ::kill(host.pid, SIGTERM);
        r.rc = host.finish(5000);
        r.log = test::read_file(host_log);
        return r;
    }

    std::vector<std::string> sipp(const std::string& scen, uint16_t port, uint16_t cp, uint16_t mp, const std::string& name,
                                  const char* transport = "t1") {
        return {"timeout", "25", "sipp", "-sf", scenario(scen), "-t", transport, "-i", "127.0.0.1", "-p", std::to_string(port),
                "-cp", std::to_string(cp), "-mp", std::to_string(mp), "-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error",
                "-trace_err", "-error_file", dir.path() + "/" + name + ".err", "-trace_logs", "-log_file", dir.path() + "/" + name + ".log",
                "-key", "offer_key", "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "-key", "answer_key",
                "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIz"};
    }
    void start_uas(const std::string& scen, const char* transport = "t1") {
        uas.pid = test::spawn(sipp(scen, 33070, 33090, 33100, "uas", transport), dir.path() + "/uas.out");
        ASSERT_GT(uas.pid, 0);
        if (std::string(transport) == "u1") {
            std::this_thread::sleep_for(std::chrono::milliseconds(300)); // no listen state to poll for UDP
            return;
        }
        ASSERT_TRUE(wait_listening(33070, 5000)) << "sipp UAS did not listen: " << test::read_file(dir.path() + "/uas.out");
    }
    /// Runs the caller to completion against `target` ("127.0.0.1:33060") for `domain`.
    int run_uac(const std::string& scen, const std::string& target, const std::string& domain, const char* transport = "t1",
                std::vector<std::string> extra = {}) {
        auto args = sipp(scen, 33080, 33091, 33110, "uac", transport);
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"-s", "bob", "-d", std::to_string(call_ms), "-key", "rdomain", domain, target});
        uac.pid = test::spawn(args, dir.path() + "/uac.out");
        return uac.finish(20000);
    }
    std::string peer_output(const std::string& name) {
        return test::read_file(dir.path() + "/" + name + ".out") + test::read_file(dir.path() + "/" + name + ".err");
    }
    void expect_call(const std::string& uac_scen, const std::string& uas_scen, const std::string& target, const std::string& domain) {
        start_uas(uas_scen);
        if (HasFatalFailure()) return;
        EXPECT_EQ(run_uac(uac_scen, target, domain), 0) << "caller sipp:\n" << peer_output("uac") << "\nhost:\n" << test::read_file(host_log);
        EXPECT_EQ(uas.finish(15000), 0) << "callee sipp:\n" << peer_output("uas") << "\nhost:\n" << test::read_file(host_log);
    }

    test::temp_dir dir;
    int call_ms = 100; ///< how long the caller's sipp holds an established call
    std::string host_log;
    test::child_guard host, uac, uas, hop_a, hop_b;
};

TEST_F(B2buaInterop, TcpBasicCallBetweenSippPeers) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    expect_call("uac_call.xml", "uas_call.xml", "127.0.0.1:33060", "tcp.test");
    auto r = stop_host();
    EXPECT_EQ(r.rc, 0) << r.log;
    EXPECT_EQ(r.stat("set_up"), 1) << r.log;
    EXPECT_EQ(r.stat("ended"), 1) << r.log;
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    // Every SDP went through the media handler: offer from a, answer from b, then removal.
    EXPECT_NE(r.log.find("MEDIA offer a\nMEDIA answer b\nMEDIA remove a\n"), std::string::npos) << r.log;
    // Max-Forwards was decremented on leg B (sipp's caller sent 70).
    EXPECT_NE(test::read_file(dir.path() + "/uas.log").find("INVITE mf=69"), std::string::npos);
}

TEST_F(B2buaInterop, TcpCallerUdpCallee) {
    // Leg B over UDP: our INVITE client transaction retransmits per Timer A until sipp answers,
    // responses come back to our UDP listener.
    start_host(base_config());
    if (HasFatalFailure()) return;
    start_uas("uas_call.xml", "u1");
    if (HasFatalFailure()) return;
    EXPECT_EQ(run_uac("uac_call.xml", "127.0.0.1:33060", "udp.test"), 0) << peer_output("uac") << test::read_file(host_log);
    EXPECT_EQ(uas.finish(15000), 0) << peer_output("uas") << test::read_file(host_log);
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 1) << r.log;
    EXPECT_EQ(r.stat("active"), 0) << r.log;
}

TEST_F(B2buaInterop, HundredConcurrentCalls) {
    // 100 calls at 100 calls/s, each held 1 s: about 100 at once through one TCP connection per
    // side. (sipp's -m given twice: the later one wins.)
    start_host(base_config());
    if (HasFatalFailure()) return;
    auto uas_args = sipp("uas_call.xml", 33070, 33090, 33100, "uas");
    uas_args.insert(uas_args.end(), {"-m", "100"});
    uas.pid = test::spawn(uas_args, dir.path() + "/uas.out");
    ASSERT_TRUE(wait_listening(33070, 5000));
    call_ms = 1000;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(run_uac("uac_call.xml", "127.0.0.1:33060", "tcp.test", "t1", {"-m", "100", "-r", "100", "-l", "100"}), 0) << peer_output("uac");
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(uas.finish(15000), 0) << peer_output("uas");
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 100) << r.log;
    EXPECT_EQ(r.stat("ended"), 100) << r.log;
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    EXPECT_GE(r.stat("peak"), 50) << r.log;
    std::printf("100 calls (1 s each, 100 calls/s offered) in %lld ms, %d at once at the peak\n", static_cast<long long>(took), r.stat("peak"));
}

TEST_F(B2buaInterop, CallerConnectionLossByesTheCallee) {
    // A caller (raw TCP here) sets up a call to sipp, then its connection drops: the B2BUA must
    // hang up leg B with a BYE, which the callee's sipp scenario waits for.
    start_host(base_config());
    if (HasFatalFailure()) return;
    start_uas("uas_call.xml");
    if (HasFatalFailure()) return;
    const int fd = test::tcp_connect(33060, 3000);
    ASSERT_GE(fd, 0);
    const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/SAVP 0\r\n";
    ASSERT_TRUE(test::send_all(fd, "INVITE sip:bob@tcp.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKloss1\r\n"
                                   "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=l1\r\nTo: <sip:bob@tcp.test>\r\nCall-ID: loss-1\r\n"
                                   "CSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5999;transport=tcp>\r\nContent-Type: application/sdp\r\n"
                                   "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp));
    std::string got;
    for (int i = 0; i < 40 && got.find("SIP/2.0 200") == std::string::npos; ++i)
        if (auto s = test::recv_some(fd, 250)) got += *s;
    ASSERT_NE(got.find("SIP/2.0 200"), std::string::npos) << got << test::read_file(host_log);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(got, m, std::regex("\\nTo: <sip:bob@tcp.test>;tag=([0-9a-f]+)"))) << got;
    ASSERT_TRUE(test::send_all(fd, "ACK sip:srtpo@127.0.0.1:33060;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKloss2\r\n"
                                   "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=l1\r\nTo: <sip:bob@tcp.test>;tag=" + m[1].str() +
                                       "\r\nCall-ID: loss-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::close(fd); // the caller's transport is gone
    EXPECT_EQ(uas.finish(10000), 0) << "callee got no BYE:\n" << peer_output("uas") << test::read_file(host_log);
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 1) << r.log;
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    EXPECT_NE(r.log.find("ended (transport lost)"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, CallOutlivesTheIdleTimeout) {
    // Connections carrying a call are not idle even when no SIP flows: a 1.6 s call with
    // idle_timeout_s = 1 must end with the caller's BYE, not with a closed connection.
    start_host(base_config() + "[sip.limits]\nidle_timeout_s = 1\n");
    if (HasFatalFailure()) return;
    call_ms = 1600;
    expect_call("uac_call.xml", "uas_call.xml", "127.0.0.1:33060", "tcp.test");
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 1) << r.log;
    EXPECT_EQ(r.stat("ended"), 1) << r.log;
    EXPECT_EQ(r.log.find("transport lost"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, TlsOnBothLegsThroughSocatHops) {
    start_host(base_config({}, "verify_server = true\nverify_hostname = true\n"));
    if (HasFatalFailure()) return;
    const auto& d = dir.path();
    // Leg B: TLS server in front of the callee's sipp (certificate from our CA, for 127.0.0.1).
    hop_b.pid = test::spawn({"timeout", "25", "socat", "OPENSSL-LISTEN:33071,bind=127.0.0.1,reuseaddr,cert=" + d + "/srv.pem,verify=0",
                             "TCP:127.0.0.1:33070"},
                            d + "/socat-b.log");
    // Leg A: the caller's sipp speaks TCP to a TLS client that verifies our certificate.
    hop_a.pid = test::spawn({"timeout", "25", "socat", "TCP-LISTEN:33072,bind=127.0.0.1,reuseaddr",
                             "OPENSSL:127.0.0.1:33061,cafile=" + d + "/ca.crt,commonname=localhost"},
                            d + "/socat-a.log");
    ASSERT_TRUE(wait_listening(33071, 5000));
    ASSERT_TRUE(wait_listening(33072, 5000));
    expect_call("uac_call.xml", "uas_call.xml", "127.0.0.1:33072", "tls.test");
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 1) << r.log << test::read_file(d + "/socat-a.log") << test::read_file(d + "/socat-b.log");
    EXPECT_EQ(r.stat("tls_failures"), 0) << r.log;
    EXPECT_EQ(r.stat("active"), 0) << r.log;
}

TEST_F(B2buaInterop, TlsNextHopWithWrongCertificateIsRefused) {
    start_host(base_config({}, "verify_server = true\nverify_hostname = true\n"));
    if (HasFatalFailure()) return;
    const auto& d = dir.path();
    // The next hop presents a self-signed certificate our CA did not sign: no TLS, caller gets 503.
    std::string badpem = test::read_file(d + "/bad.crt") + test::read_file(d + "/bad.key");
    write_file(d + "/bad.pem", badpem);
    hop_b.pid = test::spawn({"timeout", "25", "socat", "OPENSSL-LISTEN:33071,bind=127.0.0.1,reuseaddr,cert=" + d + "/bad.pem,verify=0",
                             "TCP:127.0.0.1:33070"},
                            d + "/socat-b.log");
    ASSERT_TRUE(wait_listening(33071, 5000));
    const int fd = test::tcp_connect(33060, 3000);
    ASSERT_GE(fd, 0);
    const std::string inv = test::wire_form(
        "INVITE sip:bob@tls.test SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKwc1\nMax-Forwards: 70\n"
        "From: <sip:alice@127.0.0.1>;tag=w1\nTo: <sip:bob@tls.test>\nCall-ID: wrongcert\nCSeq: 1 INVITE\n"
        "Contact: <sip:alice@127.0.0.1:5999;transport=tcp>\nContent-Length: 0\n\n");
    ASSERT_TRUE(test::send_all(fd, inv));
    std::string got;
    for (int i = 0; i < 20 && got.find("SIP/2.0 503") == std::string::npos; ++i)
        if (auto s = test::recv_some(fd, 500)) got += *s;
    ::close(fd);
    EXPECT_NE(got.find("SIP/2.0 503"), std::string::npos) << got;
    auto r = stop_host();
    EXPECT_GE(r.stat("tls_failures"), 1) << r.log;
    EXPECT_NE(r.log.find("certificate verify failed"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, CancelBeforeAnswer) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    expect_call("uac_cancel.xml", "uas_cancel.xml", "127.0.0.1:33060", "tcp.test");
    auto r = stop_host();
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    EXPECT_EQ(r.stat("set_up"), 0) << r.log;
    EXPECT_NE(r.log.find("MEDIA reject_offer b"), std::string::npos) << r.log;
    EXPECT_NE(r.log.find("FAILED cancelled=1"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, HoldReinviteIsRelayed) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    expect_call("uac_hold.xml", "uas_hold.xml", "127.0.0.1:33060", "tcp.test");
    auto r = stop_host();
    EXPECT_EQ(r.stat("set_up"), 1) << r.log;
    EXPECT_NE(r.log.find("MEDIA offer a\nMEDIA answer b\nMEDIA offer a\nMEDIA answer b\nMEDIA remove a\n"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, BusyIsRelayed) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    expect_call("uac_busy.xml", "uas_busy.xml", "127.0.0.1:33060", "tcp.test");
    auto r = stop_host();
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    EXPECT_NE(r.log.find("FAILED 486=1"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, CallerNeverAcksBothLegsGetBye) {
    start_host(base_config()); // T1 = 50 ms: the 2xx is given up after 3.2 s
    if (HasFatalFailure()) return;
    const auto t0 = std::chrono::steady_clock::now();
    expect_call("uac_noack.xml", "uas_noack.xml", "127.0.0.1:33060", "tcp.test");
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GE(took, 3000) << "BYE before 64*T1";
    // sipp's screen counts the retransmitted 200s its loop absorbed (second "200 <---" row).
    const std::string screen = test::read_file(dir.path() + "/uac.out");
    std::vector<int> rows;
    const std::regex row("\\n\\s+200 <-+\\s+(?:E-RTD1\\s+)?(\\d+)");
    for (auto it = std::sregex_iterator(screen.begin(), screen.end(), row); it != std::sregex_iterator(); ++it)
        rows.push_back(std::stoi((*it)[1]));
    ASSERT_GE(rows.size(), 2u) << screen;
    std::printf("caller saw %d retransmitted 200s before the BYE at %lld ms\n", rows.back(), static_cast<long long>(took));
    EXPECT_GE(rows[rows.size() - 1], 5) << "2xx retransmissions (T1 = 50 ms, T2 = 400 ms, 3.2 s)\n" << screen;
    auto r = stop_host();
    EXPECT_EQ(r.stat("active"), 0) << r.log;
    EXPECT_NE(r.log.find("FAILED no ACK=1"), std::string::npos) << r.log;
    EXPECT_NE(r.log.find("MEDIA remove"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, OptionsAnsweredOverTcpAndUdp) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    EXPECT_EQ(run_uac("uac_options.xml", "127.0.0.1:33060", "tcp.test"), 0) << peer_output("uac");
    EXPECT_EQ(run_uac("uac_options.xml", "127.0.0.1:33060", "tcp.test", "u1"), 0) << peer_output("uac");
    auto r = stop_host();
    EXPECT_EQ(r.rc, 0);
}

TEST_F(B2buaInterop, MalformedSipKeepaliveAndFraming) {
    start_host(base_config());
    if (HasFatalFailure()) return;
    const int fd = test::tcp_connect(33060, 3000);
    ASSERT_GE(fd, 0);
    // RFC 5626 §4.4.1: CRLFCRLF ping, CRLF pong.
    ASSERT_TRUE(test::send_all(fd, "\r\n\r\n"));
    auto pong = test::recv_some(fd, 2000);
    ASSERT_TRUE(pong);
    EXPECT_EQ(*pong, "\r\n");
    // Max-Forwards over 255: framed fine, refused by the parser with 400; the connection stays.
    ASSERT_TRUE(test::send_all(fd, test::wire_form("OPTIONS sip:x@tcp.test SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKm1\n"
                                                   "Max-Forwards: 300\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@tcp.test>\nCall-ID: bad1\n"
                                                   "CSeq: 1 OPTIONS\nContent-Length: 0\n\n")));
    auto r400 = test::recv_some(fd, 2000);
    ASSERT_TRUE(r400);
    EXPECT_EQ(r400->rfind("SIP/2.0 400 ", 0), 0u) << *r400;
    EXPECT_NE(r400->find("Call-ID: bad1"), std::string::npos) << *r400;
    ASSERT_TRUE(test::send_all(fd, test::wire_form("OPTIONS sip:x@tcp.test SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKm2\n"
                                                   "Max-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@tcp.test>\nCall-ID: good1\n"
                                                   "CSeq: 2 OPTIONS\nContent-Length: 0\n\n")));
    auto r200 = test::recv_some(fd, 2000);
    ASSERT_TRUE(r200);
    EXPECT_EQ(r200->rfind("SIP/2.0 200 ", 0), 0u) << *r200;
    // A Content-Length that is not a number: the stream's framing is lost, the connection closed.
    ASSERT_TRUE(test::send_all(fd, "OPTIONS sip:x@tcp.test SIP/2.0\r\nContent-Length: abc\r\n\r\n"));
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    char c;
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "connection not closed";
    ::close(fd);
    auto r = stop_host();
    EXPECT_EQ(r.stat("parse_errors"), 1) << r.log;
    EXPECT_EQ(r.stat("framing_errors"), 1) << r.log;
    EXPECT_EQ(r.stat("pings"), 1) << r.log;
}

TEST_F(B2buaInterop, ConnectionLimitsAndIdleTimeout) {
    std::string cfg = base_config();
    cfg += "[sip.limits]\nmax_connections_per_source = 2\nidle_timeout_s = 1\n";
    start_host(cfg);
    if (HasFatalFailure()) return;
    const int a = test::tcp_connect(33060, 3000), b = test::tcp_connect(33060, 3000), c = test::tcp_connect(33060, 3000);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    ASSERT_GE(c, 0);
    auto closed_within = [](int fd, int ms) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, ms) != 1) return false;
        char x;
        return ::recv(fd, &x, 1, 0) == 0;
    };
    EXPECT_TRUE(closed_within(c, 1000)) << "third connection from 127.0.0.1 accepted";
    EXPECT_FALSE(closed_within(a, 300)) << "first connection closed early";
    EXPECT_TRUE(closed_within(a, 2500)) << "idle connection not closed after idle_timeout_s";
    for (int fd : {a, b, c}) ::close(fd);
    auto r = stop_host();
    EXPECT_EQ(r.stat("refused_limit"), 1) << r.log;
    EXPECT_GE(r.stat("idle_closed"), 1) << r.log;
}

TEST_F(B2buaInterop, TlsVersionsAndClientCertificateVerification) {
    // The first listener asks for no client certificate; s_client must negotiate 1.2 and 1.3.
    start_host(base_config({}, "verify_client = true\n"));
    if (HasFatalFailure()) return;
    const auto& d = dir.path();
    auto s_client = [&](const std::vector<std::string>& extra, std::string& out) {
        std::vector<std::string> args{"timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:33061", "-brief", "-CAfile",
                                      d + "/ca.crt", "-verify_return_error", "-servername", "localhost"};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run(args, out, 12000);
    };
    std::string out;
    for (const char* v : {"-tls1_2", "-tls1_3"}) {
        EXPECT_EQ(s_client({v, "-cert", d + "/cli.crt", "-key", d + "/cli.key"}, out), 0) << out;
        EXPECT_NE(out.find(std::string("Protocol version: TLSv1.") + (v[6] == '2' ? "2" : "3")), std::string::npos) << out;
        EXPECT_NE(out.find("Verification: OK"), std::string::npos) << out;
    }
    // A self-signed client certificate and no certificate: both refused by the server.
    s_client({"-tls1_2", "-cert", d + "/bad.crt", "-key", d + "/bad.key"}, out);
    EXPECT_NE(out.find("alert"), std::string::npos) << out;
    s_client({"-tls1_2"}, out);
    EXPECT_NE(out.find("alert"), std::string::npos) << out;
    s_client({"-tls1_3", "-cert", d + "/bad.crt", "-key", d + "/bad.key"}, out);
    auto r = stop_host();
    EXPECT_EQ(r.stat("tls_failures"), 3) << r.log;
    EXPECT_NE(r.log.find("certificate"), std::string::npos) << r.log;
}

TEST_F(B2buaInterop, GnutlsClientSipOptionsOverTls) {
    // A second, independent TLS stack (GnuTLS's gnutls-cli) sends an OPTIONS over TLS 1.2 and
    // over TLS 1.3 and must get our 200 back on the same connection.
    ASSERT_TRUE(test::in_path("gnutls-cli")) << "gnutls-cli missing: install gnutls-bin (scripts/install-deps.sh)";
    start_host(base_config());
    if (HasFatalFailure()) return;
    const std::string opt =
        "OPTIONS sip:127.0.0.1:33061 SIP/2.0\\r\\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKgt\\r\\nMax-Forwards: 70\\r\\n"
        "From: <sip:mon@127.0.0.1>;tag=g1\\r\\nTo: <sip:127.0.0.1:33061>\\r\\nCall-ID: gnutls-opt\\r\\nCSeq: 1 OPTIONS\\r\\n"
        "Content-Length: 0\\r\\n\\r\\n";
    for (const char* v : {"1.2", "1.3"}) {
        std::string out;
        const std::string cmd = "(printf '" + opt + "'; sleep 0.7) | timeout 10 gnutls-cli --x509cafile " + dir.path() +
                                "/ca.crt --priority NORMAL:-VERS-ALL:+VERS-TLS" + v + " -p 33061 localhost";
        test::run({"sh", "-c", cmd}, out, 12000);
        EXPECT_NE(out.find(std::string("(TLS") + v + "-X.509)"), std::string::npos) << out;
        EXPECT_NE(out.find("SIP/2.0 200 OK"), std::string::npos) << out;
        EXPECT_NE(out.find("Call-ID: gnutls-opt"), std::string::npos) << out;
    }
    auto r = stop_host();
    EXPECT_EQ(r.stat("tls_failures"), 0) << r.log;
}

TEST_F(B2buaInterop, TlsKeyFileMustBe0600AndCiphersAreApplied) {
    ::chmod((dir.path() + "/srv.key").c_str(), 0644);
    write_file(dir.path() + "/b2bua.toml", base_config());
    std::string out;
    EXPECT_EQ(test::run({host_binary(), dir.path() + "/b2bua.toml"}, out, 5000), 2) << out;
    EXPECT_NE(out.find("must be mode 0600, not 0644"), std::string::npos) << out;
    ::chmod((dir.path() + "/srv.key").c_str(), 0600);
    // A TLS 1.2 cipher list the client does not share: the handshake fails; one it does share works.
    start_host(base_config({}, "ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384\"\n"));
    if (HasFatalFailure()) return;
    std::vector<std::string> base{"timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:33061", "-brief", "-tls1_2", "-CAfile",
                                  dir.path() + "/ca.crt"};
    auto with = [&](const char* cipher) {
        auto a = base;
        a.insert(a.end(), {"-cipher", cipher});
        return a;
    };
    EXPECT_NE(test::run(with("ECDHE-ECDSA-AES128-GCM-SHA256"), out, 12000), 0) << out;
    EXPECT_EQ(test::run(with("ECDHE-ECDSA-AES256-GCM-SHA384"), out, 12000), 0) << out;
    EXPECT_NE(out.find("ECDHE-ECDSA-AES256-GCM-SHA384"), std::string::npos) << out;
}

// srtpo-cp itself with a [sip] section: main.cpp starts the SIP service next to the control API.
// Until the call engine is linked in it answers OPTIONS and refuses every SDP offer with 488.
TEST_F(B2buaInterop, SrtpoCpStartsTheSipServiceFromItsConfig) {
    const char* cp = std::getenv("SRTPO_CP");
    ASSERT_NE(cp, nullptr) << "SRTPO_CP not set (meson sets it)";
    const auto& d = dir.path();
    const std::string table = "srtpo-b2bua-test-" + std::to_string(::getpid());
    write_file(d + "/cp.toml", "[log]\nlevel = \"info\"\n[sip]\n[[sip.listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1\"\n"
                               "port = 33260\n[[sip.route]]\ndomain = \"tcp.test\"\nnext_hop = \"sip:127.0.0.1:33070;transport=tcp\"\n");
    host_log = d + "/cp.log";
    host.pid = test::spawn({cp, "--config", d + "/cp.toml", "--table", table, "--capacity", "16", "--socket", d + "/cp.sock"}, host_log);
    ASSERT_GT(host.pid, 0);
    ASSERT_TRUE(wait_listening(33260, 5000)) << test::read_file(host_log);
    const int fd = test::tcp_connect(33260, 3000);
    ASSERT_GE(fd, 0);
    auto exchange = [&](const std::string& text, const std::string& want) {
        EXPECT_TRUE(test::send_all(fd, test::wire_form(text)));
        std::string got;
        for (int i = 0; i < 20 && got.find(want) == std::string::npos; ++i)
            if (auto s = test::recv_some(fd, 250)) got += *s;
        return got;
    };
    auto opt = exchange("OPTIONS sip:127.0.0.1:33260 SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKcp1\nMax-Forwards: 70\n"
                        "From: <sip:mon@127.0.0.1>;tag=c1\nTo: <sip:127.0.0.1:33260>\nCall-ID: cp-opt\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
                        "SIP/2.0 200");
    EXPECT_NE(opt.find("SIP/2.0 200"), std::string::npos) << opt;
    auto inv = exchange("INVITE sip:bob@tcp.test SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKcp2\nMax-Forwards: 70\n"
                        "From: <sip:alice@127.0.0.1>;tag=c2\nTo: <sip:bob@tcp.test>\nCall-ID: cp-inv\nCSeq: 1 INVITE\n"
                        "Contact: <sip:alice@127.0.0.1:5999;transport=tcp>\nContent-Type: application/sdp\nContent-Length: @CL@\n\n"
                        "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\n",
                        "SIP/2.0 488");
    EXPECT_NE(inv.find("SIP/2.0 488"), std::string::npos) << inv;
    // The real call engine refuses: this srtpo-cp has no [media] section (docs/calls.md).
    EXPECT_NE(inv.find("no [media] address configured"), std::string::npos) << inv;
    // The refused call is counted by reason in the stats op (keying-ctl stats, issue 6).
    auto ctl = api::client::connect(d + "/cp.sock", std::chrono::seconds(5));
    ASSERT_TRUE(ctl) << ctl.err().message;
    auto st = ctl->call({{"op", "stats"}});
    ASSERT_TRUE(st) << st.err().message;
    ASSERT_EQ((*st)["ok"], true) << st->dump();
    const auto& res = (*st)["result"];
    const auto& calls = res["sip"]["calls"];
    EXPECT_EQ(calls["failed_by_reason"]["media"], 1) << st->dump();
    EXPECT_EQ(calls["failed"], 1) << st->dump();
    EXPECT_EQ(calls["set_up"], 0) << st->dump();
    EXPECT_EQ(calls["active"], 0) << st->dump();
    EXPECT_EQ(res["sip"]["connections"]["accepted"], 1) << st->dump();
    EXPECT_EQ(res["calls"]["active"], 0) << st->dump();
    ::close(fd);
    ::kill(host.pid, SIGTERM);
    EXPECT_EQ(host.finish(5000), 0) << test::read_file(host_log);
    for (const std::string& n : {table, table + ".status"}) ::unlink(("/dev/shm/" + n).c_str());
    EXPECT_NE(test::read_file(host_log).find("sip: B2BUA listening"), std::string::npos) << test::read_file(host_log);
}

} // namespace
} // namespace srtpo::cp
