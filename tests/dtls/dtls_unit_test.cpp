// Unit tests of the DTLS-SRTP pieces: a=fingerprint, a=setup / a=tls-id, the profile table and
// use_srtp parser, the RFC 5764 §4.2 key split, the certificate store, the endpoint's
// validation, timers and robustness, and two endpoints of ours in memory (loss, rekey, 200
// concurrent handshakes). Interop with other implementations is in the *_interop tests.

#include "harness.hpp"

#include <srtpo/cp/dtls/client_hello.hpp>
#include <srtpo/cp/dtls/handshake_limiter.hpp>
#include <srtpo/cp/dtls/stack_choice.hpp>
#include <srtpo/cp/rfc7983.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <random>
#include <thread>

namespace srtpo::test::dtls {
namespace {

using namespace std::chrono;
using engine::errc;
using engine::suite;

bytes seq_bytes(std::size_t n, uint8_t start = 0) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(start + i);
    return b;
}

// ---- RFC 7983 --------------------------------------------------------------------------------

TEST(Rfc7983, FirstByteRanges) {
    using cp::rfc7983_class;
    auto cls = [](int b) {
        std::byte d[1] = {static_cast<std::byte>(b)};
        return cp::classify_rfc7983(d);
    };
    EXPECT_EQ(cp::classify_rfc7983({}), rfc7983_class::unknown);
    EXPECT_EQ(cls(0), rfc7983_class::stun);
    EXPECT_EQ(cls(3), rfc7983_class::stun);
    EXPECT_EQ(cls(4), rfc7983_class::unknown);
    EXPECT_EQ(cls(16), rfc7983_class::zrtp);
    EXPECT_EQ(cls(19), rfc7983_class::zrtp);
    EXPECT_EQ(cls(20), rfc7983_class::dtls);
    EXPECT_EQ(cls(63), rfc7983_class::dtls);
    EXPECT_EQ(cls(64), rfc7983_class::turn_channel);
    EXPECT_EQ(cls(79), rfc7983_class::turn_channel);
    EXPECT_EQ(cls(80), rfc7983_class::unknown);
    EXPECT_EQ(cls(127), rfc7983_class::unknown);
    EXPECT_EQ(cls(128), rfc7983_class::rtp_rtcp);
    EXPECT_EQ(cls(191), rfc7983_class::rtp_rtcp);
    EXPECT_EQ(cls(192), rfc7983_class::unknown);
}

// ---- a=fingerprint -----------------------------------------------------------------------------

TEST(Fingerprint, ParsesUpperAndLowerCaseTokenAndHex) {
    const std::string hex32 =
        "1F:76:B7:25:39:0C:D7:AA:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:01:02:03:04:05:06:54:B6";
    for (const char* tok : {"sha-256", "SHA-256", "Sha-256"}) {
        auto fp = cd::parse_fingerprint(std::string(tok) + " " + hex32);
        ASSERT_TRUE(fp) << fp.err().message;
        EXPECT_EQ(fp->hash, cd::hash_func::sha_256);
        ASSERT_EQ(fp->digest.size(), 32u);
        EXPECT_EQ(fp->digest[0], std::byte{0x1f});
        EXPECT_EQ(fp->digest[18], std::byte{0xaa});
        EXPECT_EQ(cd::format_fingerprint(*fp).substr(0, 14), "sha-256 1F:76:");
    }
    EXPECT_TRUE(cd::parse_fingerprint("  sha-1 " + hex32.substr(0, 59) + "\r\n"));
}

TEST(Fingerprint, RejectsMalformedValues) {
    const std::string hex32 =
        "1F:76:B7:25:39:0C:D7:AA:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:01:02:03:04:05:06:54:B6";
    EXPECT_FALSE(cd::parse_fingerprint("sha-256"));
    EXPECT_FALSE(cd::parse_fingerprint("md5 " + hex32.substr(0, 47)));   // forbidden by RFC 8122 §5
    EXPECT_FALSE(cd::parse_fingerprint("sha-384 " + hex32));              // wrong length for the hash
    EXPECT_FALSE(cd::parse_fingerprint("sha-256 " + hex32.substr(0, 92))); // truncated
    std::string bad = hex32;
    bad[5] = '-';
    EXPECT_FALSE(cd::parse_fingerprint("sha-256 " + bad));
    bad = hex32;
    bad[3] = 'G';
    auto e = cd::parse_fingerprint("sha-256 " + bad);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.err().code, errc::invalid_argument);
}

TEST(Fingerprint, MatchingUsesTheStrongestOfferedHash) {
    auto cert = cd::certificate::generate().value();
    auto s256 = cd::compute_fingerprint(cert.der(), cd::hash_func::sha_256).value();
    auto s512 = cd::compute_fingerprint(cert.der(), cd::hash_func::sha_512).value();
    auto s1 = cd::compute_fingerprint(cert.der(), cd::hash_func::sha_1).value();
    std::vector<cd::fingerprint> offered{s256};
    EXPECT_TRUE(cd::fingerprint_matches(offered, cert.der()));
    offered.push_back(s512);
    EXPECT_TRUE(cd::fingerprint_matches(offered, cert.der()));
    // A wrong sha-512 next to a right sha-1: RFC 8122 §5 checks only the strongest hash set.
    auto wrong = s512;
    wrong.digest[0] ^= std::byte{1};
    EXPECT_FALSE(cd::fingerprint_matches(std::vector<cd::fingerprint>{s1, wrong}, cert.der()));
    EXPECT_FALSE(cd::fingerprint_matches({}, cert.der()));
    EXPECT_EQ(cd::parse_fingerprint(cert.sdp_fingerprint()).value(), s256);
}

// ---- a=setup, a=tls-id ----------------------------------------------------------------------------

TEST(Setup, RolesFromOfferAndAnswer) {
    using cd::setup_attr;
    EXPECT_EQ(cd::parse_setup("ACTPASS").value(), setup_attr::actpass);
    EXPECT_FALSE(cd::parse_setup("both"));
    EXPECT_EQ(cd::answer_setup(setup_attr::actpass), setup_attr::active);
    EXPECT_EQ(cd::answer_setup(setup_attr::active), setup_attr::passive);
    EXPECT_EQ(cd::answer_setup(setup_attr::passive), setup_attr::active);
    // Offerer (actpass) whose peer answered active is the DTLS server.
    EXPECT_EQ(cd::negotiate_role(setup_attr::actpass, setup_attr::active).value(), cd::dtls_role::server);
    EXPECT_EQ(cd::negotiate_role(setup_attr::actpass, setup_attr::passive).value(), cd::dtls_role::client);
    EXPECT_EQ(cd::negotiate_role(setup_attr::active, setup_attr::actpass).value(), cd::dtls_role::client);
    EXPECT_EQ(cd::negotiate_role(setup_attr::passive, setup_attr::actpass).value(), cd::dtls_role::server);
    EXPECT_FALSE(cd::negotiate_role(setup_attr::active, setup_attr::active));
    EXPECT_FALSE(cd::negotiate_role(setup_attr::actpass, setup_attr::actpass));
    EXPECT_FALSE(cd::negotiate_role(setup_attr::holdconn, setup_attr::active));
}

TEST(TlsId, MakeValidateDecide) {
    auto a = cd::make_tls_id().value(), b = cd::make_tls_id().value();
    EXPECT_TRUE(cd::valid_tls_id(a));
    EXPECT_NE(a, b);
    EXPECT_FALSE(cd::valid_tls_id("short"));
    EXPECT_FALSE(cd::valid_tls_id(std::string(20, '!')));
    using act = cd::association_action;
    EXPECT_EQ(cd::tls_id_action(std::nullopt, a).value(), act::new_association);
    EXPECT_EQ(cd::tls_id_action(a, a).value(), act::keep);
    EXPECT_EQ(cd::tls_id_action(a, b).value(), act::new_association);
    EXPECT_EQ(cd::tls_id_action(a, std::nullopt).value(), act::keep);
    EXPECT_FALSE(cd::tls_id_action(a, std::string_view("bad id")));
}

// ---- profiles, use_srtp, key split ------------------------------------------------------------

TEST(Profiles, NamesAndLists) {
    EXPECT_EQ(cd::openssl_profile_list(cd::default_profiles()).value(),
              "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32");
    EXPECT_FALSE(cd::openssl_profile_list({}));
    const suite dup[] = {suite::aead_aes_128_gcm, suite::aead_aes_128_gcm};
    EXPECT_FALSE(cd::openssl_profile_list(dup));
    const suite sdes_only[] = {suite::aes_256_cm_hmac_sha1_80};
    EXPECT_FALSE(cd::openssl_profile_list(sdes_only));
    const suite null80[] = {suite::null_hmac_sha1_80}; // registered, but OpenSSL 3.0 lacks it
    auto e = cd::openssl_profile_list(null80);
    ASSERT_FALSE(e);
    EXPECT_NE(e.err().message.find("OpenSSL 3.0"), std::string::npos);
    EXPECT_EQ(cd::keying_material_len(suite::aes_cm_128_hmac_sha1_80), 60u);
    EXPECT_EQ(cd::keying_material_len(suite::aead_aes_128_gcm), 56u); // RFC 7714 §12
    EXPECT_EQ(cd::keying_material_len(suite::aead_aes_256_gcm), 88u);
}

TEST(Profiles, NullProfilesAreAcceptedAndRouted) {
    const suite nulls[] = {suite::null_hmac_sha1_80, suite::null_hmac_sha1_32};
    EXPECT_TRUE(cd::check_profile_list(nulls));
    EXPECT_FALSE(cd::check_profile_list({}));
    const suite dup[] = {suite::null_hmac_sha1_80, suite::null_hmac_sha1_80};
    EXPECT_FALSE(cd::check_profile_list(dup));
    const suite f8[] = {suite::f8_128_hmac_sha1_80};
    EXPECT_FALSE(cd::check_profile_list(f8));
    EXPECT_EQ(cd::rfc_profile_name(suite::null_hmac_sha1_32), "SRTP_NULL_HMAC_SHA1_32");
    EXPECT_EQ(cd::suite_from_profile_id(0x0005), suite::null_hmac_sha1_80);
    for (auto s : cd::default_profiles()) EXPECT_FALSE(cd::is_null_profile(s)) << "NULL is never a default";
    // Client role: NULL without GCM -> GnuTLS; NULL with GCM -> OpenSSL without the NULL entries.
    const suite null_cm[] = {suite::null_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_80};
    EXPECT_EQ(cd::client_stack(null_cm), cd::dtls_stack::gnutls);
    EXPECT_FALSE(cd::client_role_drops_null(null_cm));
    const suite null_gcm[] = {suite::null_hmac_sha1_80, suite::aead_aes_256_gcm, suite::aes_cm_128_hmac_sha1_32};
    EXPECT_EQ(cd::client_stack(null_gcm), cd::dtls_stack::openssl);
    EXPECT_TRUE(cd::client_role_drops_null(null_gcm));
    EXPECT_EQ(cd::profiles_for(cd::dtls_stack::openssl, null_gcm),
              (std::vector{suite::aead_aes_256_gcm, suite::aes_cm_128_hmac_sha1_32}));
    EXPECT_EQ(cd::client_stack(cd::default_profiles()), cd::dtls_stack::openssl);
    EXPECT_FALSE(cd::client_role_drops_null(cd::default_profiles()));
}

// A DTLS 1.2 ClientHello datagram: record header, handshake header, body with `exts`.
bytes client_hello_datagram(const bytes& exts, bool with_ext_block = true) {
    bytes body;
    auto put = [&](std::initializer_list<int> v) {
        for (int x : v) body.push_back(static_cast<std::byte>(x));
    };
    put({0xfe, 0xfd});
    for (int i = 0; i < 32; ++i) body.push_back(static_cast<std::byte>(i + 1)); // random
    put({0});                                                                   // session_id
    put({0});                                                                   // cookie
    put({0, 2, 0xc0, 0x2b});                                                    // one cipher suite
    put({1, 0});                                                                // null compression
    if (with_ext_block) {
        put({static_cast<int>(exts.size() >> 8), static_cast<int>(exts.size() & 0xff)});
        body.insert(body.end(), exts.begin(), exts.end());
    }
    const auto n = body.size();
    bytes hs{std::byte{1}, std::byte(n >> 16), std::byte((n >> 8) & 0xff), std::byte(n & 0xff), std::byte{0},
             std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte(n >> 16), std::byte((n >> 8) & 0xff),
             std::byte(n & 0xff)};
    hs.insert(hs.end(), body.begin(), body.end());
    const auto m = hs.size();
    bytes rec{std::byte{22}, std::byte{0xfe}, std::byte{0xff}, std::byte{0}, std::byte{0}, std::byte{0},
              std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte(m >> 8),
              std::byte(m & 0xff)};
    rec.insert(rec.end(), hs.begin(), hs.end());
    return rec;
}

bytes use_srtp_ext(std::initializer_list<int> profiles) {
    bytes e{std::byte{0}, std::byte{14}, std::byte{0}, std::byte(3 + 2 * profiles.size()), std::byte{0},
            std::byte(2 * profiles.size())};
    for (int p : profiles) {
        e.push_back(std::byte(p >> 8));
        e.push_back(std::byte(p & 0xff));
    }
    e.push_back(std::byte{0}); // no MKI
    return e;
}

TEST(ClientHello, ReadsUseSrtpAndRandom) {
    bytes other{std::byte{0}, std::byte{23}, std::byte{0}, std::byte{0}}; // extended_master_secret, empty
    bytes exts = other;
    const auto us = use_srtp_ext({0x0002, 0x0005});
    exts.insert(exts.end(), us.begin(), us.end());
    const auto d = client_hello_datagram(exts);
    auto h = cd::parse_client_hello(d);
    ASSERT_TRUE(h) << h.err().message;
    ASSERT_TRUE(h->use_srtp);
    EXPECT_EQ(h->use_srtp->profiles, (std::vector<uint16_t>{0x0002, 0x0005}));
    EXPECT_EQ(h->random[0], std::byte{1});
    EXPECT_EQ(h->random[31], std::byte{32});
    // Every truncation fails cleanly (the record length then runs past the datagram).
    for (std::size_t n = 0; n < d.size(); ++n)
        EXPECT_FALSE(cd::parse_client_hello(std::span<const std::byte>(d.data(), n))) << n;
    // Server stack: our preference NULL_80 first -> GnuTLS with NULL_80; CM first -> OpenSSL.
    const suite null_first[] = {suite::null_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32};
    auto c = cd::server_stack(null_first, cd::profile_selection::server_preference, *h);
    EXPECT_EQ(c.stack, cd::dtls_stack::gnutls);
    EXPECT_EQ(c.profile, suite::null_hmac_sha1_80);
    const suite cm_first[] = {suite::aes_cm_128_hmac_sha1_32, suite::null_hmac_sha1_80};
    EXPECT_EQ(cd::server_stack(cm_first, cd::profile_selection::server_preference, *h).stack, cd::dtls_stack::openssl);
    EXPECT_EQ(cd::server_stack(cm_first, cd::profile_selection::client_preference, *h).stack, cd::dtls_stack::openssl);
    EXPECT_EQ(cd::server_stack(null_first, cd::profile_selection::server_preference, std::nullopt).stack,
              cd::dtls_stack::openssl);
}

TEST(ClientHello, RejectsWhatItCannotRead) {
    auto fails = [](bytes d, const char* what) {
        auto h = cd::parse_client_hello(d);
        ASSERT_FALSE(h);
        EXPECT_NE(h.err().message.find(what), std::string::npos) << h.err().message;
    };
    const auto good = client_hello_datagram(use_srtp_ext({5}));
    auto d = good;
    d[13 + 6] = std::byte{1}; // fragment_offset = 0x010000
    fails(d, "fragmented");
    d = good;
    d[0] = std::byte{23};
    fails(d, "not a handshake record");
    d = good;
    d[4] = std::byte{1};
    fails(d, "epoch");
    d = good;
    d[13] = std::byte{2};
    fails(d, "not a ClientHello");
    auto twice = use_srtp_ext({5});
    const auto more = use_srtp_ext({1});
    twice.insert(twice.end(), more.begin(), more.end());
    fails(client_hello_datagram(twice), "twice");
    bytes odd{std::byte{0}, std::byte{14}, std::byte{0}, std::byte{4}, std::byte{0}, std::byte{1}, std::byte{0},
              std::byte{0}};
    fails(client_hello_datagram(odd), "use_srtp");
    // No extension block at all: parsed, no use_srtp.
    auto none = cd::parse_client_hello(client_hello_datagram({}, false));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->use_srtp);
}

TEST(UseSrtp, ParsesAndRejects) {
    auto b = [](std::initializer_list<int> v) {
        bytes o;
        for (int x : v) o.push_back(static_cast<std::byte>(x));
        return o;
    };
    auto ok = cd::parse_use_srtp(b({0, 4, 0, 7, 0, 1, 0}));
    ASSERT_TRUE(ok) << ok.err().message;
    EXPECT_EQ(ok->profiles, (std::vector<uint16_t>{7, 1}));
    EXPECT_TRUE(ok->mki.empty());
    auto mki = cd::parse_use_srtp(b({0, 2, 0, 1, 2, 0xaa, 0xbb}));
    ASSERT_TRUE(mki);
    EXPECT_EQ(mki->mki.size(), 2u);
    EXPECT_FALSE(cd::parse_use_srtp(b({})));
    EXPECT_FALSE(cd::parse_use_srtp(b({0})));
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 0, 0})));       // empty list
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 3, 0, 1, 0, 0}))); // odd length
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 4, 0, 1})));    // list runs past the end
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 2, 0, 1})));    // no MKI length
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 2, 0, 1, 3, 1}))); // MKI runs past the end
    EXPECT_FALSE(cd::parse_use_srtp(b({0, 2, 0, 1, 0, 9}))); // trailing byte
}

TEST(UseSrtp, SelectionPolicies) {
    const suite ours[] = {suite::aead_aes_128_gcm, suite::aes_cm_128_hmac_sha1_80};
    const uint16_t offer[] = {0x0002, 0x0001, 0x0007, 0xff01};
    EXPECT_EQ(cd::select_profiles(ours, offer, cd::profile_selection::server_preference),
              (std::vector<suite>{suite::aead_aes_128_gcm, suite::aes_cm_128_hmac_sha1_80}));
    EXPECT_EQ(cd::select_profiles(ours, offer, cd::profile_selection::client_preference),
              (std::vector<suite>{suite::aes_cm_128_hmac_sha1_80, suite::aead_aes_128_gcm}));
    const uint16_t none[] = {0x0002};
    EXPECT_TRUE(cd::select_profiles(ours, none, cd::profile_selection::server_preference).empty());
}

TEST(KeySplit, Rfc5764Layout) {
    // material = 0,1,2,...: client_key | server_key | client_salt | server_salt
    const auto m = seq_bytes(60);
    auto as_client = cd::split_keying_material(suite::aes_cm_128_hmac_sha1_80, m, true).value();
    bytes ck(m.begin(), m.begin() + 16), sk(m.begin() + 16, m.begin() + 32);
    ck.insert(ck.end(), m.begin() + 32, m.begin() + 46);
    sk.insert(sk.end(), m.begin() + 46, m.begin() + 60);
    EXPECT_TRUE(as_client.local.key_salt.equals(ck));
    EXPECT_TRUE(as_client.remote.key_salt.equals(sk));
    EXPECT_EQ(as_client.protocol, "dtls-srtp");
    auto as_server = cd::split_keying_material(suite::aes_cm_128_hmac_sha1_80, m, false).value();
    EXPECT_TRUE(as_server.local.key_salt.equals(sk));
    EXPECT_TRUE(as_server.remote.key_salt.equals(ck));
    const auto g = seq_bytes(88, 100);
    auto gcm = cd::split_keying_material(suite::aead_aes_256_gcm, g, true).value();
    bytes gck(g.begin(), g.begin() + 32);
    gck.insert(gck.end(), g.begin() + 64, g.begin() + 76);
    EXPECT_TRUE(gcm.local.key_salt.equals(gck));
    EXPECT_EQ(cd::split_keying_material(suite::aead_aes_256_gcm, m, true).err().code, errc::bad_key_length);
    EXPECT_FALSE(cd::split_keying_material(suite::aes_256_cm_hmac_sha1_80, m, true));
}

// ---- certificate store -----------------------------------------------------------------------------

TEST(Certificate, CreatedOnceWith0600AndReloaded) {
    temp_dir d;
    auto first = cd::certificate::load_or_create(d / "dtls.crt", d / "dtls.key");
    ASSERT_TRUE(first) << first.err().message;
    struct stat st {};
    ASSERT_EQ(::stat((d / "dtls.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((d / "dtls.crt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto again = cd::certificate::load_or_create(d / "dtls.crt", d / "dtls.key");
    ASSERT_TRUE(again) << again.err().message;
    EXPECT_EQ(first->sdp_fingerprint(), again->sdp_fingerprint()) << "a restart keeps the fingerprint";
    // The openssl CLI reads the files we wrote and computes the same fingerprint.
    int rc = 0;
    auto out = run_capture({"openssl", "x509", "-in", (d / "dtls.crt").string(), "-noout", "-fingerprint", "-sha256"}, &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find(first->sdp_fingerprint().substr(8)), std::string::npos) << out;
    out = run_capture({"openssl", "pkey", "-in", (d / "dtls.key").string(), "-noout", "-text"}, &rc);
    EXPECT_NE(out.find("prime256v1"), std::string::npos);
}

TEST(Certificate, RefusesUnsafeOrMismatchedFiles) {
    temp_dir d;
    ASSERT_TRUE(cd::certificate::load_or_create(d / "a.crt", d / "a.key"));
    ASSERT_TRUE(cd::certificate::load_or_create(d / "b.crt", d / "b.key"));
    ::chmod((d / "a.key").c_str(), 0644);
    auto loose = cd::certificate::load(d / "a.crt", d / "a.key");
    ASSERT_FALSE(loose);
    EXPECT_EQ(loose.err().code, errc::invalid_argument);
    ::chmod((d / "a.key").c_str(), 0600);
    EXPECT_FALSE(cd::certificate::load(d / "a.crt", d / "b.key")); // key of another certificate
    EXPECT_FALSE(cd::certificate::load_or_create(d / "a.crt", d / "missing.key")); // never replace half a pair
    EXPECT_EQ(cd::certificate::load(d / "nope.crt", d / "nope.key").err().code, errc::io_error);
    // An RSA key is not what we generate or accept.
    int rc = 0;
    run_capture({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", (d / "r.key").string(), "-out",
                 (d / "r.crt").string(), "-days", "1", "-subj", "/CN=r"},
                &rc);
    ASSERT_EQ(rc, 0);
    ::chmod((d / "r.key").c_str(), 0600);
    EXPECT_FALSE(cd::certificate::load(d / "r.crt", d / "r.key"));
}

// ---- endpoint, in memory ----------------------------------------------------------------------------

struct pair_fixture {
    std::shared_ptr<const cd::context> a_ctx, b_ctx;
    std::unique_ptr<cd::endpoint> client, server;

    explicit pair_fixture(cd::endpoint_config base = {}) {
        auto ca = cd::certificate::generate().value(), cb = cd::certificate::generate().value();
        a_ctx = cd::context::create(ca).value();
        b_ctx = cd::context::create(cb).value();
        auto cc = base, sc = base;
        cc.role = cd::dtls_role::client;
        cc.remote_fingerprints = fingerprints(cb.sdp_fingerprint());
        sc.role = cd::dtls_role::server;
        sc.remote_fingerprints = fingerprints(ca.sdp_fingerprint());
        client = cd::endpoint::create(a_ctx, cc).value();
        server = cd::endpoint::create(b_ctx, sc).value();
    }
};

struct pair_outcome {
    std::optional<cd::handshake_done> client_done, server_done;
    std::optional<cd::handshake_failed> client_failed, server_failed;
    bool finished() const { return (client_done || client_failed) && (server_done || server_failed); }
};

void collect(cd::endpoint& ep, std::optional<cd::handshake_done>& done, std::optional<cd::handshake_failed>& failed) {
    while (auto e = ep.poll_event()) {
        if (auto* d = std::get_if<cd::handshake_done>(&*e)) done = std::move(*d);
        if (auto* f = std::get_if<cd::handshake_failed>(&*e)) failed = *f;
    }
}

/// Moves datagrams between two endpoints, dropping with probability `loss`, firing timers.
void shuttle(cd::endpoint& a, cd::endpoint& b, std::mt19937& rng, double loss, pair_outcome& o) {
    std::bernoulli_distribution drop(loss);
    const auto now = steady_clock::now();
    while (auto d = a.poll_datagram())
        if (!drop(rng)) b.receive(*d, now);
    while (auto d = b.poll_datagram())
        if (!drop(rng)) a.receive(*d, now);
    for (auto* ep : {&a, &b})
        if (auto t = ep->next_timeout(); t && now >= *t) ep->on_timer(now);
    collect(a, o.client_done, o.client_failed);
    collect(b, o.server_done, o.server_failed);
}

pair_outcome run_pair(pair_fixture& f, double loss, milliseconds limit, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    pair_outcome o;
    EXPECT_TRUE(f.server->start(steady_clock::now()));
    EXPECT_TRUE(f.client->start(steady_clock::now()));
    const auto end = steady_clock::now() + limit;
    while (!o.finished() && steady_clock::now() < end) {
        shuttle(*f.client, *f.server, rng, loss, o);
        std::this_thread::sleep_for(1ms);
    }
    return o;
}

TEST(Endpoint, CreateValidatesTheConfiguration) {
    auto ctx = cd::context::create(cd::certificate::generate().value()).value();
    cd::endpoint_config c;
    EXPECT_FALSE(cd::endpoint::create(ctx, c)) << "no remote fingerprint";
    c.remote_fingerprints = fingerprints(cd::certificate::generate().value().sdp_fingerprint());
    EXPECT_TRUE(cd::endpoint::create(ctx, c));
    auto bad = c;
    bad.mtu = 100;
    EXPECT_FALSE(cd::endpoint::create(ctx, bad));
    bad = c;
    bad.profiles = {suite::f8_128_hmac_sha1_80};
    EXPECT_FALSE(cd::endpoint::create(ctx, bad));
    bad = c;
    bad.timers.backoff = 0;
    EXPECT_FALSE(cd::endpoint::create(ctx, bad));
    bad = c;
    bad.timers.max_retransmit = 1ms;
    EXPECT_FALSE(cd::endpoint::create(ctx, bad));
    EXPECT_FALSE(cd::endpoint::create(nullptr, c));
}

TEST(Endpoint, PairAgreesOnKeysMirrored) {
    pair_fixture f;
    auto o = run_pair(f, 0.0, 5s);
    ASSERT_TRUE(o.client_done && o.server_done);
    EXPECT_EQ(o.client_done->keying.suite, suite::aead_aes_128_gcm); // first of default_profiles()
    EXPECT_TRUE(o.client_done->keying.local.key_salt.equals(o.server_done->keying.remote.key_salt.bytes()));
    EXPECT_TRUE(o.client_done->keying.remote.key_salt.equals(o.server_done->keying.local.key_salt.bytes()));
    EXPECT_FALSE(o.client_done->keying.local.key_salt.equals(o.client_done->keying.remote.key_salt.bytes()));
    EXPECT_EQ(f.client->state(), cd::endpoint_state::connected);
    EXPECT_EQ(f.server->selected_profile(), suite::aead_aes_128_gcm);
}

TEST(Endpoint, CompletesWithThirtyPercentLoss) {
    cd::endpoint_config c;
    c.timers.initial_retransmit = 10ms;
    c.timers.max_retransmit = 80ms;
    for (uint32_t seed = 1; seed <= 3; ++seed) {
        pair_fixture f(c);
        auto o = run_pair(f, 0.30, 15s, seed);
        ASSERT_TRUE(o.client_done && o.server_done) << "seed " << seed;
        EXPECT_TRUE(o.client_done->keying.local.key_salt.equals(o.server_done->keying.remote.key_salt.bytes()));
    }
}

TEST(Endpoint, RetransmitsWithConfiguredTimerAndTimesOut) {
    auto ctx = cd::context::create(cd::certificate::generate().value()).value();
    cd::endpoint_config c;
    c.role = cd::dtls_role::client;
    c.remote_fingerprints = fingerprints(cd::certificate::generate().value().sdp_fingerprint());
    c.timers.initial_retransmit = 30ms;
    c.timers.max_retransmit = 60ms;
    c.timers.handshake_timeout = 300ms;
    auto ep = cd::endpoint::create(ctx, c).value();
    const auto t0 = steady_clock::now();
    ASSERT_TRUE(ep->start(t0));
    auto hello = ep->poll_datagram();
    ASSERT_TRUE(hello);
    EXPECT_EQ(cp::classify_rfc7983(*hello), cp::rfc7983_class::dtls);
    auto first = ep->next_timeout();
    ASSERT_TRUE(first);
    EXPECT_LE(*first - t0, 35ms);
    std::size_t sent = 1;
    std::optional<cd::handshake_failed> failed;
    while (!failed && steady_clock::now() < t0 + 2s) {
        auto t = ep->next_timeout();
        ASSERT_TRUE(t);
        std::this_thread::sleep_until(*t);
        ep->on_timer(steady_clock::now());
        while (auto d = ep->poll_datagram()) {
            ++sent;
            // Same record type and handshake message; only the record sequence number moves on.
            ASSERT_EQ(d->size(), hello->size());
            EXPECT_TRUE(std::equal(d->begin() + 13, d->end(), hello->begin() + 13)) << "a retransmission repeats the flight";
            EXPECT_EQ((*d)[0], std::byte{22});
        }
        while (auto e = ep->poll_event())
            if (auto* f = std::get_if<cd::handshake_failed>(&*e)) failed = *f;
    }
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->reason, cd::failure::handshake_timeout);
    // 30 + 60 + 60 + 60 ... ms within 300 ms: at least 3 retransmissions.
    EXPECT_GE(sent, 4u);
    EXPECT_LE(sent, 12u);
    EXPECT_EQ(ep->state(), cd::endpoint_state::failed);
    EXPECT_FALSE(ep->next_timeout());
}

TEST(Endpoint, GarbageDatagramsNeverYieldKeys) {
    pair_fixture f;
    ASSERT_TRUE(f.server->start(steady_clock::now()));
    std::mt19937 rng(7);
    for (int i = 0; i < 500; ++i) {
        bytes d = random_bytes(rng, 1 + rng() % 300);
        d[0] = static_cast<std::byte>(20 + rng() % 44); // DTLS range, so it reaches OpenSSL
        if (i % 3 == 0 && d.size() > 13) d[0] = std::byte{22};
        f.server->receive(d, steady_clock::now());
        while (auto e = f.server->poll_event()) EXPECT_FALSE(std::holds_alternative<cd::handshake_done>(*e));
        while (f.server->poll_datagram()) {
        }
        if (f.server->state() == cd::endpoint_state::failed) {
            ASSERT_TRUE(f.server->restart(steady_clock::now()));
        }
    }
    // Still able to complete a real handshake afterwards.
    ASSERT_TRUE(f.server->restart(steady_clock::now()));
    ASSERT_TRUE(f.client->start(steady_clock::now()));
    pair_outcome o;
    for (int i = 0; i < 200 && !o.finished(); ++i) shuttle(*f.client, *f.server, rng, 0.0, o);
    EXPECT_TRUE(o.client_done && o.server_done);
}

TEST(Endpoint, ClientRestartRekeys) {
    pair_fixture f;
    auto o = run_pair(f, 0.0, 5s);
    ASSERT_TRUE(o.client_done && o.server_done);
    ASSERT_TRUE(f.client->restart(steady_clock::now()));
    std::mt19937 rng(3);
    pair_outcome o2;
    for (int i = 0; i < 200 && !o2.finished(); ++i) shuttle(*f.client, *f.server, rng, 0.0, o2);
    ASSERT_TRUE(o2.client_done && o2.server_done);
    EXPECT_EQ(o2.client_done->association, 2u);
    EXPECT_EQ(o2.server_done->association, 2u);
    EXPECT_TRUE(o2.client_done->keying.local.key_salt.equals(o2.server_done->keying.remote.key_salt.bytes()));
    EXPECT_FALSE(o2.client_done->keying.local.key_salt.equals(o.client_done->keying.local.key_salt.bytes()));
}

// ---- GnuTLS path (ADR 0014), in memory ------------------------------------------------------------

TEST(Endpoint, NullProfileRunsOnGnuTLSBothSidesAndRekeys) {
    // Client: NULL and CM, no GCM -> GnuTLS; server: the ClientHello's best common profile is
    // NULL_32 -> GnuTLS. Loss exercises GnuTLS's retransmission through on_timer().
    cd::endpoint_config base;
    base.profiles = {suite::null_hmac_sha1_32, suite::aes_cm_128_hmac_sha1_80, suite::null_hmac_sha1_80};
    base.timers.initial_retransmit = 50ms;
    pair_fixture f(base);
    auto o = run_pair(f, 0.3, 10s, 7);
    ASSERT_TRUE(o.client_done && o.server_done) << (o.client_failed ? o.client_failed->message : "")
                                                << (o.server_failed ? o.server_failed->message : "");
    EXPECT_EQ(f.client->stack(), cd::dtls_stack::gnutls);
    EXPECT_EQ(f.server->stack(), cd::dtls_stack::gnutls);
    EXPECT_EQ(o.server_done->keying.suite, suite::null_hmac_sha1_32);
    EXPECT_EQ(f.client->selected_profile(), suite::null_hmac_sha1_32);
    EXPECT_TRUE(o.client_done->keying.local.key_salt.equals(o.server_done->keying.remote.key_salt.bytes()));
    EXPECT_TRUE(o.client_done->keying.remote.key_salt.equals(o.server_done->keying.local.key_salt.bytes()));
    // A new ClientHello on the same endpoints: a second association, new keys.
    ASSERT_TRUE(f.client->restart(steady_clock::now()));
    std::mt19937 rng(3);
    pair_outcome o2;
    for (int i = 0; i < 400 && !o2.finished(); ++i) {
        shuttle(*f.client, *f.server, rng, 0.0, o2);
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(o2.client_done && o2.server_done);
    EXPECT_EQ(o2.server_done->association, 2u);
    EXPECT_FALSE(o2.client_done->keying.local.key_salt.equals(o.client_done->keying.local.key_salt.bytes()));
    // close_notify through GnuTLS.
    f.client->close();
    bool closed = false;
    while (auto d = f.client->poll_datagram()) f.server->receive(*d, steady_clock::now());
    while (auto e = f.server->poll_event()) closed |= std::holds_alternative<cd::closed>(*e);
    EXPECT_TRUE(closed);
}

TEST(Endpoint, OpenSSLClientWithGcmAndNullMeetsGnuTLSFreeServer) {
    // The client's list has GCM and NULL: OpenSSL without NULL. The server prefers NULL but the
    // offer lacks it, so GCM wins on OpenSSL.
    cd::endpoint_config base;
    base.profiles = {suite::null_hmac_sha1_80, suite::aead_aes_128_gcm};
    pair_fixture f(base);
    auto o = run_pair(f, 0.0, 5s);
    ASSERT_TRUE(o.client_done && o.server_done);
    EXPECT_EQ(o.server_done->keying.suite, suite::aead_aes_128_gcm);
    EXPECT_EQ(f.client->stack(), cd::dtls_stack::openssl);
    EXPECT_EQ(f.server->stack(), cd::dtls_stack::openssl);
}

TEST(Endpoint, GnuTLSServerTimesOutWithoutAFinishedClient) {
    // A ClientHello offering NULL reaches the server, nothing else: the handshake timeout fires.
    cd::endpoint_config base;
    base.profiles = {suite::null_hmac_sha1_80};
    base.timers.initial_retransmit = 20ms;
    base.timers.handshake_timeout = 300ms;
    pair_fixture f(base);
    ASSERT_TRUE(f.client->start(steady_clock::now()));
    ASSERT_TRUE(f.server->start(steady_clock::now()));
    auto hello = f.client->poll_datagram();
    ASSERT_TRUE(hello);
    f.server->receive(*hello, steady_clock::now());
    EXPECT_EQ(f.server->stack(), cd::dtls_stack::gnutls);
    std::size_t flights = 0;
    std::optional<cd::handshake_failed> failed;
    const auto end = steady_clock::now() + 3s;
    while (!failed && steady_clock::now() < end) {
        const auto now = steady_clock::now();
        if (auto t = f.server->next_timeout(); t && now >= *t) f.server->on_timer(now);
        while (f.server->poll_datagram()) ++flights;
        while (auto e = f.server->poll_event())
            if (auto* x = std::get_if<cd::handshake_failed>(&*e)) failed = *x;
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->reason, cd::failure::handshake_timeout);
    EXPECT_GE(flights, 2u) << "the server flight and at least one retransmission";
}

TEST(Endpoint, CloseNotifyReachesThePeer) {
    pair_fixture f;
    auto o = run_pair(f, 0.0, 5s);
    ASSERT_TRUE(o.client_done && o.server_done);
    f.client->close();
    bool closed = false;
    while (auto d = f.client->poll_datagram()) f.server->receive(*d, steady_clock::now());
    while (auto e = f.server->poll_event()) closed |= std::holds_alternative<cd::closed>(*e);
    EXPECT_TRUE(closed);
    EXPECT_EQ(f.server->state(), cd::endpoint_state::closed);
}

TEST(Endpoint, TwoHundredConcurrentHandshakes) {
    constexpr int n = 200;
    auto ca = cd::certificate::generate().value(), cb = cd::certificate::generate().value();
    auto a_ctx = cd::context::create(ca).value(), b_ctx = cd::context::create(cb).value();
    std::vector<std::unique_ptr<cd::endpoint>> clients, servers;
    cd::endpoint_config cc, sc;
    cc.role = cd::dtls_role::client;
    cc.remote_fingerprints = fingerprints(cb.sdp_fingerprint());
    sc.role = cd::dtls_role::server;
    sc.remote_fingerprints = fingerprints(ca.sdp_fingerprint());
    for (int i = 0; i < n; ++i) {
        clients.push_back(cd::endpoint::create(a_ctx, cc).value());
        servers.push_back(cd::endpoint::create(b_ctx, sc).value());
        ASSERT_TRUE(servers.back()->start(steady_clock::now()));
        ASSERT_TRUE(clients.back()->start(steady_clock::now()));
    }
    std::vector<pair_outcome> o(n);
    std::mt19937 rng(5);
    // Interleaved: every round advances every pair by one flight.
    for (int round = 0; round < 20; ++round)
        for (int i = 0; i < n; ++i) shuttle(*clients[static_cast<std::size_t>(i)], *servers[static_cast<std::size_t>(i)], rng, 0.0, o[static_cast<std::size_t>(i)]);
    int ok = 0;
    for (const auto& x : o) ok += (x.client_done && x.server_done) ? 1 : 0;
    EXPECT_EQ(ok, n);
}

TEST(HandshakeLimiter, PerSourceAndTotal) {
    cd::handshake_limiter l(2, 3);
    EXPECT_TRUE(l.try_acquire("10.0.0.1"));
    EXPECT_TRUE(l.try_acquire("10.0.0.1"));
    EXPECT_FALSE(l.try_acquire("10.0.0.1"));
    EXPECT_TRUE(l.try_acquire("10.0.0.2"));
    EXPECT_FALSE(l.try_acquire("10.0.0.3")) << "total reached";
    l.release("10.0.0.1");
    EXPECT_EQ(l.in_progress("10.0.0.1"), 1u);
    EXPECT_TRUE(l.try_acquire("10.0.0.3"));
    l.release("never-seen");
    EXPECT_EQ(l.in_progress(), 3u);
}

} // namespace
} // namespace srtpo::test::dtls
