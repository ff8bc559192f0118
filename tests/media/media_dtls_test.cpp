// dtls_srtp_keying on a real srtpo-cp event_loop against real DTLS peers on loopback: the
// OpenSSL CLI (s_client / s_server) in both roles for every profile, GnuTLS, pion (Go), with the
// keys on_keyed delivers compared to what the peer itself exports (-keymatexport
// EXTRACTOR-dtls_srtp, RFC 5764 §4.2); a=setup/actpass roles (RFC 5763 §5); fingerprint
// mismatch; a new a=tls-id rekeys (RFC 8842); ICE-lite checks from an independent Python STUN
// client, with correct and wrong MESSAGE-INTEGRITY. Ports 32000..32199.

#include "media_fixture.hpp"

#include "harness.hpp" // tests/dtls: temp_dir, peer_process, peer certs, keying-material parsers

#include <srtpo/cp/dtls/srtp_profile.hpp>
#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/media/dtls_srtp_keying.hpp>
#include <srtpo/cp/media/make_media_path_keying.hpp>
#include <srtpo/cp/media/media_port.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <regex>

namespace srtpo::test::media {
namespace {

using namespace std::chrono;
using engine::suite;
using srtpo::test::dtls::peer_process;
using srtpo::test::dtls::temp_dir;
namespace td = srtpo::test::dtls;

constexpr const char* tls_id_1 = "abcdefghijklmnopqrstuvwxyz012345";
constexpr const char* tls_id_2 = "ZYXWVUTSRQPONMLKJIHGFEDCBA987654";

struct profile_case {
    suite s;
    const char* openssl_name;
};
const profile_case profiles[] = {
    {suite::aes_cm_128_hmac_sha1_80, "SRTP_AES128_CM_SHA1_80"},
    {suite::aes_cm_128_hmac_sha1_32, "SRTP_AES128_CM_SHA1_32"},
    {suite::aead_aes_128_gcm, "SRTP_AEAD_AES_128_GCM"},
    {suite::aead_aes_256_gcm, "SRTP_AEAD_AES_256_GCM"},
};

class DtlsKeying : public ::testing::Test {
protected:
    void SetUp() override {
        if (!td::have_program("openssl")) GTEST_SKIP() << "openssl CLI absent";
        rt = make_runtime(cfg);
    }
    std::unique_ptr<cm::dtls_srtp_keying> keyer(uint16_t port) {
        auto k = cm::dtls_srtp_keying::create(loop, *rt, loopback(port), rec.events());
        if (!k) throw std::runtime_error(k.err().message);
        return std::move(*k);
    }
    bool wait_outcome(std::size_t n = 1) {
        return run_until(loop, [&] { return rec.keys.size() >= n || !rec.failures.empty(); }, 8s);
    }
    /// Keeps the loop (and so our DTLS endpoint) running until the peer exits.
    void serve_until_exit(peer_process& p, milliseconds limit = 5s) {
        run_until(loop, [&] { return p.wait_exit(0ms).has_value(); }, limit);
    }
    std::vector<std::string> s_client(uint16_t port, const td::peer_cert& pc, const std::string& prof, std::size_t len) {
        return {"openssl", "s_client", "-dtls", "-connect", "127.0.0.1:" + std::to_string(port), "-cert",
                pc.cert.string(), "-key", pc.key.string(), "-CAfile", cfg.dtls.certificate, "-verify_return_error",
                "-use_srtp", prof, "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", std::to_string(len)};
    }
    /// gnutls-cli as DTLS client trusting our certificate, printing 60 octets of exported keys.
    std::vector<std::string> gnutls_cli(uint16_t port, const td::peer_cert& pc, const std::string& prof) {
        return {"gnutls-cli", "--udp", "-p", std::to_string(port), "127.0.0.1", "--x509cafile", cfg.dtls.certificate,
                "--verify-hostname", "srtpo-cp", "--x509certfile", pc.cert.string(), "--x509keyfile",
                pc.key.string(), "--srtp-profiles", prof, "--keymatexport", "EXTRACTOR-dtls_srtp",
                "--keymatexportsize", "60"};
    }

    temp_dir dir;
    cp::event_loop loop = make_loop();
    cm::media_config cfg = config_in(dir.path());
    std::unique_ptr<cm::media_runtime> rt;
    recorder rec;
};

class DtlsProfile : public DtlsKeying, public ::testing::WithParamInterface<std::size_t> {};

// We offered (actpass), the peer answered active: we are the DTLS server (RFC 5763 §5).
TEST_P(DtlsProfile, OfferActpassPeerActiveOpenSslClient) {
    const auto& c = profiles[GetParam()];
    const auto port = static_cast<uint16_t>(32000 + GetParam());
    auto k = keyer(port);
    EXPECT_EQ(local_attr(*k, "setup"), "actpass");
    EXPECT_EQ(local_attr(*k, "fingerprint"), rt->dtls_context()->cert().sdp_fingerprint());
    const auto pc = td::make_peer_cert(dir, "peer");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active",
                                           std::string("tls-id:") + tls_id_1}),
                              0, false));
    peer_process p(s_client(port, pc, c.openssl_name, cp::dtls::keying_material_len(c.s)), dir / "c.log", 10);
    ASSERT_TRUE(wait_outcome()) << "no outcome; peer:\n" << p.output();
    serve_until_exit(p);
    const auto out = p.output();
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << "\n" << out;
    EXPECT_EQ(rec.keys[0].keying.suite, c.s);
    const auto km = td::parse_keying_material(out);
    ASSERT_TRUE(km) << out;
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, false), "");
    EXPECT_EQ(cm::ip_string(rec.keys[0].peer), "127.0.0.1");
    EXPECT_NE(rec.keys[0].peer.port, 0);
    const auto st = k->status();
    EXPECT_EQ(st["role"], "server");
    EXPECT_EQ(st["profile"], c.openssl_name);
    EXPECT_EQ(st["associations"], 1);
    EXPECT_GE(st["port"]["dtls"].get<int>(), 2);
}

// The peer offered actpass, we answer active: we are the DTLS client and send to its c=/m=.
TEST_P(DtlsProfile, AnswerActiveToOpenSslServer) {
    const auto& c = profiles[GetParam()];
    const auto port = static_cast<uint16_t>(32010 + GetParam()), peer_port = static_cast<uint16_t>(32020 + GetParam());
    auto k = keyer(port);
    const auto pc = td::make_peer_cert(dir, "peer");
    peer_process p({"openssl", "s_server", "-dtls", "-accept", "127.0.0.1:" + std::to_string(peer_port), "-naccept",
                    "1", "-Verify", "1", "-cert", pc.cert.string(), "-key", pc.key.string(), "-CAfile",
                    cfg.dtls.certificate, "-verify_return_error", "-use_srtp", c.openssl_name, "-keymatexport",
                    "EXTRACTOR-dtls_srtp", "-keymatexportlen", std::to_string(cp::dtls::keying_material_len(c.s))},
                   dir / "s.log", 10, /*keep_stdin=*/true);
    ASSERT_TRUE(p.wait_for_output("ACCEPT", 5s)) << p.output();
    ASSERT_TRUE(k->set_remote(peer_sdp(peer_port, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass"}), 0, true));
    EXPECT_EQ(local_attr(*k, "setup"), "active");
    ASSERT_TRUE(wait_outcome()) << p.output();
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << "\n" << p.output();
    ASSERT_TRUE(p.wait_for_output("Keying material", 3s)) << p.output();
    const auto km = td::parse_keying_material(p.output());
    ASSERT_TRUE(km);
    EXPECT_EQ(rec.keys[0].keying.suite, c.s);
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, true), "");
    EXPECT_EQ(rec.keys[0].peer, loopback(peer_port));
    EXPECT_EQ(k->status()["role"], "client");
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, DtlsProfile, ::testing::Range<std::size_t>(0, std::size(profiles)),
                         [](const auto& pi) { return std::string(profiles[pi.param].openssl_name + 5); });

TEST_F(DtlsKeying, FingerprintMismatchFailsAndDeliversNoKeys) {
    auto k = keyer(32030);
    const auto pc = td::make_peer_cert(dir, "peer");
    const auto other = td::make_peer_cert(dir, "other");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + other.sdp_fingerprint, "setup:active"}), 0, false));
    peer_process p(s_client(32030, pc, "SRTP_AES128_CM_SHA1_80", 60), dir / "c.log", 10);
    ASSERT_TRUE(wait_outcome()) << p.output();
    EXPECT_TRUE(rec.keys.empty());
    ASSERT_EQ(rec.failures.size(), 1u);
    EXPECT_NE(rec.failures[0].find("fingerprint"), std::string::npos) << rec.failures[0];
    EXPECT_EQ(k->status()["state"], "failed");
    // s_client has sent its Finished when our bad_certificate alert arrives (it still prints an
    // export from its half-finished state), so the alert is what shows on its side.
    EXPECT_TRUE(p.wait_for_output("alert bad certificate", 3s)) << p.output();
}

// All of the peer's a=fingerprint lines count (RFC 8122 §5): one of several may match.
TEST_F(DtlsKeying, OneOfSeveralFingerprintsMatches) {
    auto k = keyer(32031);
    const auto pc = td::make_peer_cert(dir, "peer");
    const auto other = td::make_peer_cert(dir, "other");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + other.sdp_fingerprint, "fingerprint:" + pc.sdp_fingerprint,
                                           "setup:active"}),
                              0, false));
    peer_process p(s_client(32031, pc, "SRTP_AES128_CM_SHA1_80", 60), dir / "c.log", 10);
    wait_outcome();
    serve_until_exit(p);
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]);
}

TEST_F(DtlsKeying, SdpErrorsAreRefusedWithAReason) {
    auto k = keyer(32032);
    auto r = k->set_remote(peer_sdp(9, {"setup:active"}), 0, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("no a=fingerprint"), std::string::npos);
    const auto pc = td::make_peer_cert(dir, "peer");
    r = k->set_remote(peer_sdp(9, {"fingerprint:md5 00:11", "setup:active"}), 0, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("a=fingerprint"), std::string::npos);
    r = k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass"}), 0, false);
    ASSERT_FALSE(r) << "an answer of actpass is not allowed (RFC 4145 §4.1)";
    r = k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:holdconn"}), 0, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, cp::api::api_errc::unsupported);
    r = k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active", "tls-id:short"}), 0, false);
    ASSERT_FALSE(r);
    r = k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "ice-ufrag:abcd"}), 0, true);
    ASSERT_FALSE(r);
    r = k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint}), 3, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(k->status()["state"], "waiting_for_remote");
}

// RFC 8842 §5: the same tls-id keeps the association, a new one rekeys.
TEST_F(DtlsKeying, NewTlsIdRekeysSameTlsIdKeeps) {
    auto k = keyer(32040);
    const auto pc = td::make_peer_cert(dir, "peer");
    const auto answer = [&](const char* id) {
        return peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active", std::string("tls-id:") + id});
    };
    ASSERT_TRUE(k->set_remote(answer(tls_id_1), 0, false));
    const auto our_id = local_attr(*k, "tls-id");
    std::string out1, out2;
    {
        peer_process p(s_client(32040, pc, "SRTP_AEAD_AES_128_GCM", 56), dir / "c1.log", 10);
        ASSERT_TRUE(wait_outcome(1)) << p.output();
        serve_until_exit(p);
        out1 = p.output();
    }
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]);
    ASSERT_TRUE(k->set_remote(answer(tls_id_1), 0, false));
    EXPECT_EQ(k->status()["associations"], 1);
    EXPECT_NE(k->status()["state"], "handshaking");
    EXPECT_EQ(local_attr(*k, "tls-id"), our_id);

    ASSERT_TRUE(k->set_remote(answer(tls_id_2), 0, false));
    EXPECT_EQ(k->status()["state"], "handshaking");
    EXPECT_NE(local_attr(*k, "tls-id"), our_id) << "a new association has a new tls-id on our side too";
    {
        peer_process p(s_client(32040, pc, "SRTP_AEAD_AES_128_GCM", 56), dir / "c2.log", 10);
        ASSERT_TRUE(wait_outcome(2)) << p.output();
        serve_until_exit(p);
        out2 = p.output();
    }
    ASSERT_EQ(rec.keys.size(), 2u) << (rec.failures.empty() ? "" : rec.failures[0]);
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *td::parse_keying_material(out1), false), "");
    EXPECT_EQ(td::compare_keying(rec.keys[1].keying, *td::parse_keying_material(out2), false), "");
    EXPECT_FALSE(rec.keys[1].keying.remote.key_salt.equals(rec.keys[0].keying.remote.key_salt.bytes()));
    EXPECT_EQ(k->status()["associations"], 2);
}

// [dtls] max_handshakes_per_source: a source with a handshake in progress on one port cannot
// start another on a second port until the first ends. The ClientHello comes from a DTLS client
// endpoint of control-plane/dtls driven by the test over a plain socket: it stands for any
// client here, since only the count per source address is under test.
TEST_F(DtlsKeying, HandshakesPerSourceAreLimited) {
    cfg.dtls.max_handshakes_per_source = 1;
    rt = make_runtime(cfg);
    const auto pc = td::make_peer_cert(dir, "peer");
    auto a = keyer(32033), b = keyer(32034);
    for (auto* k : {a.get(), b.get()})
        ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active"}), 0, false));
    cp::dtls::endpoint_config cc;
    cc.role = cp::dtls::dtls_role::client;
    cc.remote_fingerprints = td::fingerprints(rt->dtls_context()->cert().sdp_fingerprint());
    auto client = cp::dtls::endpoint::create(rt->dtls_context(), cc).value();
    ASSERT_TRUE(client->start(steady_clock::now()));
    const auto hello = client->poll_datagram().value();
    td::udp_pump sock(0, 32033);
    sock.send(hello);
    ASSERT_TRUE(run_until(loop, [&] { return a->status()["dtls_drops"]["handshake_limit"] == 0 && a->status().contains("peer"); }, 2s));
    td::udp_pump sock2(0, 32034);
    sock2.send(hello);
    ASSERT_TRUE(run_until(loop, [&] { return b->status()["dtls_drops"]["handshake_limit"] == 1; }, 2s))
        << b->status().dump();
    EXPECT_FALSE(b->status().contains("peer"));
    a.reset(); // the first handshake ends (here: its leg goes away) and frees the slot
    sock2.send(hello);
    EXPECT_TRUE(run_until(loop, [&] { return b->status().contains("peer"); }, 2s)) << b->status().dump();
}

// [dtls] timers on the event loop: ClientHello retransmitted with back-off towards a silent
// peer, then on_failed at handshake_timeout_ms, and nothing more is sent.
TEST_F(DtlsKeying, RetransmitsThenFailsAtTheConfiguredHandshakeTimeout) {
    cfg.dtls.timers.initial_retransmit = 100ms;
    cfg.dtls.timers.handshake_timeout = 700ms;
    rt = make_runtime(cfg);
    const auto pc = td::make_peer_cert(dir, "peer");
    auto k = keyer(32035);
    const auto t0 = steady_clock::now();
    ASSERT_TRUE(k->set_remote(peer_sdp(32036, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass"}), 0, true));
    ASSERT_TRUE(run_until(loop, [&] { return !rec.failures.empty(); }, 3s));
    const auto took = steady_clock::now() - t0;
    EXPECT_GE(took, 650ms);
    EXPECT_LT(took, 1500ms);
    EXPECT_NE(rec.failures[0].find("handshake_timeout"), std::string::npos) << rec.failures[0];
    EXPECT_TRUE(rec.keys.empty());
    const auto sent = k->port().counters().sent;
    EXPECT_GE(sent, 3u) << "100 ms, then 200, 400: at least two retransmissions in 700 ms";
    run_until(loop, [] { return false; }, 300ms);
    EXPECT_EQ(k->port().counters().sent, sent);
}

// The call engine may drop the leg from inside on_failed: the keyer must not touch itself after.
TEST_F(DtlsKeying, KeyerMayBeDestroyedInsideOnFailed) {
    cfg.dtls.timers.initial_retransmit = 50ms;
    cfg.dtls.timers.handshake_timeout = 300ms;
    rt = make_runtime(cfg);
    const auto pc = td::make_peer_cert(dir, "peer");
    std::unique_ptr<cm::dtls_srtp_keying> k;
    int failed = 0;
    cp::call::media_path_events ev;
    ev.on_failed = [&](const std::string&) {
        ++failed;
        k.reset();
    };
    k = cm::dtls_srtp_keying::create(loop, *rt, loopback(32037), ev).value();
    ASSERT_TRUE(k->set_remote(peer_sdp(32038, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass"}), 0, true));
    ASSERT_TRUE(run_until(loop, [&] { return failed > 0; }, 3s));
    EXPECT_FALSE(k);
    run_until(loop, [] { return false; }, 200ms); // no timer of the dead keyer fires
    EXPECT_EQ(failed, 1);
    auto again = cm::media_port::open(loop, loopback(32037), {});
    EXPECT_TRUE(again) << "its port was closed";
}

TEST_F(DtlsKeying, GnuTlsClientAgainstUs) {
    if (!td::have_program("gnutls-cli")) GTEST_SKIP() << "gnutls-cli absent";
    auto k = keyer(32050);
    const auto pc = td::make_peer_cert(dir, "gnutls");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active"}), 0, false));
    peer_process p(gnutls_cli(32050, pc, "SRTP_AES128_CM_HMAC_SHA1_32"), dir / "g.log", 10);
    ASSERT_TRUE(wait_outcome()) << p.output();
    serve_until_exit(p);
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << p.output();
    EXPECT_EQ(rec.keys[0].keying.suite, suite::aes_cm_128_hmac_sha1_32);
    const auto km = td::parse_keying_material(p.output());
    ASSERT_TRUE(km) << p.output();
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, false), "");
}

// ADR 0014: with NULL in dtls.profiles, a NULL-only GnuTLS client is served on our GnuTLS stack
// and on_keyed delivers the engine's NULL suite with the keys gnutls-cli exports. Port 39020.
TEST_F(DtlsKeying, GnuTlsNullClientAgainstUsRunsOnGnuTls) {
    if (!td::have_program("gnutls-cli")) GTEST_SKIP() << "gnutls-cli absent";
    cfg.dtls.profiles = {suite::aead_aes_128_gcm, suite::null_hmac_sha1_32, suite::null_hmac_sha1_80};
    rt = make_runtime(cfg);
    auto k = keyer(39020);
    const auto pc = td::make_peer_cert(dir, "gnutls");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active"}), 0, false));
    peer_process p(gnutls_cli(39020, pc, "SRTP_NULL_HMAC_SHA1_80:SRTP_NULL_SHA1_32"), dir / "g.log", 10);
    ASSERT_TRUE(wait_outcome()) << p.output();
    serve_until_exit(p);
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << p.output();
    EXPECT_EQ(rec.keys[0].keying.suite, suite::null_hmac_sha1_32); // our order, not the client's
    const auto km = td::parse_keying_material(p.output());
    ASSERT_TRUE(km) << p.output();
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, false), "");
    const auto st = k->status();
    EXPECT_EQ(st.value("stack", ""), "gnutls") << st.dump();
    EXPECT_EQ(st.value("profile", ""), "SRTP_NULL_HMAC_SHA1_32") << st.dump();
}

std::string pion_peer() {
    const char* p = std::getenv("SRTPO_PION_PEER");
    return p ? p : "";
}

// pion/dtls as the client; after the handshake it sends real SRTP to our port, which the port
// demuxes as RTP (first octet 128..191) and drops: srtpo-pmd carries media, not srtpo-cp.
TEST_F(DtlsKeying, PionClientAgainstUsAndItsSrtpIsDemuxedAway) {
    if (pion_peer().empty()) GTEST_SKIP() << "pion peer not built";
    auto k = keyer(32060);
    const auto pc = td::make_peer_cert(dir, "pion");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active"}), 0, false));
    peer_process p({pion_peer(), "-mode", "client", "-remote", "127.0.0.1:32060", "-cert", pc.cert.string(), "-key",
                    pc.key.string(), "-fingerprint", rt->dtls_context()->cert().sdp_fingerprint(), "-profiles",
                    "0x0007,0x0001", "-srtp", "5", "-wait", "500ms"},
                   dir / "pion.log", 10);
    ASSERT_TRUE(wait_outcome()) << p.output();
    serve_until_exit(p);
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << p.output();
    EXPECT_EQ(rec.keys[0].keying.suite, suite::aead_aes_128_gcm);
    const auto km = td::parse_keying_material(p.output());
    ASSERT_TRUE(km) << p.output();
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, false), "");
    EXPECT_EQ(k->port().counters().rtp_rtcp_dropped, 5u) << p.output();
}

TEST_F(DtlsKeying, PionServerWeAnswerActive) {
    if (pion_peer().empty()) GTEST_SKIP() << "pion peer not built";
    auto k = keyer(32061);
    const auto pc = td::make_peer_cert(dir, "pion");
    peer_process p({pion_peer(), "-mode", "server", "-local", "127.0.0.1:32062", "-cert", pc.cert.string(), "-key",
                    pc.key.string(), "-fingerprint", rt->dtls_context()->cert().sdp_fingerprint(), "-profiles",
                    "0x0001", "-srtp", "0", "-wait", "200ms"},
                   dir / "pion.log", 10);
    ASSERT_TRUE(p.wait_for_output("listening:", 5s)) << p.output();
    ASSERT_TRUE(k->set_remote(peer_sdp(32062, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass"}), 0, true));
    ASSERT_TRUE(wait_outcome()) << p.output();
    serve_until_exit(p);
    ASSERT_EQ(rec.keys.size(), 1u) << (rec.failures.empty() ? "" : rec.failures[0]) << p.output();
    const auto km = td::parse_keying_material(p.output());
    ASSERT_TRUE(km) << p.output();
    EXPECT_EQ(td::compare_keying(rec.keys[0].keying, *km, true), "");
}

// --- ICE-lite: an independent STUN client (Python, RFC 8489 from scratch) -------------------

std::string stun_client() {
    const char* p = std::getenv("SRTPO_STUN_CLIENT");
    return p ? p : "";
}

struct stun_outcome {
    std::string line;
};

class IceLite : public DtlsKeying {
protected:
    void SetUp() override {
        DtlsKeying::SetUp();
        if (IsSkipped()) return;
        if (!td::have_program("python3") || stun_client().empty()) GTEST_SKIP() << "python3 absent";
    }
    std::string check(uint16_t port, const std::string& user, const std::string& pwd, bool wrong_key) {
        std::vector<std::string> argv{"python3", stun_client(), "127.0.0.1", std::to_string(port), user, pwd};
        if (wrong_key) argv.push_back("--wrong-key");
        peer_process p(argv, dir / ("stun" + std::to_string(++n) + ".log"), 5);
        serve_until_exit(p);
        std::smatch m;
        const auto out = p.output();
        static const std::regex re("RESULT [^\n]*");
        return std::regex_search(out, m, re) ? m.str() : "no result: " + out;
    }
    int n = 0;
};

TEST_F(IceLite, CorrectIntegrityIsAnsweredAndTeachesThePeerAddress) {
    auto k = keyer(32100);
    const auto pc = td::make_peer_cert(dir, "peer");
    ASSERT_TRUE(k->set_remote(peer_sdp(32101, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass",
                                               "ice-ufrag:peerUfrag", "ice-pwd:peerPasswordPeerPassword12"}),
                              0, true));
    EXPECT_EQ(k->session_attributes().at(0).first, "ice-lite");
    const auto ufrag = local_attr(*k, "ice-ufrag"), pwd = local_attr(*k, "ice-pwd");
    EXPECT_NE(local_attr(*k, "candidate").find("127.0.0.1 32100 typ host"), std::string::npos)
        << local_attr(*k, "candidate");
    const auto line = check(32100, ufrag + ":peerUfrag", pwd, false);
    EXPECT_EQ(line.rfind("RESULT success integrity=ok fingerprint=ok mapped=ok from=127.0.0.1:", 0), 0u) << line;
    const auto st = k->status();
    EXPECT_EQ(st["ice"]["checks_ok"], 1);
    EXPECT_EQ(st["ice"]["checks_rejected"], 0);
    // We are the DTLS client here: the checked address replaces the SDP's as where DTLS goes.
    EXPECT_EQ("RESULT success integrity=ok fingerprint=ok mapped=ok from=" + st["ice"]["checked_address"].get<std::string>(),
              line);
    EXPECT_EQ(st["peer"], st["ice"]["checked_address"]);
}

TEST_F(IceLite, WrongIntegrityIsRejectedWith401AndLearnsNothing) {
    auto k = keyer(32102);
    const auto pc = td::make_peer_cert(dir, "peer");
    ASSERT_TRUE(k->set_remote(peer_sdp(32103, {"fingerprint:" + pc.sdp_fingerprint, "setup:actpass",
                                               "ice-ufrag:peerUfrag", "ice-pwd:peerPasswordPeerPassword12"}),
                              0, true));
    const auto ufrag = local_attr(*k, "ice-ufrag"), pwd = local_attr(*k, "ice-pwd");
    EXPECT_EQ(check(32102, ufrag + ":peerUfrag", pwd, true), "RESULT error code=401 integrity=absent");
    // A USERNAME whose remote half is not the peer's a=ice-ufrag is refused too.
    const auto wrong_user = check(32102, ufrag + ":someoneElse", pwd, false);
    EXPECT_EQ(wrong_user.rfind("RESULT error code=", 0), 0u) << wrong_user;
    const auto st = k->status();
    EXPECT_EQ(st["ice"]["checks_ok"], 0);
    EXPECT_EQ(st["ice"]["checks_rejected"], 2);
    EXPECT_FALSE(st["ice"].contains("checked_address"));
    EXPECT_EQ(st["peer"], "127.0.0.1:32103") << "the SDP's address stays the DTLS target";
}

// A peer that does ICE may speak DTLS only from an address that passed a check (RFC 8445
// §2.5: a lite agent's pairs are the checked ones): s_client from another port is ignored.
TEST_F(IceLite, DtlsFromAnUncheckedAddressIsIgnoredWhenThePeerDoesIce) {
    auto k = keyer(32104);
    const auto pc = td::make_peer_cert(dir, "peer");
    ASSERT_TRUE(k->set_remote(peer_sdp(9, {"fingerprint:" + pc.sdp_fingerprint, "setup:active", "ice-ufrag:peerUfrag",
                                           "ice-pwd:peerPasswordPeerPassword12"}),
                              0, false));
    const auto line = check(32104, local_attr(*k, "ice-ufrag") + ":peerUfrag", local_attr(*k, "ice-pwd"), false);
    ASSERT_EQ(line.rfind("RESULT success", 0), 0u) << line;
    peer_process p(s_client(32104, pc, "SRTP_AES128_CM_SHA1_80", 60), dir / "c.log", 5);
    run_until(loop, [&] { return k->status()["dtls_drops"]["unchecked_source"].get<int>() >= 2; }, 3s);
    EXPECT_GE(k->status()["dtls_drops"]["unchecked_source"].get<int>(), 2) << k->status().dump();
    EXPECT_TRUE(rec.keys.empty());
    EXPECT_FALSE(k->status().contains("peer"));
}

TEST(MediaFactory, RefusesMethodsKeyedInTheSdp) {
    temp_dir dir;
    auto loop = make_loop();
    auto rt = make_runtime(config_in(dir.path()));
    recorder rec;
    auto k = cm::make_media_path_keying(loop, *rt, cp::call::keying_method::sdes, loopback(32190), rec.events());
    ASSERT_FALSE(k);
    EXPECT_EQ(k.err().code, cp::api::api_errc::unsupported);
    auto d = cm::make_media_path_keying(loop, *rt, cp::call::keying_method::dtls_srtp, loopback(32190), rec.events());
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ((*d)->method(), cp::call::keying_method::dtls_srtp);
    // The port is taken: a second keyer on it is refused with the address in the message.
    auto again = cm::make_media_path_keying(loop, *rt, cp::call::keying_method::dtls_srtp, loopback(32190), rec.events());
    ASSERT_FALSE(again);
    EXPECT_NE(again.err().message.find("127.0.0.1:32190"), std::string::npos) << again.err().message;
}

} // namespace
} // namespace srtpo::test::media
