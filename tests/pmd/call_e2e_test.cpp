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
#include "call_media_util.hpp"

#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
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
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

using namespace srtpo;
using json = nlohmann::json;
using test::frame_list;
using test::tmpdir;
using namespace std::chrono_literals;
using namespace srtpo::test::call;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);

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

    media_keys k;
    if (cc.a_srtp) {
        k.a_sends = keyed{cm80, key_a};
        k.a_receives = keyed{cm80, ours_a.key};
        k.not_for_a = key_a;
    }
    k.b_sends = keyed{ours_b.suite, key_b};
    k.b_receives = keyed{ours_b.suite, ours_b.key};
    k.not_for_b = key_b;
    media_through_pmd(d, table, from_a, from_b, k);
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

// ---- MIKEY legs (RFC 4567 a=key-mgmt:mikey) ----

// A caller keyed by GStreamer's GstMIKEYMessage (PSK_INIT, NULL encryption and MAC, TEK+SALT
// for its SSRC: all GStreamer can make), a callee on SDES AEAD_AES_128_GCM. srtpo-cp accepts
// GStreamer's NULL-protected message only because the config says mikey_allow_null.
TEST(call_e2e_mikey, gstreamer_mikey_caller_to_sdes_gcm_callee) {
    if (!std::getenv("SRTPO_GST_MIKEY_PEER")) GTEST_SKIP() << "GStreamer's MIKEY peer was not built (gstreamer-sdp-1.0 missing)";
    tmpdir d("srtpo-call-mikey");
    const std::string table = "/srtpo-call-mikey-" + std::to_string(::getpid());
    shm_cleanup cleanup{table};
    cp_daemon cp;
    ASSERT_TRUE(cp.start(d, table, "mikey_allow_null = true\n")) << "srtpo-cp did not start";
    const auto media = make_media(d);
    const auto key_a = test::random_key(30, 3003);
    char ssrc[9];
    std::snprintf(ssrc, sizeof ssrc, "%08x", media.a_ssrc);
    auto g = gst_peer("create " + hex_of(key_a.data(), 16) + " " + hex_of(key_a.data() + 16, 14) + " " + ssrc + " 0");
    ASSERT_EQ(g.code, 0) << g.out;
    const auto i_msg = trim(g.out);
    write_file(d / "a_offer.sdp", sdp_text("198.51.100.1", 31002, "RTP/SAVP",
                                           "a=ssrc:" + std::to_string(media.a_ssrc) + " cname:gst\r\na=key-mgmt:mikey " + i_msg + "\r\n"));
    auto r = cp.ctl(std::string("call offer gm ") + (d / "a_offer.sdp") +
                    " --method sdes --suite AEAD_AES_128_GCM --no-rtcp-mux --media-address 'IP4 198.51.100.1' >" + (d / "b_offer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto ours_b = key_of(read_sdp(d / "b_offer.sdp"));
    ASSERT_EQ(ours_b.suite, engine::suite::aead_aes_128_gcm);
    const auto key_b = test::random_key(28, 4004);
    write_file(d / "b_answer.sdp", sdp_text("192.0.2.1", 31000, "RTP/SAVP", "a=crypto:1 AEAD_AES_128_GCM " + test::sdes_inline(key_b) + "\r\n"));
    r = cp.ctl(std::string("call answer gm ") + (d / "b_answer.sdp") + " >" + (d / "a_answer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto answer_a = read_sdp(d / "a_answer.sdp");
    EXPECT_NE(answer_a.find("m=audio 31000 RTP/SAVP"), std::string::npos) << answer_a;
    EXPECT_EQ(answer_a.find("a=crypto"), std::string::npos) << answer_a;
    r = cp.ctl("--json call show gm");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto show = json::parse(r.out);
    EXPECT_EQ(show["streams"][0]["legs"]["a"]["method"], "mikey") << r.out;
    EXPECT_EQ(show["streams"][0]["legs"]["a"]["suite"], "AES_CM_128_HMAC_SHA1_80") << r.out;

    // GStreamer's TEK+SALT keys A's stream both ways (one key for the crypto-session bundle).
    media_keys k;
    k.a_sends = k.a_receives = keyed{engine::suite::aes_cm_128_hmac_sha1_80, key_a};
    k.b_sends = keyed{ours_b.suite, key_b};
    k.b_receives = keyed{ours_b.suite, ours_b.key};
    k.not_for_b = key_b;
    media_through_pmd(d, table, media.from_a, media.from_b, k);
}

// srtpo-cp keys the callee's leg with MIKEY (PSK from a 0600 file, V asked): tshark's dissector
// reads the I_MESSAGE we put in the SDP (GStreamer's parser cannot: it handles NULL-protected
// PSK messages only and loops on ours, see tests/mikey); the callee's side of the exchange
// is the MIKEY library's responder (no third-party MIKEY responder with PSK/AES-CM exists here),
// and the media is libsrtp's both ways through srtpo-pmd.
TEST(call_e2e_mikey, sdes_caller_to_mikey_callee) {
    tmpdir d("srtpo-call-mikey");
    const std::string table = "/srtpo-call-mikey2-" + std::to_string(::getpid());
    shm_cleanup cleanup{table};
    const std::vector<uint8_t> psk(20, 0x42);
    write_file(d / "mikey.psk", hex_of(psk.data(), psk.size()) + "\n");
    ASSERT_EQ(::chmod((d / "mikey.psk").c_str(), 0644), 0);
    {
        cp_daemon refused;
        EXPECT_FALSE(refused.start(d, table, "mikey_psk_file = \"" + (d / "mikey.psk") + "\"\n")) << "a PSK file readable by others was accepted";
    }
    ASSERT_EQ(::chmod((d / "mikey.psk").c_str(), 0600), 0);
    cp_daemon cp;
    ASSERT_TRUE(cp.start(d, table, "mikey_psk_file = \"" + (d / "mikey.psk") + "\"\nmikey_identity = \"sip:sbc@example.net\"\n"))
        << "srtpo-cp did not start";
    const auto media = make_media(d);
    const auto key_a = test::random_key(30, 5005);
    write_file(d / "a_offer.sdp", sdp_text("198.51.100.1", 31002, "RTP/SAVP",
                                           "a=ssrc:" + std::to_string(media.a_ssrc) + " cname:a\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " +
                                               test::sdes_inline(key_a) + "\r\n"));
    auto r = cp.ctl(std::string("call offer km ") + (d / "a_offer.sdp") +
                    " --method mikey --suite AES_CM_128_HMAC_SHA1_80 --no-rtcp-mux --media-address 'IP4 198.51.100.1' >" + (d / "b_offer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto offer_b = read_sdp(d / "b_offer.sdp");
    const auto at = offer_b.find("a=key-mgmt:mikey ");
    ASSERT_NE(at, std::string::npos) << offer_b;
    const auto b64 = offer_b.substr(at + 17, offer_b.find("\r\n", at) - at - 17);
    auto i_msg = cp::mikey::parse_key_mgmt(b64);
    ASSERT_TRUE(i_msg) << i_msg.err().message;

    // tshark (Wireshark's MIKEY dissector) decodes it without a malformed/error note.
    if (test::run_command("command -v tshark && command -v text2pcap").code == 0) {
        std::string dump;
        for (std::size_t off = 0; off < i_msg->size(); off += 16) {
            char line[24];
            std::snprintf(line, sizeof line, "%06zx", off);
            dump += line;
            for (std::size_t j = off; j < std::min(off + 16, i_msg->size()); ++j) dump += " " + hex_of(&(*i_msg)[j], 1);
            dump += "\n";
        }
        write_file(d / "mikey.txt", dump);
        auto t = test::run_command("timeout 20 text2pcap -q -4 127.0.0.1,127.0.0.1 -u 2269,2269 " + (d / "mikey.txt") + " " + (d / "mikey.pcap") +
                                   " && timeout 30 tshark -r " + (d / "mikey.pcap") + " -V");
        ASSERT_EQ(t.code, 0) << t.out;
        EXPECT_NE(t.out.find("Multimedia Internet KEYing"), std::string::npos) << t.out;
        EXPECT_EQ(t.out.find("Malformed"), std::string::npos) << t.out;
        EXPECT_EQ(t.out.find("[Expert Info (Error"), std::string::npos) << t.out;
        EXPECT_NE(t.out.find("KEMAC"), std::string::npos) << t.out;
        char ssrc_hex[16];
        std::snprintf(ssrc_hex, sizeof ssrc_hex, "0x%08x", media.a_ssrc);
        EXPECT_NE(t.out.find(ssrc_hex), std::string::npos) << "the CS map names the SSRC the callee will receive\n" << t.out;
    } else {
        ADD_FAILURE() << "tshark/text2pcap not installed (scripts/install-deps.sh installs them)";
    }
    // The callee's MIKEY responder (same PSK) and its R_MESSAGE in the answer.
    cp::mikey::replay_cache cache;
    cp::mikey::responder_config rc;
    rc.cred.psk = cp::mikey::secret_bytes(std::span<const uint8_t>(psk));
    rc.replay = &cache;
    auto res = cp::mikey::responder(std::move(rc)).handle(*i_msg, std::chrono::system_clock::now());
    ASSERT_TRUE(res.ok()) << (res.error ? res.error->message : "");
    ASSERT_EQ(res.sessions.size(), 1u);
    std::vector<uint8_t> key_b;
    for (auto x : res.sessions[0].keying.remote.key_salt.bytes()) key_b.push_back(static_cast<uint8_t>(x));
    write_file(d / "b_answer.sdp", sdp_text("192.0.2.1", 31000, "RTP/SAVP", "a=key-mgmt:" + cp::mikey::key_mgmt_value(res.reply) + "\r\n"));
    r = cp.ctl(std::string("call answer km ") + (d / "b_answer.sdp") + " >" + (d / "a_answer.sdp"));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto ours_a = key_of(read_sdp(d / "a_answer.sdp"));
    ASSERT_EQ(ours_a.suite, engine::suite::aes_cm_128_hmac_sha1_80);

    media_keys k;
    k.a_sends = keyed{engine::suite::aes_cm_128_hmac_sha1_80, key_a};
    k.a_receives = keyed{engine::suite::aes_cm_128_hmac_sha1_80, ours_a.key};
    k.not_for_a = key_a;
    k.b_sends = k.b_receives = keyed{engine::suite::aes_cm_128_hmac_sha1_80, key_b};
    media_through_pmd(d, table, media.from_a, media.from_b, k);
}

} // namespace

// ---- A real SIP call through srtpo-cp's B2BUA (issue 6) ----
//
// sipp (a third-party SIP implementation) calls through srtpo-cp over TCP: the caller (leg A)
// offers SDES AES_CM_128_HMAC_SHA1_80, the route makes srtpo-cp offer the callee (leg B)
// AEAD_AES_128_GCM with its own fresh key, the callee answers with its key. Each sipp logs the
// a=crypto srtpo-cp sent it. While the call is up, the media of both peers (libsrtp, their own
// keys) goes through srtpo-pmd with the flows the SIP call installed, and libsrtp opens what
// each peer receives with the key srtpo-cp gave it. The caller's BYE removes the flows.
// Ports: SIP 31600 (srtpo-cp), 31610 (callee), 31620 (caller); sipp control 31640/31660, media 3165x/3167x.

TEST(call_e2e_sip, sipp_call_over_tcp_transcrypted_by_the_pmd_and_torn_down_by_bye) {
    tmpdir d("srtpo-call-e2e-sip");
    const std::string table = "/srtpo-call-e2e-sip-" + std::to_string(::getpid());
    shm_cleanup cleanup{table};
    cp_daemon cp;
    ASSERT_TRUE(cp.start(d, table,
                         "[sip]\n[[sip.listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1\"\nport = 31600\n"
                         "[[sip.route]]\ndomain = \"e2e.test\"\nnext_hop = \"sip:127.0.0.1:31610;transport=tcp\"\n"
                         "b_keying = \"sdes\"\nb_suites = [\"AEAD_AES_128_GCM\"]\nb_media_address = \"IP4 198.51.100.1\"\n"))
        << "srtpo-cp did not start: " << slurp(d / "cp.log");

    net::rtp_capture_options g;
    g.calls = 1;
    g.packets_per_direction = 120;
    g.rtcp_interval = 20;
    g.initial_seq = 65480;
    g.base_port = 31000;
    g.seed = 78;
    (void)net::write_rtp_capture(d / "plain.pcap", g);
    const auto plain = test::capture_frames(d / "plain.pcap");
    const auto from_a = towards(plain, 31000), from_b = towards(plain, 31002);

    const auto key_a = test::random_key(30, 3001), key_b = test::random_key(28, 3002);
    const std::string scen = env_or("SRTPO_SCENARIOS", "tests/pmd/scenarios");
    const std::string sipp = "timeout 30 sipp -t t1 -i 127.0.0.1 -m 1 -nostdin -timeout 25s -timeout_error -trace_logs";
    const pid_t uas = spawn_logged(sipp + " -sf " + scen + "/sip_uas.xml -p 31610 -cp 31640 -mp 31650 -log_file " + (d / "uas.log") +
                                       " -key answer_key " + test::sdes_inline(key_b).substr(7),
                                   d / "uas.out");
    // The callee listens before the caller calls (sipp TCP: poll for its socket).
    for (int i = 0; i < 250 && test::run_command("ss -Htln 'sport = :31610' | grep -q LISTEN").code != 0; ++i) std::this_thread::sleep_for(20ms);
    const pid_t uac = spawn_logged(sipp + " -sf " + scen + "/sip_uac.xml -p 31620 -cp 31660 -mp 31670 -log_file " + (d / "uac.log") +
                                       " -s bob -d 6000 -key rdomain e2e.test -key offer_key " + test::sdes_inline(key_a).substr(7) +
                                       " 127.0.0.1:31600",
                                   d / "uac.out");

    const auto offer_b = logged(d / "uas.log", "OFFER");
    const auto answer_a = logged(d / "uac.log", "ANSWER");
    ASSERT_TRUE(offer_b && answer_a) << slurp(d / "uac.out") << slurp(d / "uas.out") << slurp(d / "cp.log");
    const auto& [suite_b, our_key_b, port_b] = *offer_b;
    const auto& [suite_a, our_key_a, port_a] = *answer_a;
    EXPECT_EQ(suite_b, "AEAD_AES_128_GCM");
    EXPECT_EQ(suite_a, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(port_b, 31002);
    EXPECT_EQ(port_a, 31000);
    const auto ours_a = unbase64(our_key_a), ours_b = unbase64(our_key_b);
    EXPECT_NE(ours_a, key_a) << "the caller's key came back: keys must be fresh per leg";
    EXPECT_NE(ours_b, key_a) << "the caller's key was forwarded to the callee";

    const auto gcm = engine::suite::aead_aes_128_gcm, cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
    media_keys k;
    k.a_sends = keyed{cm80, key_a};
    k.a_receives = keyed{cm80, ours_a};
    k.not_for_a = key_a;
    k.b_sends = keyed{gcm, key_b};
    k.b_receives = keyed{gcm, ours_b};
    k.not_for_b = key_b;
    media_through_pmd(d, table, from_a, from_b, k);
    // The call is up (the caller holds it 6 s): keying-ctl stats counts it (issue 6).
    auto r = cp.ctl("--json stats");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["sip"]["calls"]["active"], 1) << r.out;
    EXPECT_EQ(json::parse(r.out)["sip"]["calls"]["set_up"], 1) << r.out;

    EXPECT_EQ(wait_exit(uac, 20000), 0) << slurp(d / "uac.out");
    EXPECT_EQ(wait_exit(uas, 5000), 0) << slurp(d / "uas.out");
    r = cp.ctl("--json flow list");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["count"], 0) << "the BYE left flows behind: " << r.out;
    r = cp.ctl("stats");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("sip calls: 0 active (peak 1), 1 set up, 1 ended, 0 failed"), std::string::npos) << r.out;
}
