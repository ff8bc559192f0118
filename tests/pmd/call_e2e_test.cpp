// A call anchored end to end, as an external SIP proxy would drive it (docs/calls.md): srtpo-cp
// with a [media] section, `keying-ctl call offer` with caller A's SDP, `keying-ctl call answer`
// with callee B's SDP, and srtpo-pmd (net_pcap vdev, flows from the table) carrying the media.
// The peers' media is made by libsrtp 2.5 (a third-party SRTP implementation) with the keys the
// peers put in their own SDP; what the pmd sends each peer is opened by libsrtp with the key
// srtpo-cp gave that peer in the SDP it generated. Every packet must come out byte-identical to
// what the other peer sent before protection: media really transcrypted, key per leg.
//
// Addressing: the capture generator's call 0 has 192.0.2.1:31000 <-> 198.51.100.1:31002. The
// engine's media address is 192.0.2.1 on leg A (config) and 198.51.100.1 on leg B (the offer's
// policy), ports 31000 (A) and 31002 (B) from the range; so A's peer is 198.51.100.1:31002 and B's
// 192.0.2.1:31000, and the frames the pmd sends each peer carry exactly the original addresses.
#include "pmd_harness.hpp"

#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sdp/session_description.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

using namespace srtpo;
using json = nlohmann::json;
using test::frame_list;
using test::tmpdir;
using namespace std::chrono_literals;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);

std::string env_or(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v ? v : dflt;
}

/// srtpo-cp with a config file, as a child process; stopped with SIGKILL by PID at the end.
struct cp_daemon {
    pid_t pid = -1;
    std::string sock;
    ~cp_daemon() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    bool start(const tmpdir& d, const std::string& table) {
        sock = d / "cp.sock";
        {
            std::ofstream c(d / "cp.toml");
            c << "[media]\naddress = \"192.0.2.1\"\nport_min = 31000\nport_max = 31099\n";
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
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    test::command_result ctl(const std::string& args) const {
        return test::run_command(env_or("SRTPO_KEYING_CTL", "keying-ctl") + " --socket " + sock + " " + args);
    }
};

struct shm_cleanup {
    std::string t;
    ~shm_cleanup() {
        (void)table::unlink_shm(t);
        (void)table::unlink_shm(t + ".status");
    }
};

uint16_t dst_port_of(const std::vector<std::byte>& f) { return net::parse_udp_frame(f, net::link_type::ethernet).dst_port; }

/// Frames whose UDP destination port is `rtp` or `rtp + 1` (RTCP, RFC 3550 §11).
frame_list towards(const frame_list& all, uint16_t rtp) {
    frame_list out;
    for (const auto& f : all)
        if (dst_port_of(f) == rtp || dst_port_of(f) == rtp + 1) out.push_back(f);
    return out;
}

std::string sdp_text(const std::string& addr, uint16_t port, const std::string& proto, const std::string& crypto) {
    return "v=0\r\no=peer 7 1 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " " + proto +
           " 0\r\na=rtpmap:0 PCMU/8000\r\n" + crypto;
}

/// The key (key||salt) and suite of the single a=crypto of the first m= line.
struct sdp_key {
    engine::suite suite{};
    std::vector<uint8_t> key;
    uint16_t port = 0;
};
sdp_key key_of(const std::string& body) {
    sdp_key k;
    auto sd = cp::sdp::parse(body);
    EXPECT_TRUE(sd) << body;
    if (!sd) return k;
    k.port = sd->media.at(0).port;
    auto a = cp::sdes::crypto_attributes(sd->media.at(0));
    EXPECT_TRUE(a && a->size() == 1) << body;
    if (!a || a->size() != 1) return k;
    k.suite = *a->front().suite;
    auto b = a->front().keys.at(0).key_salt.bytes();
    for (auto x : b) k.key.push_back(static_cast<uint8_t>(x));
    return k;
}

/// What a peer sees of a frame: addresses, ports and the UDP payload (RTP/RTCP). The pmd
/// writes its own IPv4 identification, so whole frames are not compared.
struct seen {
    net::ip_address src, dst;
    uint16_t sport = 0, dport = 0;
    std::vector<std::byte> payload;
    friend bool operator==(const seen&, const seen&) = default;
};
std::vector<seen> seen_of(const frame_list& fs) {
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
long first_difference(const frame_list& x, const frame_list& y) {
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

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
/// A file keying-ctl wrote an SDP to; run_command also sends stderr there (notes come first).
std::string read_sdp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::string s{std::istreambuf_iterator<char>(f), {}};
    const auto v = s.find("v=0");
    return v == std::string::npos ? s : s.substr(v);
}

struct call_case {
    const char* name;
    bool a_srtp;             ///< A offers SDES AES_CM_128_HMAC_SHA1_80 (else plain RTP/AVP)
    const char* b_suite;     ///< what srtpo-cp offers B
};

void PrintTo(const call_case& c, std::ostream* os) { *os << c.name; }

class call_e2e : public ::testing::TestWithParam<call_case> {};

TEST_P(call_e2e, media_transcrypted_with_each_legs_keys) {
    const auto& cc = GetParam();
    tmpdir d("srtpo-call-e2e");
    const std::string table = "/srtpo-call-e2e-" + std::to_string(::getpid()) + "-" + cc.name;
    shm_cleanup cleanup{table};
    cp_daemon cp;
    ASSERT_TRUE(cp.start(d, table)) << "srtpo-cp did not start";

    net::rtp_capture_options g;
    g.calls = 1;
    g.packets_per_direction = 120;
    g.rtcp_interval = 20;
    g.initial_seq = 65480; // both streams cross a SEQ wrap (ROC 1)
    g.base_port = 31000;
    g.seed = 77;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", g);
    const auto plain = test::capture_frames(d / "plain.pcap");
    const auto from_a = towards(plain, 31000), from_b = towards(plain, 31002); // A's peer sends to A.local = :31000
    ASSERT_EQ(from_a.size() + from_b.size(), plain.size());

    // A's offer (its key, if any, is A's own), through srtpo-cp towards B.
    const auto key_a = test::random_key(30, 1001);
    const auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
    write_file(d / "a_offer.sdp", cc.a_srtp ? sdp_text("198.51.100.1", 31002, "RTP/SAVP",
                                                       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(key_a) + "\r\n")
                                            : sdp_text("198.51.100.1", 31002, "RTP/AVP", ""));
    // The SDP goes to a file.
    auto r = cp.ctl(std::string("call offer e2e ") + (d / "a_offer.sdp") + " --method sdes --suite " + cc.b_suite +
                    " --no-rtcp-mux --media-address 'IP4 198.51.100.1' >" + (d / "b_offer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto offer_b = read_sdp(d / "b_offer.sdp");
    const auto ours_b = key_of(offer_b);
    ASSERT_EQ(ours_b.port, 31002) << offer_b;
    ASSERT_EQ(ours_b.suite, *engine::suite_from_name(cc.b_suite));
    EXPECT_NE(offer_b.find("c=IN IP4 198.51.100.1"), std::string::npos) << offer_b;

    // B answers with its own key.
    const auto key_b = test::random_key(engine::traits(ours_b.suite).key_salt_len(), 2002);
    write_file(d / "b_answer.sdp", sdp_text("192.0.2.1", 31000, "RTP/SAVP",
                                            std::string("a=crypto:1 ") + cc.b_suite + " " + test::sdes_inline(key_b) + "\r\n"));
    r = cp.ctl(std::string("call answer e2e ") + (d / "b_answer.sdp") + " >" + (d / "a_answer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto answer_a = read_sdp(d / "a_answer.sdp");
    sdp_key ours_a;
    if (cc.a_srtp) {
        ours_a = key_of(answer_a);
        EXPECT_EQ(ours_a.suite, cm80);
        EXPECT_NE(ours_a.key, key_a) << "A's key came back: keys must be fresh per leg";
    } else {
        EXPECT_EQ(answer_a.find("a=crypto"), std::string::npos) << answer_a;
        ours_a.port = cp::sdp::parse(answer_a)->media.at(0).port;
    }
    EXPECT_EQ(ours_a.port, 31000) << answer_a;
    r = cp.ctl("--json call show e2e");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["streams"][0]["legs"]["b"]["flow"], "198.51.100.1:31002") << r.out;

    // The peers' media: A's with its key (or plain), B's with its key, both by libsrtp.
    test::write_frames(d / "a_plain.pcap", from_a);
    test::write_frames(d / "b_plain.pcap", from_b);
    frame_list input;
    if (cc.a_srtp) {
        ASSERT_EQ(test::libsrtp_pass(d / "a_plain.pcap", d / "a_srtp.pcap", cm80, key_a, true), from_a.size());
        input = test::capture_frames(d / "a_srtp.pcap");
    } else {
        input = from_a;
    }
    ASSERT_EQ(test::libsrtp_pass(d / "b_plain.pcap", d / "b_srtp.pcap", ours_b.suite, key_b, true), from_b.size());
    for (auto& f : test::capture_frames(d / "b_srtp.pcap")) input.push_back(std::move(f));
    test::write_frames(d / "in.pcap", input);

    auto p = test::run_pmd_args(d / "in.pcap", d / "out.pcap", "--table " + table);
    ASSERT_EQ(p.code, 0) << p.out;
    const auto out = test::capture_frames(d / "out.pcap");
    ASSERT_EQ(out.size(), plain.size()) << p.out;

    // What B's peer receives (sent to 192.0.2.1:31000): A's media under the key srtpo-cp gave B.
    test::write_frames(d / "to_b.pcap", towards(out, 31000));
    ASSERT_EQ(test::libsrtp_pass(d / "to_b.pcap", d / "to_b_open.pcap", ours_b.suite, ours_b.key, false), from_a.size());
    EXPECT_EQ(first_difference(test::capture_frames(d / "to_b_open.pcap"), from_a), -1) << "B did not get A's media";
    // ... and not under any key A or B chose themselves.
    EXPECT_EQ(test::libsrtp_pass(d / "to_b.pcap", d / "x.pcap", ours_b.suite, key_b, false), 0u);

    // What A's peer receives (sent to 198.51.100.1:31002): B's media, under A's leg key or plain.
    const auto to_a = towards(out, 31002);
    if (cc.a_srtp) {
        test::write_frames(d / "to_a.pcap", to_a);
        ASSERT_EQ(test::libsrtp_pass(d / "to_a.pcap", d / "to_a_open.pcap", cm80, ours_a.key, false), from_b.size());
        EXPECT_EQ(first_difference(test::capture_frames(d / "to_a_open.pcap"), from_b), -1) << "A did not get B's media";
        EXPECT_EQ(test::libsrtp_pass(d / "to_a.pcap", d / "x.pcap", cm80, key_a, false), 0u);
    } else {
        EXPECT_EQ(first_difference(to_a, from_b), -1) << "A (plain RTP) did not get B's media in the clear";
    }
    (void)sum;

    // The call ends: its flows go.
    r = cp.ctl("call del e2e");
    ASSERT_EQ(r.code, 0) << r.out;
    r = cp.ctl("--json flow list");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["count"], 0) << r.out;
}

INSTANTIATE_TEST_SUITE_P(calls, call_e2e,
                         ::testing::Values(call_case{"cm80_to_gcm128", true, "AEAD_AES_128_GCM"},
                                           call_case{"cm80_to_gcm256", true, "AEAD_AES_256_GCM"},
                                           call_case{"rtp_to_cm80", false, "AES_CM_128_HMAC_SHA1_80"}),
                         [](const auto& i) { return std::string(i.param.name); });

} // namespace
