// DTLS-SRTP against the OpenSSL 3.0 command-line peers (`openssl s_client` / `s_server`) on
// loopback: every profile OpenSSL offers in both roles, profile preference, no common profile,
// fingerprint mismatch, small-MTU fragmentation, loss and rekey. The oracle for the keys is
// what the peer itself prints with -keymatexport EXTRACTOR-dtls_srtp (RFC 5764 §4.2), split by
// compare_keying(). Ports 50001..50060.

#include "harness.hpp"

#include <srtpo/cp/dtls/srtp_profile.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace srtpo::test::dtls {
namespace {

using namespace std::chrono;
using engine::suite;

struct profile_case {
    suite s;
    const char* openssl_name;
};

const profile_case all_cases[] = {
    {suite::aes_cm_128_hmac_sha1_80, "SRTP_AES128_CM_SHA1_80"},
    {suite::aes_cm_128_hmac_sha1_32, "SRTP_AES128_CM_SHA1_32"},
    {suite::aead_aes_128_gcm, "SRTP_AEAD_AES_128_GCM"},
    {suite::aead_aes_256_gcm, "SRTP_AEAD_AES_256_GCM"},
};

std::vector<suite> all_four() {
    return {cd::dtls_srtp_suites.begin(), cd::dtls_srtp_suites.end()};
}

/// One run: our endpoint against one OpenSSL peer.
struct run_spec {
    run_spec(uint16_t p, cd::dtls_role r, std::vector<suite> ours = all_four())
        : port(p), our_role(r), our_profiles(std::move(ours)) {}
    uint16_t port;
    cd::dtls_role our_role;
    std::vector<suite> our_profiles;
    cd::profile_selection selection = cd::profile_selection::server_preference;
    std::string peer_profiles;           ///< -use_srtp list
    std::size_t keymat_len = 60;         ///< -keymatexportlen
    std::vector<std::string> peer_extra; ///< e.g. {"-mtu", "300"}
    std::optional<std::string> wrong_fingerprint_of; ///< give us the fingerprint of another cert
    std::string fingerprint_digest = "sha256";
    bool peer_distrusts_us = false; ///< give the peer another certificate as its -CAfile
    uint16_t our_mtu = 1200;
    unsigned drop_every = 0;
    milliseconds initial_retransmit{400};
};

struct run_outcome {
    pump_result pump;
    std::string peer_out;
    std::optional<int> peer_rc;
    std::optional<cd::dtls_stack> stack; ///< which TLS stack ran our side (ADR 0014)
};

run_outcome run(const run_spec& s) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "peer", s.fingerprint_digest);
    cd::endpoint_config cfg;
    cfg.role = s.our_role;
    cfg.profiles = s.our_profiles;
    cfg.selection = s.selection;
    cfg.mtu = s.our_mtu;
    cfg.timers.initial_retransmit = s.initial_retransmit;
    cfg.remote_fingerprints = fingerprints(
        s.wrong_fingerprint_of ? make_peer_cert(dir, *s.wrong_fingerprint_of).sdp_fingerprint : peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg);
    EXPECT_TRUE(ep) << ep.err().message;
    if (!ep) return {};
    const std::string port = std::to_string(s.port);
    const auto ca = s.peer_distrusts_us ? make_peer_cert(dir, "stranger").cert : dir / "ours.crt";
    std::vector<std::string> common{"-cert", peer.cert.string(), "-key", peer.key.string(), "-CAfile", ca.string(), "-verify_return_error", "-use_srtp", s.peer_profiles,
                                    "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen",
                                    std::to_string(s.keymat_len)};
    common.insert(common.end(), s.peer_extra.begin(), s.peer_extra.end());
    run_outcome o;
    if (s.our_role == cd::dtls_role::server) {
        udp_pump pump(s.port, 0);
        if (auto st = (*ep)->start(steady_clock::now()); !st) ADD_FAILURE() << st.err().message;
        std::vector<std::string> argv{"openssl", "s_client", "-dtls", "-connect", "127.0.0.1:" + port};
        argv.insert(argv.end(), common.begin(), common.end());
        peer_process p(argv, dir / "peer.log", 10); // stdin at EOF: it closes after the handshake
        o.pump = pump.run_handshake(**ep, 8s, {}, s.drop_every);
        pump.serve_until_exit(**ep, p, 5s);
        o.peer_rc = p.wait_exit(1s);
        o.peer_out = p.output();
        o.stack = (*ep)->stack();
    } else {
        std::vector<std::string> argv{"openssl", "s_server", "-dtls", "-accept", "127.0.0.1:" + port, "-naccept", "1",
                                      "-Verify", "1"};
        argv.insert(argv.end(), common.begin(), common.end());
        peer_process p(argv, dir / "peer.log", 12, /*keep_stdin=*/true);
        EXPECT_TRUE(p.wait_for_output("ACCEPT", 5s)) << p.output();
        udp_pump pump(0, s.port);
        if (auto st = (*ep)->start(steady_clock::now()); !st) ADD_FAILURE() << st.err().message;
        o.pump = pump.run_handshake(**ep, 8s, {}, s.drop_every);
        (*ep)->close(); // close_notify lets s_server -naccept 1 exit
        pump.flush(**ep);
        o.peer_rc = p.wait_exit(3s);
        o.peer_out = p.output();
        o.stack = (*ep)->stack();
    }
    return o;
}

void expect_keys_match(const run_outcome& o, suite want, bool we_are_client) {
    ASSERT_TRUE(o.pump.done) << (o.pump.failed ? o.pump.failed->message : "no event") << "\npeer:\n" << o.peer_out;
    EXPECT_EQ(o.pump.done->keying.suite, want);
    EXPECT_EQ(o.pump.done->association, 1u);
    const auto km = parse_keying_material(o.peer_out);
    ASSERT_TRUE(km) << "peer printed no keying material:\n" << o.peer_out;
    EXPECT_EQ(compare_keying(o.pump.done->keying, *km, we_are_client), "");
    EXPECT_EQ(parse_openssl_profile(o.peer_out), *cd::openssl_profile_name(want));
    EXPECT_EQ(o.stack, cd::dtls_stack::openssl); // no NULL profile was selected
}

class OpenSSLPeer : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_program("openssl")) GTEST_SKIP() << "openssl CLI absent";
    }
};

class OpenSSLProfile : public ::testing::TestWithParam<std::size_t> {
protected:
    void SetUp() override {
        if (!have_program("openssl")) GTEST_SKIP() << "openssl CLI absent";
    }
};

TEST_P(OpenSSLProfile, WeAreServerPeerIsSClient) {
    const auto& c = all_cases[GetParam()];
    run_spec s{static_cast<uint16_t>(50001 + GetParam()), cd::dtls_role::server};
    s.peer_profiles = c.openssl_name;
    s.keymat_len = cd::keying_material_len(c.s);
    expect_keys_match(run(s), c.s, false);
}

TEST_P(OpenSSLProfile, WeAreClientPeerIsSServer) {
    const auto& c = all_cases[GetParam()];
    run_spec s{static_cast<uint16_t>(50011 + GetParam()), cd::dtls_role::client};
    s.peer_profiles = c.openssl_name;
    s.keymat_len = cd::keying_material_len(c.s);
    expect_keys_match(run(s), c.s, true);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, OpenSSLProfile, ::testing::Range<std::size_t>(0, std::size(all_cases)),
                         [](const auto& pi) { return std::string(all_cases[pi.param].openssl_name + 5); });

// RFC 5764 §4.1.3 leaves the pick to the server; we can follow our order or the client's.
TEST_F(OpenSSLPeer, ServerPreferenceFollowsOurOrder) {
    run_spec s{50021, cd::dtls_role::server, {suite::aead_aes_128_gcm, suite::aes_cm_128_hmac_sha1_80}};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
    s.keymat_len = 56;
    expect_keys_match(run(s), suite::aead_aes_128_gcm, false);
}

TEST_F(OpenSSLPeer, ClientPreferenceFollowsTheirOrder) {
    run_spec s{50022, cd::dtls_role::server, {suite::aead_aes_128_gcm, suite::aes_cm_128_hmac_sha1_80}};
    s.selection = cd::profile_selection::client_preference;
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
    s.keymat_len = 60;
    expect_keys_match(run(s), suite::aes_cm_128_hmac_sha1_80, false);
}

TEST_F(OpenSSLPeer, SServerPicksFromItsOwnOrder) {
    run_spec s{50023, cd::dtls_role::client, {suite::aes_cm_128_hmac_sha1_80, suite::aead_aes_128_gcm}};
    s.peer_profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    s.keymat_len = 56;
    expect_keys_match(run(s), suite::aead_aes_128_gcm, true);
}

TEST_F(OpenSSLPeer, NoCommonProfileFailsAsServer) {
    run_spec s{50024, cd::dtls_role::server, {suite::aead_aes_128_gcm}};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    const auto o = run(s);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.peer_out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::no_srtp_profile);
    EXPECT_FALSE(parse_keying_material(o.peer_out)) << "the peer must not finish a handshake";
    EXPECT_NE(o.peer_out.find("handshake failure"), std::string::npos) << o.peer_out;
}

TEST_F(OpenSSLPeer, NoCommonProfileFailsAsClient) {
    // s_server finishes a plain DTLS handshake without use_srtp; we must not accept that.
    run_spec s{50025, cd::dtls_role::client, {suite::aead_aes_256_gcm}};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    const auto o = run(s);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.peer_out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::no_srtp_profile);
    EXPECT_EQ(parse_openssl_profile(o.peer_out), "");
}

TEST_F(OpenSSLPeer, FingerprintMismatchFailsAsServer) {
    run_spec s{50026, cd::dtls_role::server};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    s.wrong_fingerprint_of = "other";
    const auto o = run(s);
    EXPECT_FALSE(o.pump.done) << "no keys may come out of a mismatched handshake";
    ASSERT_TRUE(o.pump.failed);
    EXPECT_EQ(o.pump.failed->reason, cd::failure::fingerprint_mismatch);
    // s_client had sent its Finished when our bad_certificate alert (42) arrived; it still
    // prints an export from its half-finished state, so only the alert is checked there.
    EXPECT_NE(o.peer_out.find("alert bad certificate"), std::string::npos) << o.peer_out;
}

TEST_F(OpenSSLPeer, FingerprintMismatchFailsAsClient) {
    run_spec s{50027, cd::dtls_role::client};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    s.wrong_fingerprint_of = "other";
    const auto o = run(s);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed);
    EXPECT_EQ(o.pump.failed->reason, cd::failure::fingerprint_mismatch);
    EXPECT_FALSE(parse_keying_material(o.peer_out));
}

// The peer refuses our certificate: its fatal alert is reported with its reason and no keys.
TEST_F(OpenSSLPeer, PeerAlertIsReported) {
    run_spec s{50034, cd::dtls_role::client};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    s.peer_distrusts_us = true;
    const auto o = run(s);
    EXPECT_FALSE(o.pump.done);
    ASSERT_TRUE(o.pump.failed) << o.peer_out;
    EXPECT_EQ(o.pump.failed->reason, cd::failure::alert_received) << o.pump.failed->message;
    bool fatal_received = false;
    for (const auto& e : o.pump.events)
        if (const auto* a = std::get_if<cd::alert>(&e); a && a->received && a->fatal) {
            fatal_received = true;
            EXPECT_FALSE(a->text.empty());
            EXPECT_NE(o.pump.failed->message.find(a->text), std::string::npos);
        }
    EXPECT_TRUE(fatal_received);
}

TEST_F(OpenSSLPeer, SmallMtuFragmentsAsServer) {
    run_spec s{50028, cd::dtls_role::server};
    s.peer_profiles = "SRTP_AEAD_AES_256_GCM";
    s.keymat_len = 88;
    s.our_mtu = 300;
    s.peer_extra = {"-mtu", "300"};
    const auto o = run(s);
    expect_keys_match(o, suite::aead_aes_256_gcm, false);
    EXPECT_LE(o.pump.largest_sent, 300u);
    EXPECT_GE(o.pump.datagrams_sent, 4u) << "a flight with a certificate cannot fit in fewer 300-octet datagrams";
}

TEST_F(OpenSSLPeer, SmallMtuFragmentsAsClient) {
    run_spec s{50029, cd::dtls_role::client};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    s.our_mtu = 256;
    s.peer_extra = {"-mtu", "256"};
    const auto o = run(s);
    expect_keys_match(o, suite::aes_cm_128_hmac_sha1_80, true);
    EXPECT_LE(o.pump.largest_sent, 256u);
}

TEST_F(OpenSSLPeer, Sha1AndSha512Fingerprints) {
    for (auto [port, digest] : {std::pair<uint16_t, const char*>{50030, "sha1"}, {50031, "sha512"}}) {
        run_spec s{port, cd::dtls_role::server};
        s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
        s.fingerprint_digest = digest;
        expect_keys_match(run(s), suite::aes_cm_128_hmac_sha1_80, false);
    }
}

TEST_F(OpenSSLPeer, CompletesWhenAThirdOfOurDatagramsAreLost) {
    run_spec s{50032, cd::dtls_role::client};
    s.peer_profiles = "SRTP_AES128_CM_SHA1_80";
    s.drop_every = 3;
    s.initial_retransmit = 100ms;
    const auto o = run(s);
    expect_keys_match(o, suite::aes_cm_128_hmac_sha1_80, true);
}

// A second ClientHello (new random) on a connected server endpoint is a new association: it
// rekeys, and the new keys are those the second peer exports.
TEST_F(OpenSSLPeer, NewClientHelloRekeysTheServerEndpoint) {
    temp_dir dir;
    auto ctx = make_our_context(dir);
    const auto peer = make_peer_cert(dir, "peer");
    cd::endpoint_config cfg;
    cfg.role = cd::dtls_role::server;
    cfg.remote_fingerprints = fingerprints(peer.sdp_fingerprint);
    auto ep = cd::endpoint::create(ctx, cfg).value();
    ASSERT_TRUE(ep->start(steady_clock::now()));
    std::vector<std::optional<cd::handshake_done>> done;
    std::vector<std::string> outs;
    for (int round = 0; round < 2; ++round) {
        // Same local port, same endpoint; a fresh client socket each round (the pump relearns).
        udp_pump pump(50033, 0);
        peer_process p({"openssl", "s_client", "-dtls", "-connect", "127.0.0.1:50033", "-cert", peer.cert.string(),
                        "-key", peer.key.string(), "-use_srtp", "SRTP_AEAD_AES_128_GCM", "-keymatexport",
                        "EXTRACTOR-dtls_srtp", "-keymatexportlen", "56"},
                       dir / ("peer" + std::to_string(round) + ".log"), 10);
        auto r = pump.run_handshake(*ep, 8s);
        p.wait_exit(5s);
        outs.push_back(p.output());
        done.push_back(std::move(r.done));
        ASSERT_TRUE(done.back()) << (r.failed ? r.failed->message : "timeout") << outs.back();
    }
    EXPECT_EQ(done[0]->association, 1u);
    EXPECT_EQ(done[1]->association, 2u);
    for (int round = 0; round < 2; ++round) {
        const auto km = parse_keying_material(outs[static_cast<std::size_t>(round)]);
        ASSERT_TRUE(km);
        EXPECT_EQ(compare_keying(done[static_cast<std::size_t>(round)]->keying, *km, false), "") << round;
    }
    EXPECT_FALSE(done[0]->keying.local.key_salt.equals(done[1]->keying.local.key_salt.bytes()));
}

} // namespace
} // namespace srtpo::test::dtls
