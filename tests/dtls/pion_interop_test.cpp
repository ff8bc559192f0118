// DTLS-SRTP against pion/dtls + pion/srtp (Go, independent of OpenSSL), with real media: after
// the handshake the pion peer sends SRTP protected by pion/srtp, which our engine session built
// from our srtp_keying must authenticate and decrypt, and we send SRTP protected by our engine,
// which pion/srtp must accept. Both roles; CM_80, CM_32, GCM-128 with media; GCM-256 handshake
// only (Debian's pion/srtp 2.0 has no AES-256-GCM). Ports 50101..50130.

#include "harness.hpp"

#include <srtpo/cp/rfc7983.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

namespace srtpo::test::dtls {
namespace {

using namespace std::chrono;
using engine::suite;

std::string pion_peer() {
    const char* p = std::getenv("SRTPO_PION_PEER");
    return p ? p : "";
}

constexpr int packets = 20;

struct pion_run {
    uint16_t port;
    cd::dtls_role our_role;
    std::vector<suite> our_profiles;
    std::string pion_profiles; ///< "0x0007,0x0001"
    int srtp = packets;
    bool wrong_fingerprint = false;
};

struct pion_outcome {
    pump_result pump;
    std::string peer_out;
    std::optional<int> peer_rc;
    int our_ok = 0, our_bad = 0, sent = 0;
    std::optional<cd::dtls_stack> stack; ///< which TLS stack ran our side (ADR 0014)
};

pion_outcome run(const pion_run& s) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "pion");
    cd::endpoint_config cfg;
    cfg.role = s.our_role;
    cfg.profiles = s.our_profiles;
    cfg.remote_fingerprints =
        fingerprints(s.wrong_fingerprint ? make_peer_cert(dir, "other").sdp_fingerprint : peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg).value();
    const std::string port = std::to_string(s.port);
    std::vector<std::string> argv{pion_peer(), "-cert", peer.cert.string(), "-key", peer.key.string(),
                                  "-fingerprint", ctx->cert().sdp_fingerprint(), "-profiles", s.pion_profiles,
                                  "-srtp", std::to_string(s.srtp), "-wait", "3s"};
    pion_outcome o;
    std::vector<bytes> early_rtp; // SRTP that arrives while our side finishes the handshake
    auto keep_rtp = [&](const bytes& d) { early_rtp.push_back(d); };
    std::unique_ptr<udp_pump> pump;
    std::unique_ptr<peer_process> p;
    if (s.our_role == cd::dtls_role::server) {
        pump = std::make_unique<udp_pump>(s.port, 0);
        argv.insert(argv.end(), {"-mode", "client", "-remote", "127.0.0.1:" + port});
        EXPECT_TRUE(ep->start(steady_clock::now()));
        p = std::make_unique<peer_process>(argv, dir / "pion.log", 15);
    } else {
        argv.insert(argv.end(), {"-mode", "server", "-local", "127.0.0.1:" + port});
        p = std::make_unique<peer_process>(argv, dir / "pion.log", 15);
        EXPECT_TRUE(p->wait_for_output("listening:", 5s)) << p->output();
        pump = std::make_unique<udp_pump>(0, s.port);
        EXPECT_TRUE(ep->start(steady_clock::now()));
    }
    o.pump = pump->run_handshake(*ep, 8s, keep_rtp);
    if (o.pump.done && s.srtp > 0) {
        auto sp = make_srtp(o.pump.done->keying);
        for (auto& d : early_rtp) (unprotect_and_check(sp, d) ? o.our_ok : o.our_bad)++;
        for (int i = 1; i <= s.srtp; ++i) {
            auto pkt = protect_rtp_packet(sp, static_cast<uint16_t>(i), 0x5a5a0001);
            EXPECT_FALSE(pkt.empty());
            pump->send(pkt);
            ++o.sent;
        }
        const auto end = steady_clock::now() + 5s;
        while (steady_clock::now() < end && (o.our_ok + o.our_bad < s.srtp || !p->wait_exit(0ms))) {
            auto d = pump->receive(20ms);
            if (!d) continue;
            const auto c = cp::classify_rfc7983(*d);
            if (c == cp::rfc7983_class::rtp_rtcp) (unprotect_and_check(sp, *d) ? o.our_ok : o.our_bad)++;
            else if (c == cp::rfc7983_class::dtls) {
                ep->receive(*d, steady_clock::now());
                pump->flush(*ep);
            }
        }
    }
    o.peer_rc = p->wait_exit(5s);
    o.peer_out = p->output();
    o.stack = ep->stack();
    return o;
}

std::string profile_hex(suite s) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(s));
    return buf;
}

void expect_media(const pion_outcome& o, suite want, bool we_are_client) {
    ASSERT_TRUE(o.pump.done) << (o.pump.failed ? o.pump.failed->message : "timeout") << "\npion:\n" << o.peer_out;
    EXPECT_EQ(o.pump.done->keying.suite, want);
    EXPECT_EQ(o.stack, cd::dtls_stack::openssl); // pion has no NULL profile: never GnuTLS here
    EXPECT_NE(o.peer_out.find("profile: " + profile_hex(want)), std::string::npos) << o.peer_out;
    const auto km = parse_keying_material(o.peer_out);
    ASSERT_TRUE(km) << o.peer_out;
    EXPECT_EQ(compare_keying(o.pump.done->keying, *km, we_are_client), "");
    // pion/srtp packets authenticated and decrypted by our engine, ...
    EXPECT_EQ(o.our_ok, packets);
    EXPECT_EQ(o.our_bad, 0);
    // ... and ours by pion/srtp.
    EXPECT_NE(o.peer_out.find("srtp-received: ok=" + std::to_string(packets) + " bad=0"), std::string::npos) << o.peer_out;
    EXPECT_EQ(o.peer_rc, 0) << o.peer_out;
}

struct media_case {
    suite s;
    const char* name;
};
const media_case media_cases[] = {
    {suite::aes_cm_128_hmac_sha1_80, "CM_80"},
    {suite::aes_cm_128_hmac_sha1_32, "CM_32"},
    {suite::aead_aes_128_gcm, "GCM_128"},
};

class PionMedia : public ::testing::TestWithParam<std::size_t> {};

TEST_P(PionMedia, WeAreServer) {
    const auto& c = media_cases[GetParam()];
    const auto o = run({static_cast<uint16_t>(50101 + GetParam()), cd::dtls_role::server, cd::default_profiles(),
                        profile_hex(c.s)});
    expect_media(o, c.s, false);
}

TEST_P(PionMedia, WeAreClient) {
    const auto& c = media_cases[GetParam()];
    const auto o = run({static_cast<uint16_t>(50111 + GetParam()), cd::dtls_role::client, cd::default_profiles(),
                        profile_hex(c.s)});
    expect_media(o, c.s, true);
}

INSTANTIATE_TEST_SUITE_P(Profiles, PionMedia, ::testing::Range<std::size_t>(0, std::size(media_cases)),
                         [](const auto& pi) { return std::string(media_cases[pi.param].name); });

TEST(Pion, Gcm256HandshakeBothRoles) {
    for (auto role : {cd::dtls_role::server, cd::dtls_role::client}) {
        const auto o = run({static_cast<uint16_t>(role == cd::dtls_role::server ? 50121 : 50122), role,
                            {suite::aead_aes_256_gcm}, "0x0008", 0});
        ASSERT_TRUE(o.pump.done) << o.peer_out;
        EXPECT_EQ(o.pump.done->keying.suite, suite::aead_aes_256_gcm);
        const auto km = parse_keying_material(o.peer_out);
        ASSERT_TRUE(km) << o.peer_out;
        EXPECT_EQ(km->size(), 88u);
        EXPECT_EQ(compare_keying(o.pump.done->keying, *km, role == cd::dtls_role::client), "");
    }
}

// The pion server takes the client's first choice (RFC 5764 lets the server decide): our order wins.
TEST(Pion, PionServerFollowsOurOrderAsClient) {
    const auto o = run({50123, cd::dtls_role::client, {suite::aes_cm_128_hmac_sha1_32, suite::aead_aes_128_gcm},
                        "0x0007,0x0002", 0});
    ASSERT_TRUE(o.pump.done) << o.peer_out;
    EXPECT_EQ(o.pump.done->keying.suite, suite::aes_cm_128_hmac_sha1_32);
}

TEST(Pion, WrongFingerprintYieldsNoKeys) {
    const auto o = run({50124, cd::dtls_role::server, cd::default_profiles(), "0x0001", 0, true});
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed);
    EXPECT_EQ(o.pump.failed->reason, cd::failure::fingerprint_mismatch);
    EXPECT_NE(o.peer_rc, 0) << "pion must see the handshake fail: " << o.peer_out;
}

} // namespace
} // namespace srtpo::test::dtls

int main(int argc, char** argv) {
    return srtpo::test::dtls::run_if_present(argc, argv, {srtpo::test::dtls::pion_peer(), "openssl"});
}
