// DTLS-SRTP against GnuTLS 3.7 (gnutls-cli, gnutls-serv). GnuTLS knows only the AES-CM and NULL
// profiles (no GCM). gnutls-cli prints the exported keys, so as its server we compare them;
// gnutls-serv prints no keys, so as its client we check the handshake, the profile it picked
// (the client's first choice) and that it verified our certificate. Ports 50201..50220.

#include "harness.hpp"

#include <gtest/gtest.h>

namespace srtpo::test::dtls {
namespace {

using namespace std::chrono;
using engine::suite;

struct cli_outcome {
    pump_result pump;
    std::string out;
    std::optional<int> rc;
};

cli_outcome run_cli(uint16_t port, std::vector<suite> ours, const std::string& gnutls_profiles, std::size_t keylen) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "gnutls");
    cd::endpoint_config cfg;
    cfg.role = cd::dtls_role::server;
    cfg.profiles = std::move(ours);
    cfg.remote_fingerprints = fingerprints(peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg).value();
    udp_pump pump(port, 0);
    EXPECT_TRUE(ep->start(steady_clock::now()));
    // gnutls-cli checks our self-signed certificate as its own trust anchor (CN srtpo-test).
    peer_process p({"gnutls-cli", "--udp", "-p", std::to_string(port), "127.0.0.1", "--x509cafile",
                    (dir / "ours.crt").string(), "--verify-hostname", "srtpo-test", "--x509certfile",
                    peer.cert.string(), "--x509keyfile", peer.key.string(), "--srtp-profiles", gnutls_profiles,
                    "--keymatexport", "EXTRACTOR-dtls_srtp", "--keymatexportsize", std::to_string(keylen)},
                   dir / "cli.log", 10);
    cli_outcome o;
    o.pump = pump.run_handshake(*ep, 8s);
    // After a refusal gnutls-cli keeps retransmitting its ClientHello for seconds (it does not
    // act on an alert before ServerHello), so it is only waited for after a success.
    if (o.pump.done) pump.serve_until_exit(*ep, p, 5s);
    else p.stop();
    o.rc = p.wait_exit(1s);
    o.out = p.output();
    return o;
}

TEST(GnuTLS, CliAgainstUsCm80) {
    auto o = run_cli(50201, cd::default_profiles(), "SRTP_AES128_CM_HMAC_SHA1_80", 60);
    ASSERT_TRUE(o.pump.done) << (o.pump.failed ? o.pump.failed->message : "timeout") << o.out;
    EXPECT_EQ(o.pump.done->keying.suite, suite::aes_cm_128_hmac_sha1_80);
    EXPECT_NE(o.out.find("- SRTP profile: SRTP_AES128_CM_HMAC_SHA1_80"), std::string::npos) << o.out;
    const auto km = parse_keying_material(o.out);
    ASSERT_TRUE(km) << o.out;
    EXPECT_EQ(compare_keying(o.pump.done->keying, *km, false), "");
}

TEST(GnuTLS, CliAgainstUsCm32WithClientPreferenceList) {
    // gnutls-cli offers _32 then _80; we prefer _80 (server preference).
    auto o = run_cli(50202, {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32},
                     "SRTP_AES128_CM_HMAC_SHA1_32:SRTP_AES128_CM_HMAC_SHA1_80", 60);
    ASSERT_TRUE(o.pump.done) << o.out;
    EXPECT_EQ(o.pump.done->keying.suite, suite::aes_cm_128_hmac_sha1_80);
    const auto km = parse_keying_material(o.out);
    ASSERT_TRUE(km) << o.out;
    EXPECT_EQ(compare_keying(o.pump.done->keying, *km, false), "");
    auto o32 = run_cli(50203, {suite::aes_cm_128_hmac_sha1_32}, "SRTP_AES128_CM_HMAC_SHA1_32", 60);
    ASSERT_TRUE(o32.pump.done) << o32.out;
    EXPECT_EQ(o32.pump.done->keying.suite, suite::aes_cm_128_hmac_sha1_32);
    const auto km32 = parse_keying_material(o32.out);
    ASSERT_TRUE(km32) << o32.out;
    EXPECT_EQ(compare_keying(o32.pump.done->keying, *km32, false), "");
}

TEST(GnuTLS, NullProfileOnlyIsRefused) {
    // GnuTLS offers SRTP_NULL_HMAC_SHA1_80; OpenSSL 3.0 (and so we) cannot negotiate it.
    auto o = run_cli(50204, cd::default_profiles(), "SRTP_NULL_HMAC_SHA1_80", 60);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::no_srtp_profile);
    EXPECT_EQ(o.out.find("- Handshake was completed"), std::string::npos) << o.out;
}

TEST(GnuTLS, ServAsServerPicksOurFirstChoice) {
    for (auto [port, ours, want] :
         {std::tuple<uint16_t, std::vector<suite>, suite>{50205, {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32}, suite::aes_cm_128_hmac_sha1_80},
          {50206, {suite::aes_cm_128_hmac_sha1_32, suite::aes_cm_128_hmac_sha1_80}, suite::aes_cm_128_hmac_sha1_32}}) {
        temp_dir dir;
        auto ctx = make_our_context(dir);
        const auto peer = make_peer_cert(dir, "gnutls");
        cd::endpoint_config cfg;
        cfg.role = cd::dtls_role::client;
        cfg.profiles = ours;
        cfg.remote_fingerprints = fingerprints(peer.sdp_fingerprint);
        auto ep = cd::endpoint::create(ctx, cfg).value();
        peer_process p({"gnutls-serv", "--udp", "--port", std::to_string(port), "--x509certfile", peer.cert.string(),
                        "--x509keyfile", peer.key.string(), "--require-client-cert", "--verify-client-cert",
                        "--x509cafile", (dir / "ours.crt").string(), "--srtp-profiles",
                        "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32", "--echo"},
                       dir / "serv.log", 10);
        ASSERT_TRUE(p.wait_for_output("listening on IPv4", 5s)) << p.output();
        udp_pump pump(0, port);
        ASSERT_TRUE(ep->start(steady_clock::now()));
        auto r = pump.run_handshake(*ep, 8s);
        ASSERT_TRUE(r.done) << (r.failed ? r.failed->message : "timeout") << p.output();
        EXPECT_EQ(r.done->keying.suite, want);
        ep->close();
        pump.flush(*ep);
        p.stop();
    }
}

} // namespace
} // namespace srtpo::test::dtls

int main(int argc, char** argv) {
    return srtpo::test::dtls::run_if_present(argc, argv, {"gnutls-cli", "gnutls-serv", "openssl"});
}
