// MIKEY exchanges initiator <-> responder in every mode (PSK with TGK / TEK+SALT / NULL on
// request / no verification, DH over the three groups, DHHMAC), several streams per bundle,
// and rejection with the right ERR (RFC 3830 §6.12) of tampering, wrong keys, replays, stale
// timestamps, unsupported policies and untrusted certificates.
#include "test_pki.hpp"

#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/pki.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

using namespace srtpo::cp::mikey;
using srtpo::engine::suite;

namespace {

const time_point t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));

secret_bytes psk_of(uint8_t v) { return secret_bytes(bytes(20, v)); }

struct ids {
    std::shared_ptr<const signer> alice_key, bob_key;
    std::shared_ptr<const trust_store> alice_trusts, bob_trusts;
    bytes bob_cert;
};
const ids& pki() {
    static const ids v = [] {
        auto a = mikey_test::make_rsa_identity("alice"), b = mikey_test::make_rsa_identity("bob");
        ids r;
        r.alice_key = *signer::from_pem(a.first, a.second);
        r.bob_key = *signer::from_pem(b.first, b.second);
        r.alice_trusts = *trust_store::from_pem(b.second);
        r.bob_trusts = *trust_store::from_pem(a.second);
        r.bob_cert = *cert_der_from_pem(b.second);
        return r;
    }();
    return v;
}

initiator_config icfg(mode m, std::size_t n_streams = 1) {
    initiator_config c;
    c.m = m;
    c.cred.psk = psk_of(7);
    c.cred.own_id = {'a', 'l', 'i', 'c', 'e'};
    c.cred.own_key = pki().alice_key;
    c.cred.trust = pki().alice_trusts;
    c.cred.peer_cert = pki().bob_cert;
    for (std::size_t i = 0; i < n_streams; ++i) c.streams.push_back({static_cast<uint32_t>(0x1000 + i), static_cast<uint32_t>(i)});
    return c;
}

struct fixture {
    replay_cache cache;
    responder resp;
    explicit fixture(responder_config extra = {}) : cache(), resp(make(extra, cache)) {}
    static responder_config make(responder_config c, replay_cache& cache) {
        if (c.cred.psk.empty()) c.cred.psk = psk_of(7);
        c.cred.own_id = {'b', 'o', 'b'};
        c.cred.own_key = pki().bob_key;
        c.cred.trust = pki().bob_trusts;
        c.replay = &cache;
        return c;
    }
};

void expect_same_keys(const std::vector<crypto_session>& a, const std::vector<crypto_session>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].ssrc, b[i].ssrc);
        EXPECT_EQ(a[i].keying.suite, b[i].keying.suite);
        EXPECT_EQ(a[i].keying.params.initial_roc, b[i].keying.params.initial_roc);
        EXPECT_TRUE(a[i].keying.local.key_salt.equals(b[i].keying.local.key_salt.bytes())) << "cs " << i;
        EXPECT_TRUE(a[i].keying.remote.key_salt.equals(b[i].keying.local.key_salt.bytes()));
        EXPECT_EQ(a[i].keying.protocol, "mikey");
    }
}

/// Runs a whole exchange and checks both sides agree.
std::vector<crypto_session> run(initiator_config c, fixture& f) {
    auto in = initiator::start(std::move(c), t0);
    EXPECT_TRUE(in) << in.err().message;
    auto r = f.resp.handle(in->i_message(), t0 + std::chrono::seconds(1));
    EXPECT_TRUE(r.ok()) << (r.error ? r.error->message : "no keys");
    if (!in->expects_response()) {
        EXPECT_TRUE(r.reply.empty());
        auto k = in->keys();
        EXPECT_TRUE(k.ok());
        expect_same_keys(k.sessions, r.sessions);
        return r.sessions;
    }
    auto done = in->handle_response(r.reply, t0 + std::chrono::seconds(2));
    EXPECT_TRUE(done.ok()) << (done.error ? done.error->message : "no keys");
    expect_same_keys(done.sessions, r.sessions);
    return r.sessions;
}

error_no rejected(fixture& f, std::span<const uint8_t> msg, time_point at = t0) {
    auto r = f.resp.handle(msg, at);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.sessions.empty());
    if (!r.error) return static_cast<error_no>(255);
    // The ERR message sent back carries the same number (RFC 3830 §5.1.2).
    auto e = decode(r.reply);
    EXPECT_TRUE(e);
    if (e) {
        EXPECT_EQ(e->hdr.type, data_type::error);
        EXPECT_EQ(e->find<err_payload>()->err, r.error->err);
    }
    return r.error->err;
}

} // namespace

TEST(MikeyExchange, PskTgkSeveralStreamsDeriveDistinctTeks) {
    fixture f;
    auto s = run(icfg(mode::psk, 3), f);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_FALSE(s[0].keying.local.key_salt.equals(s[1].keying.local.key_salt.bytes()));
    EXPECT_EQ(s[2].ssrc, 0x1002u);
    EXPECT_EQ(s[2].keying.params.initial_roc, 2u);
    EXPECT_EQ(s[1].cs_id, 2);
}

TEST(MikeyExchange, PskTekSaltEverySuite) {
    for (const auto& t : srtpo::engine::all_suites) {
        fixture f;
        auto c = icfg(mode::psk, 2);
        c.transport = key_data_type::tek_salt;
        c.policy.suite = t.id;
        auto s = run(std::move(c), f);
        ASSERT_EQ(s.size(), 2u) << t.name;
        EXPECT_EQ(s[0].keying.suite, t.id);
        EXPECT_EQ(s[0].keying.local.key_salt.size(), t.key_salt_len());
        EXPECT_TRUE(s[0].keying.local.key_salt.equals(s[1].keying.local.key_salt.bytes())) << "one TEK for the bundle";
    }
}

TEST(MikeyExchange, PskPolicySwitchesReachTheKeying) {
    fixture f;
    auto c = icfg(mode::psk);
    c.policy.unencrypted_srtp = true;
    c.policy.unencrypted_srtcp = true;
    c.policy.unauthenticated_srtp = true;
    auto s = run(std::move(c), f);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(s[0].keying.params.unencrypted_srtp);
    EXPECT_TRUE(s[0].keying.params.unencrypted_srtcp);
    EXPECT_TRUE(s[0].keying.params.unauthenticated_srtp);
}

TEST(MikeyExchange, PskWithoutVerificationAndNullOnRequest) {
    {
        fixture f;
        auto c = icfg(mode::psk);
        c.verification = false;
        run(std::move(c), f);
    }
    {
        responder_config rc;
        rc.allow_null_encr = true;
        fixture f(rc);
        auto c = icfg(mode::psk);
        c.kemac_encr = encr_alg::null;
        run(std::move(c), f);
    }
    {
        responder_config rc;
        rc.allow_null_encr = rc.allow_null_mac = true;
        fixture f(rc);
        auto c = icfg(mode::psk);
        c.kemac_encr = encr_alg::null;
        c.kemac_mac = mac_alg::null;
        c.cred.psk.wipe();
        run(std::move(c), f);
    }
}

TEST(MikeyExchange, NullProtectionRefusedByDefault) {
    fixture f;
    auto c = icfg(mode::psk);
    c.kemac_encr = encr_alg::null;
    auto in = initiator::start(c, t0);
    ASSERT_TRUE(in);
    EXPECT_EQ(rejected(f, in->i_message()), error_no::invalid_ea);
    c.kemac_encr = encr_alg::aes_cm_128;
    c.kemac_mac = mac_alg::null;
    in = initiator::start(c, t0);
    ASSERT_TRUE(in);
    EXPECT_EQ(rejected(f, in->i_message()), error_no::invalid_mac);
}

TEST(MikeyExchange, DhEveryGroup) {
    for (auto g : {dh_group::oakley1, dh_group::oakley2, dh_group::oakley5}) {
        fixture f;
        auto c = icfg(mode::dh, 2);
        c.group = g;
        auto s = run(std::move(c), f);
        EXPECT_EQ(s.size(), 2u);
    }
}

TEST(MikeyExchange, DhHmacEveryGroup) {
    for (auto g : {dh_group::oakley1, dh_group::oakley2, dh_group::oakley5}) {
        fixture f;
        auto c = icfg(mode::dhhmac, 2);
        c.group = g;
        c.policy.suite = suite::aead_aes_256_gcm;
        auto s = run(std::move(c), f);
        ASSERT_EQ(s.size(), 2u);
        EXPECT_EQ(s[1].keying.suite, suite::aead_aes_256_gcm);
    }
}

TEST(MikeyExchange, PublicKeyEnvelope) {
    for (auto tr : {key_data_type::tgk, key_data_type::tek_salt}) {
        fixture f;
        auto c = icfg(mode::pk, 3);
        c.transport = tr;
        c.policy.suite = suite::aes_256_cm_hmac_sha1_32;
        auto s = run(std::move(c), f);
        ASSERT_EQ(s.size(), 3u);
        EXPECT_EQ(s[0].keying.suite, suite::aes_256_cm_hmac_sha1_32);
    }
    {
        fixture f;
        auto c = icfg(mode::pk);
        c.verification = false;
        run(std::move(c), f);
    }
    // The envelope key encrypted to someone else: CHASH names another certificate.
    auto mallory = mikey_test::make_rsa_identity("mallory");
    fixture f;
    auto c = icfg(mode::pk);
    c.cred.peer_cert = *cert_der_from_pem(mallory.second);
    auto in = initiator::start(c, t0);
    ASSERT_TRUE(in);
    EXPECT_EQ(rejected(f, in->i_message()), error_no::invalid_cert);
    c = icfg(mode::pk);
    c.cred.peer_cert.clear();
    EXPECT_FALSE(initiator::start(c, t0)) << "PK needs the responder's certificate";
}

TEST(MikeyExchange, EveryBitFlipOfAnIMessageIsRejected) {
    for (auto m : {mode::psk, mode::dhhmac, mode::dh, mode::pk}) {
        auto c = icfg(m);
        c.group = dh_group::oakley1;
        auto in = initiator::start(c, t0);
        ASSERT_TRUE(in);
        const bytes good = in->i_message();
        // Every octet once (one bit each), which covers HDR, T, RAND, ID, SP, DH, KEMAC, SIGN.
        for (std::size_t i = 0; i < good.size(); ++i) {
            fixture f;
            bytes bad = good;
            bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
            auto r = f.resp.handle(bad, t0);
            EXPECT_FALSE(r.ok()) << "mode " << static_cast<int>(m) << " octet " << i;
            EXPECT_TRUE(r.error.has_value());
            EXPECT_FALSE(r.reply.empty()) << "an ERR message answers";
        }
    }
}

TEST(MikeyExchange, MacAndSignatureFailuresAreAuthFailure) {
    for (auto m : {mode::psk, mode::dhhmac, mode::dh, mode::pk}) {
        fixture f;
        auto in = initiator::start(icfg(m), t0);
        ASSERT_TRUE(in);
        bytes bad = in->i_message();
        bad.back() ^= 1; // inside the MAC or the signature
        EXPECT_EQ(rejected(f, bad), error_no::auth_failure) << static_cast<int>(m);
    }
}

TEST(MikeyExchange, WrongPreSharedKey) {
    for (auto m : {mode::psk, mode::dhhmac}) {
        responder_config rc;
        rc.cred.psk = psk_of(8);
        fixture f(rc);
        auto in = initiator::start(icfg(m), t0);
        ASSERT_TRUE(in);
        EXPECT_EQ(rejected(f, in->i_message()), error_no::auth_failure);
    }
}

TEST(MikeyExchange, ReplayAndStaleTimestamp) {
    fixture f;
    auto in = initiator::start(icfg(mode::psk), t0);
    ASSERT_TRUE(in);
    EXPECT_TRUE(f.resp.handle(in->i_message(), t0).ok());
    EXPECT_EQ(rejected(f, in->i_message(), t0 + std::chrono::seconds(5)), error_no::invalid_ts);
    auto old = initiator::start(icfg(mode::psk), t0 - std::chrono::minutes(5));
    ASSERT_TRUE(old);
    EXPECT_EQ(rejected(f, old->i_message()), error_no::invalid_ts);
    auto future = initiator::start(icfg(mode::psk), t0 + std::chrono::minutes(5));
    EXPECT_EQ(rejected(f, future->i_message()), error_no::invalid_ts);
    // A forged message with a fresh RAND must not enter the cache: the real one still passes.
    auto real = initiator::start(icfg(mode::psk), t0);
    bytes forged = real->i_message();
    forged.back() ^= 0x80;
    EXPECT_EQ(rejected(f, forged), error_no::auth_failure);
    EXPECT_TRUE(f.resp.handle(real->i_message(), t0).ok());
}

TEST(MikeyExchange, ReplayCacheCounterAndCapacity) {
    replay_cache c(std::chrono::seconds(60), 2);
    const bytes peer{'p'};
    const bytes r1(16, 1), r2(16, 2), r3(16, 3);
    const t_payload ctr{ts_type::counter, 5};
    EXPECT_EQ(c.check(ctr, peer, r1, t0), replay_cache::verdict::fresh);
    c.commit(ctr, peer, r1, t0);
    EXPECT_EQ(c.check(t_payload{ts_type::counter, 5}, peer, r2, t0), replay_cache::verdict::replay);
    EXPECT_EQ(c.check(t_payload{ts_type::counter, 6}, peer, r2, t0), replay_cache::verdict::fresh);
    c.commit(t_payload{ts_type::counter, 6}, peer, r2, t0);
    EXPECT_EQ(c.check(t_payload{ts_type::counter, 7}, peer, r3, t0), replay_cache::verdict::full);
    // Entries expire after twice the window; then there is room again.
    EXPECT_EQ(c.check(t_payload{ts_type::counter, 7}, peer, r3, t0 + std::chrono::minutes(3)), replay_cache::verdict::fresh);
}

TEST(MikeyExchange, HeaderErrNumbers) {
    fixture f;
    auto in = initiator::start(icfg(mode::psk), t0);
    bytes m = in->i_message();
    m[1] = 11;
    EXPECT_EQ(rejected(f, m), error_no::invalid_dt);
    m = in->i_message();
    m[3] |= 1;
    EXPECT_EQ(rejected(f, m), error_no::invalid_prf);
    m = in->i_message();
    m[1] = static_cast<uint8_t>(data_type::rsa_r_init);
    EXPECT_EQ(rejected(f, m), error_no::invalid_dt) << "RSA-R (RFC 4738) is not implemented";
    EXPECT_EQ(rejected(f, bytes{1, 0}), error_no::unspecified);
    responder_config rc;
    rc.allow_dh = false;
    fixture g(rc);
    auto dh = initiator::start(icfg(mode::dh), t0);
    EXPECT_EQ(rejected(g, dh->i_message()), error_no::invalid_dt);
}

TEST(MikeyExchange, UnsupportedPolicyIsInvalidSpPar) {
    fixture f;
    // An SP with KDR 2^24 (the engine supports 0 only), authenticated with the right key.
    auto in = initiator::start(icfg(mode::dhhmac), t0);
    auto m = decode(in->i_message());
    ASSERT_TRUE(m);
    for (auto& p : m->payloads)
        if (auto* sp = std::get_if<sp_payload>(&p))
            for (auto& q : sp->params)
                if (q.type == static_cast<uint8_t>(srtp_param::kdr)) q.value = {1, 0, 0, 0};
    // The policy is checked before authentication, so no re-MAC is needed to reach it.
    auto enc = encode(*m);
    ASSERT_TRUE(enc);
    const auto r = f.resp.handle(*enc, t0);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->err, error_no::invalid_sppar);
    EXPECT_NE(r.error->message.find("Key derivation rate"), std::string::npos) << r.error->message;
}

TEST(MikeyExchange, UntrustedCertificateAndWrongIdentity) {
    auto mallory = mikey_test::make_rsa_identity("mallory");
    responder_config rc;
    fixture f(rc);
    auto c = icfg(mode::dh);
    c.cred.own_key = *signer::from_pem(mallory.first, mallory.second);
    auto in = initiator::start(c, t0);
    ASSERT_TRUE(in);
    EXPECT_EQ(rejected(f, in->i_message()), error_no::invalid_cert);

    responder_config idc;
    idc.cred.peer_id = {'c', 'a', 'r', 'o', 'l'};
    fixture g(idc);
    auto p = initiator::start(icfg(mode::psk), t0);
    EXPECT_EQ(rejected(g, p->i_message()), error_no::invalid_id);
}

TEST(MikeyExchange, InitiatorRejectsBadResponses) {
    for (auto m : {mode::psk, mode::dh, mode::dhhmac, mode::pk}) {
        fixture f;
        auto c = icfg(m);
        c.group = dh_group::oakley1;
        auto in = initiator::start(c, t0);
        auto r = f.resp.handle(in->i_message(), t0);
        ASSERT_TRUE(r.ok());
        for (std::size_t i = 0; i < r.reply.size(); ++i) {
            bytes bad = r.reply;
            bad[i] ^= 0x10;
            auto x = in->handle_response(bad, t0);
            EXPECT_FALSE(x.ok()) << "mode " << static_cast<int>(m) << " octet " << i;
        }
        // An ERR from the peer is reported with its number.
        auto e = in->handle_response(make_error_message(in->csb_id(), error_no::invalid_sp, t0), t0);
        ASSERT_TRUE(e.error);
        EXPECT_EQ(e.error->err, error_no::invalid_sp);
        auto other = in->handle_response(make_error_message(in->csb_id() + 1, error_no::invalid_sp, t0), t0);
        EXPECT_EQ(other.error->err, error_no::unspecified);
    }
}

TEST(MikeyExchange, SecretFilesMustBe0600) {
    char tmpl[] = "/tmp/srtpo-mikey-psk-XXXXXX";
    const int fd = ::mkstemp(tmpl); // mkstemp creates 0600
    ASSERT_GE(fd, 0);
    const std::string text = "00112233445566778899aabbccddeeff\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    auto k = load_psk_file(tmpl);
    ASSERT_TRUE(k) << k.err().message;
    EXPECT_EQ(k->size(), 16u);
    EXPECT_EQ(k->view()[15], 0xff);
    ::chmod(tmpl, 0644);
    auto open_to_all = load_psk_file(tmpl);
    ASSERT_FALSE(open_to_all);
    EXPECT_EQ(open_to_all.err().code, srtpo::engine::errc::io_error);
    EXPECT_NE(open_to_all.err().message.find("0600"), std::string::npos);
    ::chmod(tmpl, 0600);
    FILE* f = std::fopen(tmpl, "w");
    std::fputs("0g", f);
    std::fclose(f);
    EXPECT_FALSE(load_psk_file(tmpl));
    ::unlink(tmpl);
    EXPECT_EQ(load_psk_file("/nonexistent/psk").err().code, srtpo::engine::errc::io_error);
    auto pem = mikey_test::make_rsa_identity("file");
    EXPECT_FALSE(signer::from_pem_files("/nonexistent/key", "/nonexistent/cert"));
    EXPECT_FALSE(signer::from_pem(pem.second, pem.first)) << "key and certificate swapped";
}

TEST(MikeyExchange, InitiatorConfigErrors) {
    auto c = icfg(mode::psk);
    c.streams.clear();
    EXPECT_FALSE(initiator::start(c, t0));
    c = icfg(mode::dhhmac);
    c.cred.psk.wipe();
    EXPECT_FALSE(initiator::start(c, t0));
    c = icfg(mode::dh);
    c.cred.own_key.reset();
    EXPECT_FALSE(initiator::start(c, t0));
    c = icfg(mode::psk);
    c.kemac_encr = encr_alg::aes_kw_128;
    EXPECT_FALSE(initiator::start(c, t0));
}
