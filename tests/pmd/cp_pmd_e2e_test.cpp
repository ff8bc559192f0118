// The two processes together, driven as an operator would (issue 5, "End to end"): srtpo-cp
// writes the table, keying-ctl adds, rekeys and deletes flows, srtpo-pmd (net_pcap vdev fed
// live) processes libsrtp-made SRTP and plain RTP. One call, two flows:
//   flow A (unprotect): SRTP from a libsrtp sender with two keys under MKIs 1 and 2 -> plain
//   flow B (protect):   plain RTP -> SRTP that libsrtp must open with the key keying-ctl gave
// The stream crosses a SEQ wrap (ROC 0 -> 1) and, in order: a keying-ctl rekey of A under a new
// MKI mid-stream (no packet lost), kill -9 of srtpo-cp (the pmd keeps forwarding; a restarted
// srtpo-cp lists every flow), kill -9 of srtpo-pmd and a restart (ROC resumed from the status
// region), and keying-ctl flow del of B (its traffic stops, its slot is zeroized).
#include "pmd_harness.hpp"

#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace srtpo;
using json = nlohmann::json;
using test::frame_list;
using test::tmpdir;
using namespace std::chrono_literals;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);
constexpr auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;

std::string env_or(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v ? v : dflt;
}

/// srtpo-cp as a child process; kill -9 on destruction if still running.
class cp_process {
public:
    cp_process(std::string table, std::string sock, std::string log) : _table(std::move(table)), _sock(std::move(sock)), _log(std::move(log)) {}
    ~cp_process() { kill9(); }
    bool start() {
        const std::string bin = env_or("SRTPO_CP", "srtpo-cp");
        _pid = ::fork();
        if (_pid == 0) {
            std::freopen(_log.c_str(), "a", stdout);
            ::execl(bin.c_str(), bin.c_str(), "--table", _table.c_str(), "--socket", _sock.c_str(), "--capacity", "64", nullptr);
            std::_Exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (test::run_command(ctl_prefix() + " health").code == 0) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    void kill9() {
        if (_pid > 0) {
            ::kill(_pid, SIGKILL);
            ::waitpid(_pid, nullptr, 0);
            _pid = -1;
        }
    }
    std::string ctl_prefix() const { return env_or("SRTPO_KEYING_CTL", "keying-ctl") + " --socket " + _sock; }

private:
    std::string _table, _sock, _log;
    pid_t _pid = -1;
};

std::string endpoint_text(const net::ip_address& a, uint16_t port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.family == net::ip_family::ipv4) {
        inet_ntop(AF_INET, a.bytes.data(), buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port);
    }
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
}

template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(500us);
    }
    return true;
}

uint16_t dst_port_of(const std::vector<std::byte>& f) { return net::parse_udp_frame(f, net::link_type::ethernet).dst_port; }

} // namespace

TEST(cp_pmd_e2e, keying_ctl_flows_through_restarts_rekey_and_delete) {
    tmpdir d("srtpo-e2e");
    const std::string table = "/srtpo-e2e-" + std::to_string(::getpid());
    struct unlink_at_end {
        std::string t;
        ~unlink_at_end() {
            (void)table::unlink_shm(t);
            (void)table::unlink_shm(t + ".status");
        }
    } cleanup{table};

    // One call, both directions, RTP only, SEQ from 65500 so both streams wrap (ROC 1).
    net::rtp_capture_options g;
    g.calls = 1;
    g.packets_per_direction = 150;
    g.rtcp_interval = 0;
    g.initial_seq = 65500;
    g.seed = 29;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", g);
    const auto& sa = sum.streams[0]; // flow A: arrives SRTP, leaves plain
    const auto& sb = sum.streams[1]; // flow B: arrives plain, leaves SRTP
    const auto plain = test::capture_frames(d / "plain.pcap");
    const auto ka1 = test::random_key(30, 51), ka2 = test::random_key(30, 52), kb = test::random_key(30, 53);
    test::mki_sender tx(ka1, ka2);
    constexpr std::size_t rekey_at = 100; // frame index (both streams interleaved)
    frame_list input;
    for (std::size_t i = 0; i < plain.size(); ++i)
        input.push_back(dst_port_of(plain[i]) == sa.dst_port ? tx.protect(plain[i], i < rekey_at ? 0 : 1) : plain[i]);

    cp_process cp(table, d / "cp.sock", d / "cp.log");
    ASSERT_TRUE(cp.start()) << "srtpo-cp did not start";
    const std::string match_a = endpoint_text(sa.dst, sa.dst_port), match_b = endpoint_text(sb.dst, sb.dst_port);
    auto ctl = [&](const std::string& args) { return test::run_command(cp.ctl_prefix() + " " + args); };
    auto r = ctl("flow add --match " + match_a + " --in-suite AES_CM_128_HMAC_SHA1_80 --in-key '" + test::sdes_inline(ka1) + "|1:1'");
    ASSERT_EQ(r.code, 0) << r.out;
    r = ctl("flow add --match " + match_b + " --out-suite AES_CM_128_HMAC_SHA1_80 --out-key " + test::sdes_inline(kb));
    ASSERT_EQ(r.code, 0) << r.out;

    frame_list out;
    std::size_t fed = 0, b_fed = 0;
    std::optional<table::status_mapping> st;
    auto pmd_packets = [&] {
        auto s = table::status_mapping::attach(table + ".status");
        if (!s) return uint64_t{0};
        uint64_t n = 0;
        for (uint32_t i = 0; i < s->capacity(); ++i) n += s->load(i).packets;
        return n;
    };
    auto feed_until = [&](test::live_pmd& pmd, std::size_t end) {
        for (; fed < end; ++fed) {
            pmd.feed(input[fed]);
            b_fed += dst_port_of(input[fed]) == sb.dst_port;
        }
    };
    {
        test::live_pmd pmd;
        // --l2 keep: frames are compared byte for byte below (pmd_vdev tests the L2 rewrite).
        ASSERT_TRUE(pmd.start(d.p.string(), d / "out1.pcap", "--l2 keep --table " + table));
        ASSERT_TRUE(wait_for([&] { return table::status_mapping::attach(table + ".status").has_value(); }));
        feed_until(pmd, rekey_at - 10);
        ASSERT_TRUE(wait_for([&] { return pmd_packets() == fed; })) << pmd_packets() << " of " << fed;

        // Rekey A under MKI 2 (make-before-break); the sender switches at frame rekey_at.
        r = ctl("flow rekey " + match_a + " --in-key '" + test::sdes_inline(ka2) + "|2:1' --grace 2000");
        ASSERT_EQ(r.code, 0) << r.out;
        EXPECT_NE(r.out.find("make-before-break"), std::string::npos) << r.out;
        std::this_thread::sleep_for(30ms);
        feed_until(pmd, rekey_at + 10);
        ASSERT_TRUE(wait_for([&] { return pmd_packets() == fed; })) << "a packet was lost across the rekey: " << pmd_packets() << " of " << fed;

        // kill -9 srtpo-cp: the pmd keeps forwarding.
        cp.kill9();
        feed_until(pmd, rekey_at + 20);
        ASSERT_TRUE(wait_for([&] { return pmd_packets() == fed; })) << "the pmd stopped without srtpo-cp";
        // A restarted srtpo-cp sees both flows.
        ASSERT_TRUE(cp.start());
        r = ctl("--json flow list");
        ASSERT_EQ(r.code, 0) << r.out;
        const auto lst = json::parse(r.out);
        EXPECT_EQ(lst["count"], 2) << r.out;
        r = ctl("--json stats");
        ASSERT_EQ(r.code, 0) << r.out;
        EXPECT_EQ(json::parse(r.out)["total"]["packets"].get<uint64_t>(), fed) << r.out;

        // kill -9 srtpo-pmd.
        pmd.kill9();
    }
    out = test::capture_frames(d / "out1.pcap");
    {
        test::live_pmd pmd;
        ASSERT_TRUE(pmd.start(d.p.string(), d / "out2.pcap", "--l2 keep --table " + table));
        // The FIFO opens during EAL start-up, before the table is read: wait for the new
        // process's sync thread (its pid and heartbeat in the status region).
        ASSERT_TRUE(wait_for([&] {
            auto s = table::status_mapping::attach(table + ".status");
            return s && s->writer_pid() == static_cast<uint64_t>(pmd.pid()) && s->last_heartbeat() != 0;
        }));
        feed_until(pmd, input.size() - 20);
        ASSERT_TRUE(wait_for([&] { return pmd_packets() == fed; })) << "after the pmd restart: " << pmd_packets() << " of " << fed;
        // Delete B: its remaining frames are not forwarded, and its slot is zeroized.
        r = ctl("--json flow show " + match_b);
        ASSERT_EQ(r.code, 0) << r.out;
        const auto b_slot = json::parse(r.out)["slot"].get<uint32_t>();
        r = ctl("flow del " + match_b);
        ASSERT_EQ(r.code, 0) << r.out;
        std::this_thread::sleep_for(30ms);
        std::size_t b_after = 0;
        for (; fed < input.size(); ++fed) {
            pmd.feed(input[fed]);
            b_after += dst_port_of(input[fed]) == sb.dst_port;
        }
        auto res = pmd.finish();
        ASSERT_EQ(res.code, 0) << res.out;
        EXPECT_NE(res.out.find("resumed"), std::string::npos) << res.out;
        EXPECT_EQ(res.stats.at("drops").at("no_flow").get<uint64_t>(), b_after) << res.out;
        auto sess = table::sessions_mapping::attach(table);
        ASSERT_TRUE(sess) << sess.err().message;
        const auto& slot = sess->slot(b_slot);
        for (std::size_t w = 1; w < table::slot_payload_words; ++w) EXPECT_EQ(slot.words[w], 0u) << "slot word " << w;
        ASSERT_GT(b_after, 0u);
    }
    for (auto& f : test::capture_frames(d / "out2.pcap")) out.push_back(f);

    // A: every frame came out as the original plain frame. B: libsrtp opens every frame sent.
    frame_list a_plain, a_got, b_plain, b_got;
    for (const auto& f : plain) {
        if (dst_port_of(f) == sa.dst_port) a_plain.push_back(f);
        else if (b_plain.size() < b_fed) b_plain.push_back(f);
    }
    for (const auto& f : out) (dst_port_of(f) == sa.dst_port ? a_got : b_got).push_back(f);
    EXPECT_EQ(a_got, a_plain);
    ASSERT_EQ(b_got.size(), b_fed);
    test::write_frames(d / "b_out.pcap", b_got);
    EXPECT_EQ(test::libsrtp_pass(d / "b_out.pcap", d / "b_back.pcap", cm80, kb, false), b_plain.size());
    EXPECT_EQ(test::capture_frames(d / "b_back.pcap"), b_plain);
}
