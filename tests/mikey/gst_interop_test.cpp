// Interop with GStreamer's GstMIKEYMessage (gst-plugins-base), through gst_mikey_peer:
//  - messages GStreamer creates (PSK_INIT, NULL encryption and MAC, SRTP policy, TEK+SALT, one
//    and several SSRCs, a non-zero ROC) are accepted by our responder; the keys it yields
//    install an engine session that decrypts SRTP which libsrtp protected with GStreamer's key;
//  - messages we create in that form are parsed by GStreamer with identical fields.
// GStreamer cannot encrypt or MAC (NULL/NULL only), and its parser hangs on DH/SIGN/...
// payloads, so it runs under `timeout` on this form only.
#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include "hex_util.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

using namespace srtpo::cp::mikey;
using mikey_test::hex;
using mikey_test::unhex;

namespace {

const std::string key_hex = "e1f97a0d3e018be0d64fa32c06de4139";
const std::string salt_hex = "0ec675ad498afeebb6960b3aabe6";


/// Runs gst_mikey_peer under a timeout; returns stdout, sets rc.
std::string peer(const std::string& args, int& rc) {
    const char* path = std::getenv("SRTPO_GST_MIKEY_PEER");
    EXPECT_NE(path, nullptr);
    // GStreamer keeps its global state until exit: under the sanitizer build, leak checks on the
    // peer would report GStreamer, not us.
    const std::string cmd = std::string("ASAN_OPTIONS=detect_leaks=0 timeout 10 ") + (path ? path : "gst_mikey_peer") +
                            " " + args + " 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    rc = p ? ::pclose(p) : -1;
    return out;
}

/// libsrtp (AES_CM_128_HMAC_SHA1_80) protects one RTP packet; our engine, keyed from MIKEY,
/// must unprotect it back to the same payload.
void expect_engine_decrypts_libsrtp(const crypto_session& cs) {
    static const srtp_err_status_t init = srtp_init(); // once per process
    ASSERT_EQ(init, srtp_err_status_ok);
    srtp_policy_t pol;
    std::memset(&pol, 0, sizeof pol);
    srtp_crypto_policy_set_rtp_default(&pol.rtp);
    srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    pol.ssrc.type = ssrc_specific;
    pol.ssrc.value = *cs.ssrc;
    bytes ks = unhex(key_hex + salt_hex);
    pol.key = ks.data();
    pol.window_size = 128;
    srtp_t ctx = nullptr;
    ASSERT_EQ(srtp_create(&ctx, &pol), srtp_err_status_ok);
    ASSERT_EQ(srtp_set_stream_roc(ctx, *cs.ssrc, cs.keying.params.initial_roc), srtp_err_status_ok);
    std::vector<uint8_t> pkt(12 + 32 + 16, 0);
    pkt[0] = 0x80;
    pkt[1] = 0x00;
    pkt[2] = 0x12;
    pkt[3] = 0x34;
    for (int i = 0; i < 4; ++i) pkt[static_cast<std::size_t>(8 + i)] = static_cast<uint8_t>(*cs.ssrc >> (24 - 8 * i));
    for (std::size_t i = 12; i < 44; ++i) pkt[i] = static_cast<uint8_t>(i);
    const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 44);
    int len = 44;
    ASSERT_EQ(srtp_protect(ctx, pkt.data(), &len), srtp_err_status_ok);
    srtp_dealloc(ctx);

    namespace e = srtpo::engine;
    e::session_config sc;
    sc.s = cs.keying.suite;
    sc.dir = e::direction::unprotect;
    const auto& t = e::traits(sc.s);
    const auto k = cs.keying.remote.key_salt.bytes();
    sc.keys.push_back(e::master_key_config{k.first(t.master_key_len), k.subspan(t.master_key_len), {}, 0, nullptr, nullptr});
    sc.initial_roc = cs.keying.params.initial_roc;
    auto s = e::make_session(sc);
    ASSERT_TRUE(s) << s.err().message;
    auto w = e::worker_ctx::create();
    ASSERT_TRUE(w);
    e::op o{s->get(), e::packet_ref{reinterpret_cast<std::byte*>(pkt.data()), static_cast<uint16_t>(len),
                                    static_cast<uint16_t>(pkt.size())}, e::status::ok};
    ASSERT_EQ(e::unprotect_rtp(**w, std::span<e::op>(&o, 1)), 1u) << "engine status " << static_cast<int>(o.st);
    ASSERT_EQ(o.pkt.len, 44);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
}

} // namespace

TEST(MikeyGstreamer, GstreamerMessagesKeyOurEngine) {
    for (const std::string ssrcs : {"cafebabe", "11111111,22222222,33333333"}) {
        int rc = 0;
        const std::string b64 = peer("create " + key_hex + " " + salt_hex + " " + ssrcs + " 7", rc);
        ASSERT_EQ(rc, 0) << "gst_mikey_peer create failed";
        auto msg = parse_key_mgmt("a=key-mgmt:mikey " + b64);
        ASSERT_TRUE(msg) << msg.err().message;
        replay_cache cache;
        responder_config rc_cfg;
        rc_cfg.replay = &cache;
        rc_cfg.allow_null_encr = rc_cfg.allow_null_mac = true;
        responder resp(rc_cfg);
        auto r = resp.handle(*msg, std::chrono::system_clock::now());
        ASSERT_TRUE(r.ok()) << r.error->message;
        EXPECT_TRUE(r.reply.empty()) << "GStreamer asks for no verification message";
        const std::size_t n = ssrcs.size() > 8 ? 3 : 1;
        ASSERT_EQ(r.sessions.size(), n);
        for (const auto& cs : r.sessions) {
            EXPECT_EQ(cs.keying.suite, srtpo::engine::suite::aes_cm_128_hmac_sha1_80);
            EXPECT_EQ(cs.keying.params.initial_roc, 7u);
            EXPECT_TRUE(cs.keying.remote.key_salt.equals(std::as_bytes(std::span<const uint8_t>(unhex(key_hex + salt_hex)))));
            expect_engine_decrypts_libsrtp(cs);
        }
        EXPECT_EQ(*r.sessions[0].ssrc, std::stoul(ssrcs.substr(0, 8), nullptr, 16));
        // The default (safe) responder refuses the same message: NULL protection.
        replay_cache fresh;
        responder strict(responder_config{{}, &fresh});
        EXPECT_EQ(strict.handle(*msg, std::chrono::system_clock::now()).error->err, error_no::invalid_ea);
    }
}

TEST(MikeyGstreamer, OurMessagesParseIdenticallyInGstreamer) {
    // Our initiator in GStreamer's form: PSK, NULL/NULL, TEK+SALT, no V, two SSRCs.
    initiator_config c;
    c.m = mode::psk;
    c.kemac_encr = encr_alg::null;
    c.kemac_mac = mac_alg::null;
    c.transport = key_data_type::tek_salt;
    c.csb_id = 0x0a0b0c0d;
    c.streams = {{0xdeadbeef, 3}, {0x01020304, 0}};
    auto in = initiator::start(c, std::chrono::system_clock::now());
    ASSERT_TRUE(in) << in.err().message;
    auto ours = decode(in->i_message());
    ASSERT_TRUE(ours);
    int rc = 0;
    const std::string out = peer("parse " + base64_encode(in->i_message()), rc);
    ASSERT_EQ(rc, 0) << out;
    std::istringstream lines(out);
    std::string line;
    std::map<std::string, std::vector<std::string>> f;
    while (std::getline(lines, line)) {
        const auto sp = line.find(' ');
        f[line.substr(0, sp)].push_back(sp == std::string::npos ? "" : line.substr(sp + 1));
    }
    EXPECT_EQ(f["version"], std::vector<std::string>{"1"});
    EXPECT_EQ(f["type"], std::vector<std::string>{"0"});
    EXPECT_EQ(f["v"], std::vector<std::string>{"0"});
    EXPECT_EQ(f["csb_id"], std::vector<std::string>{"0a0b0c0d"});
    EXPECT_EQ(f["cs"], (std::vector<std::string>{"0 deadbeef 3", "0 01020304 0"}));
    EXPECT_EQ(f["t_value"], std::vector<std::string>{hex(ours->find<t_payload>()->wire_value())});
    EXPECT_EQ(f["rand"], std::vector<std::string>{hex(ours->find<rand_payload>()->rand)});
    EXPECT_EQ(f["kemac"], std::vector<std::string>{"0 0"});
    // GStreamer models TEK+SALT as key type TEK (2) with a salt (it writes 3 on the wire).
    EXPECT_EQ(f["key_type"], std::vector<std::string>{"2"});
    auto pt = decode_kemac_plaintext(ours->find<kemac_payload>()->encr_data);
    ASSERT_TRUE(pt);
    EXPECT_EQ(f["key"], std::vector<std::string>{hex(pt->keys[0].key.view())});
    EXPECT_EQ(f["salt"], std::vector<std::string>{hex(pt->keys[0].salt.view())});
    // Every SP parameter, in order, type and value.
    const auto* sp = ours->find<sp_payload>();
    ASSERT_EQ(f["sp_param"].size(), sp->params.size());
    for (std::size_t i = 0; i < sp->params.size(); ++i) {
        std::istringstream ps(f["sp_param"][i]);
        unsigned type = 0;
        std::string val;
        ps >> type >> val;
        EXPECT_EQ(type, sp->params[i].type);
        EXPECT_EQ(val, hex(sp->params[i].value));
    }
}
