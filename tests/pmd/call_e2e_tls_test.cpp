// Real SIP calls over TLS through srtpo-cp's B2BUA, their media through srtpo-pmd (issues 6, 7, 9).
//
// Debian's sipp has no TLS, so socat (OpenSSL) carries each leg's TLS (RFC 3261 §26.2.1, SIP over
// TLS on both legs): the caller's sipp -TCP-> socat TCP-LISTEN -TLS-> srtpo-cp's TLS listener
// (socat verifies srtpo-cp's certificate against the test CA); srtpo-cp's TLS client (verifying
// socat's certificate and its IP, RFC 5922 §7) -> socat OPENSSL-LISTEN -TCP-> the callee's sipp.
// The certificates are made here with the OpenSSL CLI (keys 0600, as srtpo-cp requires).
//
// While the call is up, each peer's media is protected by libsrtp 2.5 with the key that peer put
// in its own SDP (or left plain on an RTP/AVP leg), runs through srtpo-pmd (net_pcap vdev, flows
// from the session table the SIP call wrote), and libsrtp opens what each peer receives with the
// key srtpo-cp gave that peer over TLS; every frame must equal what the other peer sent. The
// caller's BYE must remove the flows.
//
// Cases:
//   sdes_cm80_to_sdes_gcm  SDES AES_CM_128_HMAC_SHA1_80 on A <-> SDES AEAD_AES_128_GCM on B
//   sdes_cm80_to_plain_rtp SDES on A <-> plain RTP/AVP on B (route b_keying = "plain")
//   mikey_gst_to_sdes_gcm  MIKEY on A (RFC 4567 a=key-mgmt:mikey; the I_MESSAGE made by
//                          GStreamer's GstMIKEYMessage, tests/mikey) <-> SDES AEAD_AES_128_GCM on B
//   call_e2e_tls_reinvite  SDES <-> SDES GCM, then a re-INVITE from A with a new key while a live
//                          srtpo-pmd carries the media: packets before and after open, ROC kept
//
// Every case prints "demo:" lines saying what it checked (scripts/demo-call.sh shows them).
// Ports (36000-36999): media 36000/36002 (srtpo-cp's range 36000-36099), SIP: srtpo-cp TLS 36600,
// caller's TLS hop 36620, callee's TLS hop 36611, callee's sipp 36610, caller's sipp 36630, sipp
// control 36640/36660, sipp media 36650/36670.
#include "call_media_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <srtpo/table/mapping.hpp>

#include <iostream>
#include <set>

using namespace srtpo;
using json = nlohmann::json;
using namespace srtpo::test::call;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);

constexpr uint16_t media_base = 36000;
constexpr uint16_t sip_cp = 36600, hop_a = 36620, hop_b = 36611, sip_uas = 36610, sip_uac = 36630;

/// A CA and a certificate for 127.0.0.1/localhost signed by it, made with the OpenSSL CLI;
/// srv.pem (cert + key) is what the socat TLS server presents.
bool make_pki(const std::string& d) {
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const auto r = test::run_command(
        "cd " + d + " && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 2 -subj /CN=srtpo-test-ca 2>&1 && " +
        "openssl req" + ec + "-keyout srv.key -out srv.csr -subj /CN=localhost 2>&1 && " +
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext && " +
        "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.crt 2>&1 && " +
        "cat srv.crt srv.key > srv.pem && chmod 600 ca.key srv.key srv.pem");
    EXPECT_EQ(r.code, 0) << r.out;
    return r.code == 0;
}

/// True once something listens on 127.0.0.1:port over TCP (bounded by ~5 s). Read from
/// /proc/net/tcp (state 0A = LISTEN): no iproute2 needed on a fresh Debian.
bool listening(uint16_t port) {
    char want[40];
    std::snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", port);
    for (int i = 0; i < 250; ++i) {
        if (slurp("/proc/net/tcp").find(want) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

/// What a scenario of tests/pmd/scenarios/sip_tls_*.xml logged about the SDP srtpo-cp sent it:
/// "<tag> <port> <proto> crypto=<suite>,<key>" (suite and key empty without an a=crypto).
struct logged_sdp {
    int port = 0;
    std::string proto, suite, key;
};
std::optional<logged_sdp> logged_media(const std::string& path, const std::string& tag) {
    return logged_line<logged_sdp>(path, tag, [](std::istringstream& in) -> std::optional<logged_sdp> {
        logged_sdp s;
        std::string crypto;
        if (!(in >> s.port >> s.proto >> crypto) || crypto.rfind("crypto=", 0) != 0) return std::nullopt;
        const auto comma = crypto.find(',');
        if (comma == std::string::npos) return std::nullopt;
        s.suite = crypto.substr(7, comma - 7);
        s.key = crypto.substr(comma + 1);
        return s;
    });
}

/// sipp -key NAME VALUE, the value single-quoted for the shell (SDP lines have spaces).
std::string sipp_key(const std::string& name, const std::string& value) { return " -key " + name + " '" + value + "'"; }

enum class a_keying { sdes, mikey_gst };

struct tls_case {
    const char* name;
    a_keying a;
    const char* b_keying; ///< the route's b_keying (sdes, plain)
    const char* b_suite;  ///< what srtpo-cp offers B (SDES), "" for plain RTP
};
void PrintTo(const tls_case& c, std::ostream* os) { *os << c.name; }

/// One SIP-over-TLS call set-up shared by the cases: the PKI, srtpo-cp with a TLS listener and a
/// route to the callee's TLS hop, the two socat hops and the two sipps (children stopped by PID).
struct tls_call {
    tmpdir d{"srtpo-call-tls"};
    std::string table;
    std::optional<shm_cleanup> cleanup;
    cp_daemon cp;
    child sock_b, sock_a, uas, uac;

    /// PKI and srtpo-cp; `b_keying`/`b_suite` are the route's leg-B policy, `extra_media` more
    /// [media] keys. Fatal failures abort the caller (check HasFatalFailure()).
    void start_cp(const std::string& name, const std::string& b_keying, const std::string& b_suite, const std::string& extra_media = "") {
        for (const char* p : {"sipp", "socat", "openssl"})
            ASSERT_EQ(test::run_command(std::string("command -v ") + p).code, 0) << p << " missing: scripts/install-deps.sh installs it";
        ASSERT_TRUE(make_pki(d.p.string()));
        table = "/srtpo-call-tls-" + std::to_string(::getpid()) + "-" + name;
        cleanup.emplace(shm_cleanup{table});
        std::string route = "[[sip.route]]\ndomain = \"tls.test\"\nnext_hop = \"sip:127.0.0.1:" + std::to_string(hop_b) +
                            ";transport=tls\"\nb_keying = \"" + b_keying + "\"\nb_media_address = \"IP4 198.51.100.1\"\n";
        if (!b_suite.empty()) route += "b_suites = [\"" + b_suite + "\"]\n";
        const std::string extra = extra_media + "[sip]\n[[sip.listen]]\ntransport = \"tls\"\naddress = \"127.0.0.1\"\nport = " +
                                  std::to_string(sip_cp) + "\n[sip.tls]\ncert = \"" + (d / "srv.crt") + "\"\nkey = \"" + (d / "srv.key") +
                                  "\"\nca = \"" + (d / "ca.crt") + "\"\nverify_server = true\nverify_hostname = true\n" + route;
        cp.media_base = media_base;
        ASSERT_TRUE(cp.start(d, table, extra)) << "srtpo-cp did not start: " << slurp(d / "cp.log");
    }

    /// The TLS hops (socat, OpenSSL) and the callee's sipp, then the caller's sipp calling
    /// bob@tls.test through its hop. `uas_args`/`uac_args` are the scenarios' -key options.
    void start_call(const std::string& uas_scen, const std::string& uas_args, const std::string& uac_scen, const std::string& uac_args) {
        sock_b.pid = spawn_logged("timeout 30 socat OPENSSL-LISTEN:" + std::to_string(hop_b) + ",bind=127.0.0.1,reuseaddr,cert=" +
                                      (d / "srv.pem") + ",verify=0 TCP:127.0.0.1:" + std::to_string(sip_uas),
                                  d / "socat-b.log");
        sock_a.pid = spawn_logged("timeout 30 socat TCP-LISTEN:" + std::to_string(hop_a) + ",bind=127.0.0.1,reuseaddr OPENSSL:127.0.0.1:" +
                                      std::to_string(sip_cp) + ",cafile=" + (d / "ca.crt") + ",commonname=localhost",
                                  d / "socat-a.log");
        const std::string scen = env_or("SRTPO_SCENARIOS", "tests/pmd/scenarios");
        const std::string sipp = "timeout 30 sipp -t t1 -i 127.0.0.1 -m 1 -nostdin -timeout 25s -timeout_error -trace_logs";
        uas.pid = spawn_logged(sipp + " -sf " + scen + "/" + uas_scen + " -p " + std::to_string(sip_uas) + " -cp 36640 -mp 36650 -log_file " +
                                   (d / "uas.log") + uas_args,
                               d / "uas.out");
        ASSERT_TRUE(listening(sip_uas)) << slurp(d / "uas.out");
        ASSERT_TRUE(listening(hop_b)) << slurp(d / "socat-b.log");
        ASSERT_TRUE(listening(hop_a)) << slurp(d / "socat-a.log");
        uac.pid = spawn_logged(sipp + " -sf " + scen + "/" + uac_scen + " -p " + std::to_string(sip_uac) + " -cp 36660 -mp 36670 -log_file " +
                                   (d / "uac.log") + " -s bob -key rdomain tls.test" + uac_args + " 127.0.0.1:" + std::to_string(hop_a),
                               d / "uac.out");
    }

    /// Everything the peers and srtpo-cp logged, for a failure message.
    std::string logs() {
        return slurp(d / "uac.out") + slurp(d / "uas.out") + slurp(d / "cp.log") + slurp(d / "socat-a.log") + slurp(d / "socat-b.log");
    }

    /// Both sipps end with status 0 (the caller's BYE answered), then no flow is left.
    void expect_bye_removes_flows() {
        EXPECT_EQ(wait_exit(uac.pid, 20000), 0) << logs();
        uac.pid = -1;
        EXPECT_EQ(wait_exit(uas.pid, 5000), 0) << slurp(d / "uas.out");
        uas.pid = -1;
        const auto r = cp.ctl("--json flow list");
        ASSERT_EQ(r.code, 0) << r.out;
        EXPECT_EQ(json::parse(r.out)["count"], 0) << "the BYE left flows behind: " << r.out;
        std::cout << "demo: flows after BYE: " << json::parse(r.out)["count"] << "\n" << std::flush;
    }
};

class call_e2e_tls : public ::testing::TestWithParam<tls_case> {};

TEST_P(call_e2e_tls, sipp_call_over_tls_on_both_legs_media_through_the_pmd) {
    const auto& tc = GetParam();
    if (tc.a == a_keying::mikey_gst && !std::getenv("SRTPO_GST_MIKEY_PEER"))
        GTEST_SKIP() << "GStreamer's MIKEY peer was not built (gstreamer-sdp-1.0 missing)";
    const bool b_srtp = *tc.b_suite != '\0';
    tls_call c;
    c.start_cp(tc.name, tc.b_keying, tc.b_suite, tc.a == a_keying::mikey_gst ? "mikey_allow_null = true\n" : "");
    if (HasFatalFailure()) return;
    const auto& d = c.d;

    const auto media = make_media(d, media_base);
    const auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
    const auto key_a = test::random_key(30, 6001);
    std::string offer_attrs;
    if (tc.a == a_keying::sdes) {
        offer_attrs = sipp_key("offer_attr1", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(key_a)) +
                      sipp_key("offer_attr2", "a=sendrecv");
    } else {
        // GStreamer's GstMIKEYMessage: PSK_INIT with NULL encryption/MAC, TEK+SALT for A's SSRC.
        char ssrc[9];
        std::snprintf(ssrc, sizeof ssrc, "%08x", media.a_ssrc);
        auto g = gst_peer("create " + hex_of(key_a.data(), 16) + " " + hex_of(key_a.data() + 16, 14) + " " + ssrc + " 0");
        ASSERT_EQ(g.code, 0) << g.out;
        offer_attrs = sipp_key("offer_attr1", "a=ssrc:" + std::to_string(media.a_ssrc) + " cname:gst") +
                      sipp_key("offer_attr2", "a=key-mgmt:mikey " + trim(g.out));
    }
    const auto key_b = test::random_key(b_srtp ? engine::traits(*engine::suite_from_name(tc.b_suite)).key_salt_len() : 0, 6002);
    const std::string answer_attr = b_srtp ? std::string("a=crypto:1 ") + tc.b_suite + " " + test::sdes_inline(key_b) : "a=sendrecv";
    c.start_call("sip_tls_uas.xml",
                 sipp_key("answer_port", std::to_string(media_base)) + sipp_key("answer_proto", b_srtp ? "RTP/SAVP" : "RTP/AVP") +
                     sipp_key("answer_attr", answer_attr),
                 "sip_tls_uac.xml",
                 " -d 4000" + sipp_key("offer_port", std::to_string(media_base + 2)) + sipp_key("offer_proto", "RTP/SAVP") + offer_attrs);
    if (HasFatalFailure()) return;

    // What srtpo-cp sent each leg over TLS.
    const auto offer_b = logged_media(d / "uas.log", "OFFER");
    const auto answer_a = logged_media(d / "uac.log", "ANSWER");
    ASSERT_TRUE(offer_b && answer_a) << c.logs();
    EXPECT_EQ(offer_b->port, media_base + 2);
    EXPECT_EQ(answer_a->port, media_base);
    EXPECT_EQ(offer_b->proto, b_srtp ? "RTP/SAVP" : "RTP/AVP");
    EXPECT_EQ(offer_b->suite, tc.b_suite);
    EXPECT_EQ(answer_a->proto, "RTP/SAVP");
    std::vector<uint8_t> ours_a, ours_b;
    if (tc.a == a_keying::sdes) {
        // The 200 OK to A carries a fresh a=crypto (RFC 4568 §6.1: our own key for what we send A).
        EXPECT_EQ(answer_a->suite, "AES_CM_128_HMAC_SHA1_80");
        ours_a = unbase64(answer_a->key);
        EXPECT_EQ(ours_a.size(), 30u);
        EXPECT_NE(ours_a, key_a) << "the caller's key came back: keys must be fresh per leg";
    } else {
        EXPECT_EQ(answer_a->suite, "") << "a MIKEY leg's answer carries no a=crypto";
    }
    if (b_srtp) {
        ours_b = unbase64(offer_b->key);
        EXPECT_NE(ours_b, key_a) << "the caller's key was forwarded to the callee";
    }

    // Both legs' flows are in the session table while the call is up (written when B's 200 was
    // answered, before the 200 reached A).
    auto r = c.cp.ctl("--json flow list");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto flows = json::parse(r.out);
    EXPECT_EQ(flows["count"], 2) << r.out;
    std::set<std::string> matches; // one flow per leg: A's media arrives at our leg-A port, B's at leg B's
    for (const auto& f : flows["flows"]) matches.insert(f.value("match", ""));
    EXPECT_EQ(matches, (std::set<std::string>{"192.0.2.1:" + std::to_string(media_base), "198.51.100.1:" + std::to_string(media_base + 2)}))
        << r.out;
    std::cout << "demo: " << tc.name << ": SIP over TLS on both legs (socat/OpenSSL hops, srtpo-cp's TLS listener and client)\n"
              << "demo: leg A " << (tc.a == a_keying::sdes ? "SDES " + answer_a->suite : std::string("MIKEY (GStreamer I_MESSAGE), AES_CM_128_HMAC_SHA1_80"))
              << ", leg B " << (b_srtp ? std::string("SDES ") + tc.b_suite : std::string("plain RTP/AVP")) << "\n"
              << "demo: flows installed: " << flows["count"] << "\n";
    for (const auto& f : flows["flows"]) std::cout << "demo:   " << f.dump() << "\n";

    media_keys k;
    if (tc.a == a_keying::sdes) {
        k.a_sends = keyed{cm80, key_a};
        k.a_receives = keyed{cm80, ours_a};
        k.not_for_a = key_a;
    } else {
        k.a_sends = k.a_receives = keyed{cm80, key_a}; // one TEK+SALT for the CS bundle (RFC 3830 §4.1.3)
    }
    if (b_srtp) {
        const auto sb = *engine::suite_from_name(tc.b_suite);
        k.b_sends = keyed{sb, key_b};
        k.b_receives = keyed{sb, ours_b};
        k.not_for_b = key_b;
    }
    media_counts n;
    media_through_pmd(d, c.table, media.from_a, media.from_b, k, media_base, &n);
    std::cout << "demo: packets through srtpo-pmd: to A " << n.to_a << "/" << media.from_b.size()
              << (k.a_receives ? " decrypted by libsrtp" : " in the clear") << ", to B " << n.to_b << "/" << media.from_a.size()
              << (k.b_receives ? " decrypted by libsrtp" : " in the clear") << ", each equal to what the other side sent\n";

    // The caller's BYE (over TLS) ends the call on both legs; its flows go.
    c.expect_bye_removes_flows();
}

INSTANTIATE_TEST_SUITE_P(tls, call_e2e_tls,
                         ::testing::Values(tls_case{"sdes_cm80_to_sdes_gcm", a_keying::sdes, "sdes", "AEAD_AES_128_GCM"},
                                           tls_case{"sdes_cm80_to_plain_rtp", a_keying::sdes, "plain", ""},
                                           tls_case{"mikey_gst_to_sdes_gcm", a_keying::mikey_gst, "sdes", "AEAD_AES_128_GCM"}),
                         [](const auto& i) { return std::string(i.param.name); });


/// Status-region packet count of every slot (what the live pmd has processed).
uint64_t pmd_packets(const std::string& table) {
    auto st = table::status_mapping::attach(table + ".status");
    if (!st) return 0;
    uint64_t n = 0;
    for (uint32_t i = 0; i < st->capacity(); ++i) n += st->load(i).packets;
    return n;
}

template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

frame_list slice(const frame_list& f, std::size_t from, std::size_t to) { return {f.begin() + static_cast<long>(from), f.begin() + static_cast<long>(to)}; }

/// libsrtp protects the whole of `plain` (one sender context: ROC and SRTCP index run on).
frame_list protect_all(const tmpdir& d, const std::string& name, const frame_list& plain, engine::suite s, const std::vector<uint8_t>& key) {
    test::write_frames(d / (name + ".plain.pcap").c_str(), plain);
    EXPECT_EQ(test::libsrtp_pass(d / (name + ".plain.pcap").c_str(), d / (name + ".srtp.pcap").c_str(), s, key, true), plain.size()) << name;
    return test::capture_frames(d / (name + ".srtp.pcap").c_str());
}

bool is_rtcp(const std::vector<std::byte>& f) { return dst_port_of(f) % 2 == 1; } // RTCP on P + 1 (RFC 3550 §11)

/// Checks that libsrtp, receiving with `key`, opens `got` (what the pmd sent a peer) into
/// `expect`. The receiver first gets the RTP packets of `primer_plain` (the stream's earlier
/// packets, protected by libsrtp itself with the same key), so it has the ROC the stream has
/// reached: `got` opens only if the pmd kept it across the rekey (RFC 3711 §3.3.1). (SRTCP
/// carries its index explicitly: srtcp_indices_increase checks that one.)
void expect_opens(const tmpdir& d, const std::string& name, const frame_list& primer_all, const frame_list& got, const frame_list& expect,
                  engine::suite s, const std::vector<uint8_t>& key) {
    frame_list primer_plain;
    for (const auto& f : primer_all)
        if (!is_rtcp(f)) primer_plain.push_back(f);
    frame_list in = primer_plain.empty() ? frame_list{} : protect_all(d, name + ".primer", primer_plain, s, key);
    in.insert(in.end(), got.begin(), got.end());
    test::write_frames(d / (name + ".in.pcap").c_str(), in);
    EXPECT_EQ(test::libsrtp_pass(d / (name + ".in.pcap").c_str(), d / (name + ".open.pcap").c_str(), s, key, false), in.size()) << name;
    const auto open = test::capture_frames(d / (name + ".open.pcap").c_str());
    if (open.size() != in.size()) {
        // Name the refused frames (libsrtp leaves them out): walk both in order.
        const auto tail = seen_of(slice(open, std::min(primer_plain.size(), open.size()), open.size())), want = seen_of(expect);
        std::string refused;
        for (std::size_t i = 0, j = 0; i < want.size(); ++i) {
            if (j < tail.size() && tail[j] == want[i]) ++j;
            else refused += " " + std::to_string(i) + (want[i].dport % 2 ? "(RTCP)" : "(RTP)");
        }
        ADD_FAILURE() << name << ": libsrtp refused frames" << refused;
        return;
    }
    EXPECT_EQ(first_difference(slice(open, primer_plain.size(), open.size()), expect), -1) << name;
}

/// The SRTCP indices (RFC 3711 §3.4: E || 31-bit index, before the auth tag; RFC 7714 §9.1: last
/// for AEAD) of the RTCP frames of `fs`, which must strictly increase: the pmd keeps a leg's SRTCP
/// index across a rekey (reusing one under the same key would reuse keystream).
void expect_srtcp_indices_increase(const frame_list& fs, engine::suite s, const std::string& name) {
    const std::size_t tag = s == engine::suite::aes_cm_128_hmac_sha1_80 ? 10 : 0;
    std::vector<uint32_t> idx;
    for (const auto& f : fs) {
        if (!is_rtcp(f)) continue;
        const auto u = net::parse_udp_frame(f, net::link_type::ethernet);
        ASSERT_GE(u.payload_len, 8 + 4 + tag) << name;
        const auto* p = f.data() + u.payload_offset + u.payload_len - tag - 4;
        idx.push_back((std::to_integer<uint32_t>(p[0]) << 24 | std::to_integer<uint32_t>(p[1]) << 16 | std::to_integer<uint32_t>(p[2]) << 8 |
                       std::to_integer<uint32_t>(p[3])) & 0x7fffffffu);
    }
    ASSERT_GE(idx.size(), 2u) << name;
    for (std::size_t i = 1; i < idx.size(); ++i) EXPECT_GT(idx[i], idx[i - 1]) << name << ": SRTCP index went back at RTCP packet " << i;
}

// A re-INVITE from A with a new SDES key (RFC 4568 §7.1.4) over TLS, while srtpo-pmd is running:
// A's sender switches to its new key half-way through the stream and keeps its ROC (the stream has
// wrapped: ROC 1) and SRTCP index; srtpo-cp rekeys the flows in place. Every packet before and after
// the re-INVITE must reach the other peer and open with that peer's key of the moment.
TEST(call_e2e_tls_reinvite, new_sdes_key_from_the_caller_rekeys_without_losing_media) {
    tls_call c;
    c.start_cp("reinvite", "sdes", "AEAD_AES_128_GCM");
    if (HasFatalFailure()) return;
    const auto& d = c.d;
    const auto media = make_media(d, media_base); // 126 frames each way, SEQ wraps after 56 packets
    const auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80, gcm = engine::suite::aead_aes_128_gcm;
    const auto key_a1 = test::random_key(30, 7001), key_a2 = test::random_key(30, 7002), key_b = test::random_key(28, 7003);
    const std::size_t half_a = media.from_a.size() / 2, half_b = media.from_b.size() / 2;
    // What A sends: its first half under key 1, the rest under key 2 with the same ROC.
    const auto a1 = protect_all(d, "a1", media.from_a, cm80, key_a1), a2 = protect_all(d, "a2", media.from_a, cm80, key_a2);
    const auto b_srtp = protect_all(d, "b", media.from_b, gcm, key_b);
    ASSERT_TRUE(a1.size() == media.from_a.size() && a2.size() == media.from_a.size() && b_srtp.size() == media.from_b.size());

    // srtpo-pmd runs through the whole call (its ROC state must survive the rekey).
    test::live_pmd pmd;
    ASSERT_TRUE(pmd.start(d.p.string(), d / "out.pcap", "--table " + c.table));
    ASSERT_TRUE(wait_for([&] { return table::status_mapping::attach(c.table + ".status").has_value(); }));

    c.start_call("sip_tls_uas_reinvite.xml",
                 sipp_key("answer_port", std::to_string(media_base)) + sipp_key("answer_proto", "RTP/SAVP") +
                     sipp_key("answer_attr", "a=crypto:1 AEAD_AES_128_GCM " + test::sdes_inline(key_b)),
                 "sip_tls_uac_reinvite.xml",
                 sipp_key("offer_port", std::to_string(media_base + 2)) + sipp_key("offer_proto", "RTP/SAVP") +
                     sipp_key("offer_attr1", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(key_a1)) +
                     sipp_key("reoffer_attr1", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + test::sdes_inline(key_a2)) +
                     sipp_key("offer_attr2", "a=sendrecv"));
    if (HasFatalFailure()) return;
    const auto offer_b = logged_media(d / "uas.log", "OFFER");
    const auto answer_a = logged_media(d / "uac.log", "ANSWER");
    ASSERT_TRUE(offer_b && answer_a) << c.logs();
    const auto ours_a1 = unbase64(answer_a->key), ours_b1 = unbase64(offer_b->key);
    ASSERT_TRUE(wait_for([&] {
        const auto r = c.cp.ctl("--json flow list");
        return r.code == 0 && json::parse(r.out)["count"] == 2;
    })) << c.cp.ctl("--json flow list").out;

    // Before the re-INVITE.
    std::size_t fed = 0;
    for (std::size_t i = 0; i < half_a; ++i, ++fed) pmd.feed(a1[i]);
    for (std::size_t i = 0; i < half_b; ++i, ++fed) pmd.feed(b_srtp[i]);
    ASSERT_TRUE(wait_for([&] { return pmd_packets(c.table) == fed; })) << pmd_packets(c.table) << " of " << fed;

    // The re-INVITE (2.5 s after the ACK) with A's new key; srtpo-cp re-offers B and answers A.
    const auto offer_b2 = logged_media(d / "uas.log", "OFFER2");
    const auto answer_a2 = logged_media(d / "uac.log", "ANSWER2");
    ASSERT_TRUE(offer_b2 && answer_a2) << c.logs();
    EXPECT_EQ(answer_a2->suite, "AES_CM_128_HMAC_SHA1_80");
    const auto ours_a2 = unbase64(answer_a2->key), ours_b2 = offer_b2->key.empty() ? ours_b1 : unbase64(offer_b2->key);
    EXPECT_NE(ours_a2, key_a2) << "the caller's new key came back";
    std::this_thread::sleep_for(300ms); // the flows' new keys reach the pmd through the doorbell

    // After it: A sends under its new key, ROC continuing.
    for (std::size_t i = half_a; i < a2.size(); ++i, ++fed) pmd.feed(a2[i]);
    for (std::size_t i = half_b; i < b_srtp.size(); ++i, ++fed) pmd.feed(b_srtp[i]);
    // (The status counters restart with a rekeyed slot's new generation: count the output instead.
    // The pmd drains the FIFO and stops well before the caller's BYE, 2.5 s after the re-INVITE.)
    const auto res = pmd.finish();
    ASSERT_EQ(res.code, 0) << res.out;
    const auto out = test::capture_frames(d / "out.pcap");
    ASSERT_EQ(out.size(), fed) << "packets lost across the re-INVITE\n" << res.out;

    // B receives A's media (port media_base) under srtpo-cp's key(s) for B; A receives B's.
    const auto to_b = towards(out, media_base), to_a = towards(out, static_cast<uint16_t>(media_base + 2));
    ASSERT_EQ(to_b.size(), media.from_a.size());
    ASSERT_EQ(to_a.size(), media.from_b.size());
    expect_opens(d, "to_b_before", {}, slice(to_b, 0, half_a), slice(media.from_a, 0, half_a), gcm, ours_b1);
    expect_opens(d, "to_b_after", slice(media.from_a, 0, half_a), slice(to_b, half_a, to_b.size()), slice(media.from_a, half_a, media.from_a.size()),
                 gcm, ours_b2);
    expect_opens(d, "to_a_before", {}, slice(to_a, 0, half_b), slice(media.from_b, 0, half_b), cm80, ours_a1);
    expect_opens(d, "to_a_after", slice(media.from_b, 0, half_b), slice(to_a, half_b, to_a.size()), slice(media.from_b, half_b, media.from_b.size()),
                 cm80, ours_a2);
    expect_srtcp_indices_increase(to_b, gcm, "to B");
    expect_srtcp_indices_increase(to_a, cm80, "to A");
    std::cout << "demo: re-INVITE over TLS: A's key changed " << (ours_a1 != ours_a2 ? "and srtpo-cp's key to A changed" : "(srtpo-cp kept its key to A)")
              << ", B's key " << (ours_b1 != ours_b2 ? "changed" : "kept") << "; " << half_a << "+" << (to_b.size() - half_a)
              << " frames to B and " << half_b << "+" << (to_a.size() - half_b) << " to A opened by libsrtp before+after\n";
    c.expect_bye_removes_flows();
}

} // namespace
