// DTLS-SRTP against GnuTLS 3.7 (gnutls-cli, gnutls-serv). GnuTLS knows only the AES-CM and NULL
// profiles (no GCM). Handshakes that select a NULL profile run on our GnuTLS stack, all others on
// OpenSSL (ADR 0014); every case checks which stack ran. gnutls-cli prints the exported keys, so
// as its server we compare them; gnutls-serv in UDP mode prints no keys even with --keymatexport,
// so as its client we check the handshake, the profile and that it verified our certificate.
// Ports 50201..50220 (AES-CM cases) and 39001..39030.
// GnuTLS spells SRTP_NULL_HMAC_SHA1_32 "SRTP_NULL_SHA1_32" (lib/ext/srtp.c profile_names).

#include "harness.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstring>

namespace srtpo::test::dtls {
namespace {

using namespace std::chrono;
using engine::suite;

struct cli_outcome {
    pump_result pump;
    std::string out;
    std::optional<int> rc;
    std::optional<cd::dtls_stack> stack;
};

struct cli_spec {
    uint16_t port;
    std::vector<suite> ours;
    std::string gnutls_profiles;
    std::size_t keylen = 60;
    bool wrong_fingerprint = false;
};

cli_outcome run_cli(const cli_spec& c) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "gnutls");
    cd::endpoint_config cfg;
    cfg.role = cd::dtls_role::server;
    cfg.profiles = c.ours;
    cfg.remote_fingerprints =
        fingerprints(c.wrong_fingerprint ? make_peer_cert(dir, "other").sdp_fingerprint : peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg).value();
    udp_pump pump(c.port, 0);
    EXPECT_TRUE(ep->start(steady_clock::now()));
    // gnutls-cli checks our self-signed certificate as its own trust anchor (CN srtpo-test).
    peer_process p({"gnutls-cli", "--udp", "-p", std::to_string(c.port), "127.0.0.1", "--x509cafile",
                    (dir / "ours.crt").string(), "--verify-hostname", "srtpo-test", "--x509certfile",
                    peer.cert.string(), "--x509keyfile", peer.key.string(), "--srtp-profiles", c.gnutls_profiles,
                    "--keymatexport", "EXTRACTOR-dtls_srtp", "--keymatexportsize", std::to_string(c.keylen)},
                   dir / "cli.log", 10);
    cli_outcome o;
    o.pump = pump.run_handshake(*ep, 8s);
    // After a refusal gnutls-cli keeps retransmitting its ClientHello for seconds (it does not
    // act on an alert before ServerHello), so it is only waited for after a success.
    if (o.pump.done) pump.serve_until_exit(*ep, p, 5s);
    else p.stop();
    o.rc = p.wait_exit(1s);
    o.out = p.output();
    o.stack = ep->stack();
    return o;
}

cli_outcome run_cli(uint16_t port, std::vector<suite> ours, const std::string& gnutls_profiles, std::size_t keylen) {
    return run_cli({port, std::move(ours), gnutls_profiles, keylen});
}

void expect_cli_keys(const cli_outcome& o, suite want, cd::dtls_stack stack, const std::string& gnutls_name) {
    ASSERT_TRUE(o.pump.done) << (o.pump.failed ? o.pump.failed->message : "timeout") << o.out;
    EXPECT_EQ(o.pump.done->keying.suite, want);
    EXPECT_EQ(o.stack, stack);
    EXPECT_NE(o.out.find("- SRTP profile: " + gnutls_name), std::string::npos) << o.out;
    const auto km = parse_keying_material(o.out);
    ASSERT_TRUE(km) << o.out;
    EXPECT_EQ(compare_keying(o.pump.done->keying, *km, false), "");
}

TEST(GnuTLS, CliAgainstUsCm80) {
    auto o = run_cli(50201, cd::default_profiles(), "SRTP_AES128_CM_HMAC_SHA1_80", 60);
    expect_cli_keys(o, suite::aes_cm_128_hmac_sha1_80, cd::dtls_stack::openssl, "SRTP_AES128_CM_HMAC_SHA1_80");
}

TEST(GnuTLS, CliAgainstUsCm32WithClientPreferenceList) {
    // gnutls-cli offers _32 then _80; we prefer _80 (server preference).
    auto o = run_cli(50202, {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32},
                     "SRTP_AES128_CM_HMAC_SHA1_32:SRTP_AES128_CM_HMAC_SHA1_80", 60);
    expect_cli_keys(o, suite::aes_cm_128_hmac_sha1_80, cd::dtls_stack::openssl, "SRTP_AES128_CM_HMAC_SHA1_80");
    auto o32 = run_cli(50203, {suite::aes_cm_128_hmac_sha1_32}, "SRTP_AES128_CM_HMAC_SHA1_32", 60);
    expect_cli_keys(o32, suite::aes_cm_128_hmac_sha1_32, cd::dtls_stack::openssl, "SRTP_AES128_CM_HMAC_SHA1_32");
}

// SRTP with the NULL keys: libsrtp (an independent SRTP implementation) protects RTP with
// gnutls-cli's exported client write key and salt, as the peer would, and our engine session
// built from our handshake_done unprotects it; our protected packets open in libsrtp with the
// server key. The payload of a protected packet is the plain RTP payload: the NULL cipher.
// Returns "" on success, else what failed (no key bytes).
std::string libsrtp_exchange(const cp::srtp_keying& ours, const bytes& km, bool tag32) {
    constexpr std::size_t kl = 16, sl = 14;
    auto session = [&](std::size_t key_at, std::size_t salt_at, bool inbound, srtp_t* out) {
        srtp_policy_t p;
        std::memset(&p, 0, sizeof p);
        srtp_crypto_policy_set_null_cipher_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_null_cipher_hmac_sha1_80(&p.rtcp);
        if (tag32) p.rtp.auth_tag_len = 4; // libsrtp has no NULL_HMAC_SHA1_32 setter
        std::array<unsigned char, 64> key{};
        std::memcpy(key.data(), km.data() + key_at, kl);
        std::memcpy(key.data() + kl, km.data() + salt_at, sl);
        p.key = key.data();
        p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
        p.window_size = 128;
        return srtp_create(out, &p) == srtp_err_status_ok;
    };
    srtp_t peer_tx = nullptr, peer_rx = nullptr;
    // RFC 5764 §4.2 layout: client key | server key | client salt | server salt; gnutls-cli is the client.
    if (!session(0, 2 * kl, false, &peer_tx) || !session(kl, 2 * kl + sl, true, &peer_rx)) return "srtp_create failed";
    auto ours_pair = make_srtp(ours);
    std::string err;
    for (uint16_t seq = 1; seq <= 5 && err.empty(); ++seq) {
        // peer -> us
        std::array<unsigned char, 12 + 160 + 64> b{};
        b[0] = 0x80;
        b[2] = static_cast<unsigned char>(seq >> 8);
        b[3] = static_cast<unsigned char>(seq & 0xff);
        b[11] = 0x42; // SSRC 0x00000042
        for (std::size_t j = 0; j < 160; ++j) b[12 + j] = static_cast<unsigned char>((seq - 1) * 7 + j);
        int len = 12 + 160;
        if (srtp_protect(peer_tx, b.data(), &len) != srtp_err_status_ok) err = "libsrtp protect failed";
        else if (b[12 + 5] != static_cast<unsigned char>((seq - 1) * 7 + 5)) err = "NULL cipher changed the payload";
        else if (!unprotect_and_check(ours_pair, bytes(reinterpret_cast<std::byte*>(b.data()),
                                                       reinterpret_cast<std::byte*>(b.data()) + len)))
            err = "our engine rejected the peer's SRTP";
        // us -> peer
        auto pkt = protect_rtp_packet(ours_pair, seq, 0x99);
        int n = static_cast<int>(pkt.size());
        if (err.empty() && pkt.size() > 17 && pkt[17] != static_cast<std::byte>((seq - 1) * 7 + 5))
            err = "our NULL-suite flow encrypted the payload";
        if (err.empty() && (pkt.empty() || srtp_unprotect(peer_rx, pkt.data(), &n) != srtp_err_status_ok))
            err = "libsrtp rejected our SRTP";
        else if (err.empty() && n != 12 + 160)
            err = "libsrtp opened our SRTP to the wrong length";
    }
    srtp_dealloc(peer_tx);
    srtp_dealloc(peer_rx);
    return err;
}

// Our list has GCM, CM and both NULL profiles; gnutls-cli offers one NULL profile only.
const std::vector<suite> all_ours{suite::aead_aes_128_gcm, suite::aes_cm_128_hmac_sha1_80, suite::null_hmac_sha1_80,
                                  suite::null_hmac_sha1_32};

TEST(GnuTLS, CliNull80AgainstUsRunsOnGnuTLS) {
    auto o = run_cli(39001, all_ours, "SRTP_NULL_HMAC_SHA1_80", 60);
    expect_cli_keys(o, suite::null_hmac_sha1_80, cd::dtls_stack::gnutls, "SRTP_NULL_HMAC_SHA1_80");
    ASSERT_TRUE(o.pump.done);
    EXPECT_EQ(libsrtp_exchange(o.pump.done->keying, parse_keying_material(o.out).value(), false), "");
}

TEST(GnuTLS, CliNull32AgainstUsRunsOnGnuTLS) {
    auto o = run_cli(39002, all_ours, "SRTP_NULL_SHA1_32", 60);
    expect_cli_keys(o, suite::null_hmac_sha1_32, cd::dtls_stack::gnutls, "SRTP_NULL_SHA1_32");
    ASSERT_TRUE(o.pump.done);
    EXPECT_EQ(libsrtp_exchange(o.pump.done->keying, parse_keying_material(o.out).value(), true), "");
}

TEST(GnuTLS, OurPreferenceDecidesTheStack) {
    // The same offer (CM_80 and NULL_80): our order picks the profile, and with it the stack.
    const std::string offer = "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_NULL_HMAC_SHA1_80";
    auto null_first = run_cli(39003, {suite::null_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_80}, offer, 60);
    expect_cli_keys(null_first, suite::null_hmac_sha1_80, cd::dtls_stack::gnutls, "SRTP_NULL_HMAC_SHA1_80");
    auto cm_first = run_cli(39004, {suite::aes_cm_128_hmac_sha1_80, suite::null_hmac_sha1_80}, offer, 60);
    expect_cli_keys(cm_first, suite::aes_cm_128_hmac_sha1_80, cd::dtls_stack::openssl, "SRTP_AES128_CM_HMAC_SHA1_80");
}

TEST(GnuTLS, NoCommonProfileIsRefused) {
    // We configured only GCM, GnuTLS offers only NULL: OpenSSL answers and refuses.
    auto o = run_cli(39005, {suite::aead_aes_128_gcm}, "SRTP_NULL_HMAC_SHA1_80", 60);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::no_srtp_profile);
    EXPECT_EQ(o.stack, cd::dtls_stack::openssl);
    EXPECT_EQ(o.out.find("- Handshake was completed"), std::string::npos) << o.out;
}

TEST(GnuTLS, WrongFingerprintOnTheGnuTLSPathYieldsNoKeys) {
    cli_spec c{39006, all_ours, "SRTP_NULL_HMAC_SHA1_80"};
    c.wrong_fingerprint = true;
    auto o = run_cli(c);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::fingerprint_mismatch);
    EXPECT_EQ(o.stack, cd::dtls_stack::gnutls);
    bool sent_bad_certificate = false; // RFC 5246 §7.2.2: bad_certificate(42) tells the peer why
    for (const auto& e : o.pump.events)
        if (const auto* a = std::get_if<cd::alert>(&e)) sent_bad_certificate |= !a->received && a->description == 42;
    EXPECT_TRUE(sent_bad_certificate);
    EXPECT_EQ(o.out.find("- Handshake was completed"), std::string::npos) << o.out;
}

struct serv_outcome {
    pump_result pump;
    std::string out;
    std::optional<cd::dtls_stack> stack;
};

// We are the DTLS client, gnutls-serv the server (verifying our certificate).
serv_outcome run_serv(uint16_t port, std::vector<suite> ours, const std::string& serv_profiles, bool wrong_fp = false) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "gnutls");
    cd::endpoint_config cfg;
    cfg.role = cd::dtls_role::client;
    cfg.profiles = std::move(ours);
    cfg.remote_fingerprints =
        fingerprints(wrong_fp ? make_peer_cert(dir, "other").sdp_fingerprint : peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg).value();
    peer_process p({"gnutls-serv", "--udp", "--port", std::to_string(port), "--x509certfile", peer.cert.string(),
                    "--x509keyfile", peer.key.string(), "--require-client-cert", "--verify-client-cert",
                    "--x509cafile", (dir / "ours.crt").string(), "--srtp-profiles", serv_profiles, "--echo"},
                   dir / "serv.log", 10);
    serv_outcome o;
    EXPECT_TRUE(p.wait_for_output("listening on IPv4", 5s)) << p.output();
    udp_pump pump(0, port);
    EXPECT_TRUE(ep->start(steady_clock::now()));
    o.pump = pump.run_handshake(*ep, 8s);
    ep->close();
    pump.flush(*ep);
    p.stop();
    o.out = p.output();
    o.stack = ep->stack();
    return o;
}

TEST(GnuTLS, ServNullProfilesWithUsAsClient) {
    // No GCM in our list, a NULL one in it: one ClientHello on GnuTLS carries NULL and CM.
    for (auto [port, serv, want] : {std::tuple<uint16_t, std::string, suite>{39010, "SRTP_NULL_HMAC_SHA1_80", suite::null_hmac_sha1_80},
                                    {39011, "SRTP_NULL_SHA1_32", suite::null_hmac_sha1_32}}) {
        auto o = run_serv(port, {suite::null_hmac_sha1_80, suite::null_hmac_sha1_32, suite::aes_cm_128_hmac_sha1_80}, serv);
        ASSERT_TRUE(o.pump.done) << (o.pump.failed ? o.pump.failed->message : "timeout") << o.out;
        EXPECT_EQ(o.pump.done->keying.suite, want);
        EXPECT_EQ(o.stack, cd::dtls_stack::gnutls);
        // gnutls-serv required and verified our certificate; a failure prints "Error".
        EXPECT_EQ(o.out.find("Error"), std::string::npos) << o.out;
    }
}

TEST(GnuTLS, ClientListWithGcmDropsNull) {
    // GCM and NULL in our list: OpenSSL runs and offers only GCM and CM (docs/dtls-srtp.md), so a
    // NULL-only gnutls-serv finds nothing in common; the same server with CM succeeds on OpenSSL.
    auto o = run_serv(39012, {suite::aead_aes_128_gcm, suite::null_hmac_sha1_80}, "SRTP_NULL_HMAC_SHA1_80");
    EXPECT_FALSE(o.pump.done);
    EXPECT_EQ(o.stack, cd::dtls_stack::openssl);
    auto cm = run_serv(39013, {suite::aead_aes_128_gcm, suite::null_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_80},
                       "SRTP_NULL_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_80");
    ASSERT_TRUE(cm.pump.done) << (cm.pump.failed ? cm.pump.failed->message : "timeout") << cm.out;
    EXPECT_EQ(cm.pump.done->keying.suite, suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(cm.stack, cd::dtls_stack::openssl);
}

TEST(GnuTLS, WrongFingerprintAsClientOnTheGnuTLSPathYieldsNoKeys) {
    auto o = run_serv(39014, {suite::null_hmac_sha1_80}, "SRTP_NULL_HMAC_SHA1_80", /*wrong_fp=*/true);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::fingerprint_mismatch);
    EXPECT_EQ(o.stack, cd::dtls_stack::gnutls);
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
        EXPECT_EQ(ep->stack(), cd::dtls_stack::openssl);
        ep->close();
        pump.flush(*ep);
        p.stop();
    }
}

} // namespace
} // namespace srtpo::test::dtls

int main(int argc, char** argv) {
    if (srtp_init() != srtp_err_status_ok) return 1;
    return srtpo::test::dtls::run_if_present(argc, argv, {"gnutls-cli", "gnutls-serv", "openssl"});
}
