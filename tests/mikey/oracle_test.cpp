// MIKEY crypto against mikey_oracle.py, an independent reference written in Python from
// RFC 3830 §4.1-4.2 and RFC 4650 with python3-cryptography. It is an oracle, not a
// third-party MIKEY peer (none with crypto is packaged): it catches our own misreadings only
// where the two readings differ. Checked: PRF and §4.1.3/§4.1.4 derivations, AES-CM KEMAC
// encryption, HMAC, and whole exchanges both ways (Python initiator -> our responder, our
// initiator -> Python responder) in PSK, DHHMAC and signed DH (every DH group) and public-key
// envelope modes.
#include "test_pki.hpp"

#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/cp/mikey/message_crypto.hpp>
#include <srtpo/cp/mikey/prf.hpp>

#include "hex_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace srtpo::cp::mikey;
using mikey_test::hex;
using mikey_test::unhex;
using json = nlohmann::json;

namespace {

const std::string psk_hex = "000102030405060708090a0b0c0d0e0f10111213";


json oracle(const std::string& args) {
    const char* path = std::getenv("SRTPO_MIKEY_ORACLE");
    EXPECT_NE(path, nullptr);
    const std::string cmd = std::string("timeout 30 /usr/bin/python3 ") + (path ? path : "mikey_oracle.py") + " " + args;
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    const int rc = p ? ::pclose(p) : -1;
    EXPECT_EQ(rc, 0) << cmd;
    return json::parse(out.empty() ? "{}" : out);
}

responder_config rcfg(replay_cache& c) {
    responder_config r;
    r.cred.psk = secret_bytes(unhex(psk_hex));
    r.replay = &c;
    return r;
}

initiator_config icfg(mode m) {
    initiator_config c;
    c.m = m;
    c.cred.psk = secret_bytes(unhex(psk_hex));
    c.streams = {{0x4000, 0}, {0x4001, 9}};
    return c;
}

void expect_keys(const std::vector<crypto_session>& s, const json& py) {
    ASSERT_EQ(s.size(), py.size());
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(hex(s[i].keying.local.key_salt.bytes()), py[i].get<std::string>()) << "cs " << i + 1;
}

} // namespace

TEST(MikeyOracle, PrfAndDerivations) {
    const json k = oracle("kat");
    ASSERT_GE(k["prf"].size(), 50u);
    for (const auto& v : k["prf"]) {
        auto r = prf(unhex(v["inkey"]), unhex(v["label"]), v["outlen"].get<std::size_t>());
        ASSERT_TRUE(r);
        EXPECT_EQ(hex(r->view()), v["out"].get<std::string>()) << "inkey " << v["inkey"] << " outlen " << v["outlen"];
    }
    const auto& mk = k["msg_keys"];
    auto d = derive_message_keys(unhex(mk["psk"]), mk["csb"].get<uint32_t>(), unhex(mk["rand"]));
    ASSERT_TRUE(d);
    EXPECT_EQ(hex(d->encr.view()), mk["encr"].get<std::string>());
    EXPECT_EQ(hex(d->salt.view()), mk["salt"].get<std::string>());
    EXPECT_EQ(hex(d->auth.view()), mk["auth"].get<std::string>());
    auto iv = kemac_iv(d->salt.view(), mk["csb"].get<uint32_t>(), unhex(k["aes_cm"]["t"]));
    ASSERT_TRUE(iv);
    auto ct = aes_cm_128(d->encr.view(), *iv, unhex(k["aes_cm"]["plain"]));
    ASSERT_TRUE(ct);
    EXPECT_EQ(hex(ct->view()), k["aes_cm"]["cipher"].get<std::string>());
    auto mac = hmac_sha1(d->auth.view(), unhex(k["aes_cm"]["plain"]));
    EXPECT_EQ(hex(*mac), k["hmac"].get<std::string>());
    auto tek = derive_tek(unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), 2,
                          mk["csb"].get<uint32_t>(), unhex(mk["rand"]), 16, 14);
    ASSERT_TRUE(tek);
    EXPECT_EQ(hex(tek->tek.view()) + hex(tek->salt.view()), k["tek"].get<std::string>());
}

TEST(MikeyOracle, PythonPskInitiatorToOurResponder) {
    const json i = oracle("psk-init " + psk_hex + " 3");
    replay_cache cache;
    responder resp(rcfg(cache));
    auto msg = base64_decode(i["i_message"].get<std::string>());
    ASSERT_TRUE(msg);
    auto r = resp.handle(*msg, std::chrono::system_clock::now());
    ASSERT_TRUE(r.ok()) << r.error->message;
    expect_keys(r.sessions, i["tek_salt"]);
    // Our verification message, checked by the reference.
    const json v = oracle("psk-verify " + psk_hex + " " + i["i_message"].get<std::string>() + " " + base64_encode(r.reply));
    EXPECT_TRUE(v["ok"].get<bool>());
    // And a wrong key on their side fails there too: the check can fail.
    const json w = oracle("psk-verify " + std::string(40, 'f') + " " + i["i_message"].get<std::string>() + " " + base64_encode(r.reply));
    EXPECT_FALSE(w["ok"].get<bool>());
}

TEST(MikeyOracle, OurPskInitiatorToPythonResponder) {
    for (auto tr : {key_data_type::tgk, key_data_type::tek_salt}) {
        auto c = icfg(mode::psk);
        c.transport = tr;
        auto in = initiator::start(c, std::chrono::system_clock::now());
        ASSERT_TRUE(in);
        const json r = oracle("psk-respond " + psk_hex + " " + base64_encode(in->i_message()));
        ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
        auto rm = base64_decode(r["r_message"].get<std::string>());
        auto done = in->handle_response(*rm, std::chrono::system_clock::now());
        ASSERT_TRUE(done.ok()) << done.error->message;
        expect_keys(done.sessions, r["tek_salt"]);
    }
}

TEST(MikeyOracle, DhHmacBothWays) {
    for (int g = 0; g <= 2; ++g) {
        // Ours -> Python.
        auto c = icfg(mode::dhhmac);
        c.group = static_cast<dh_group>(g);
        auto in = initiator::start(c, std::chrono::system_clock::now());
        ASSERT_TRUE(in);
        const json r = oracle("dhhmac-respond " + psk_hex + " " + base64_encode(in->i_message()));
        ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
        auto done = in->handle_response(*base64_decode(r["r_message"].get<std::string>()), std::chrono::system_clock::now());
        ASSERT_TRUE(done.ok()) << "group " << g << ": " << done.error->message;
        expect_keys(done.sessions, r["tek_salt"]);

        // Python -> ours.
        const json i = oracle("dhhmac-init " + psk_hex + " " + std::to_string(g));
        replay_cache cache;
        responder resp(rcfg(cache));
        auto rr = resp.handle(*base64_decode(i["i_message"].get<std::string>()), std::chrono::system_clock::now());
        ASSERT_TRUE(rr.ok()) << rr.error->message;
        const json f = oracle("dhhmac-finish " + psk_hex + " " + i["i_message"].get<std::string>() + " " +
                              base64_encode(rr.reply) + " " + i["priv"].get<std::string>());
        ASSERT_TRUE(f["ok"].get<bool>()) << f.dump();
        expect_keys(rr.sessions, f["tek_salt"]);
    }
}

namespace {
/// PEM text to a 0600 temp file the Python reference reads; removed on destruction.
struct pem_file {
    std::string path;
    explicit pem_file(const std::string& text) {
        char tmpl[] = "/tmp/srtpo-mikey-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        path = tmpl;
        if (fd >= 0) {
            (void)!::write(fd, text.data(), text.size());
            ::close(fd);
        }
    }
    ~pem_file() { ::unlink(path.c_str()); }
};

/// Alice and Bob, made once per run (RSA key generation dominates otherwise).
struct identities {
    std::pair<std::string, std::string> alice = mikey_test::make_rsa_identity("alice");
    std::pair<std::string, std::string> bob = mikey_test::make_rsa_identity("bob");
    pem_file alice_key{alice.first}, alice_cert{alice.second}, bob_key{bob.first}, bob_cert{bob.second};
};
const identities& ids() {
    static const identities v;
    return v;
}
} // namespace

TEST(MikeyOracle, PublicKeyEnvelopeBothWays) {
    const auto& [alice, bob, alice_key, alice_cert, bob_key, bob_cert] = ids();
    // Ours -> Python (Bob): Python checks SIGN, CHASH, decrypts PKE and KEMAC, answers with V.
    auto c = icfg(mode::pk);
    c.cred.own_key = *signer::from_pem(alice.first, alice.second);
    c.cred.peer_cert = *cert_der_from_pem(bob.second);
    auto in = initiator::start(c, std::chrono::system_clock::now());
    ASSERT_TRUE(in) << in.err().message;
    const json r = oracle("pk-respond " + bob_key.path + " " + base64_encode(in->i_message()));
    ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
    auto done = in->handle_response(*base64_decode(r["r_message"].get<std::string>()), std::chrono::system_clock::now());
    ASSERT_TRUE(done.ok()) << done.error->message;
    expect_keys(done.sessions, r["tek_salt"]);

    // Python (Alice) -> ours (Bob).
    const json i = oracle("pk-init " + alice_key.path + " " + alice_cert.path + " " + bob_cert.path);
    replay_cache cache;
    responder_config rc = rcfg(cache);
    rc.cred.own_key = *signer::from_pem(bob.first, bob.second);
    rc.cred.trust = *trust_store::from_pem(alice.second);
    responder resp(rc);
    auto rr = resp.handle(*base64_decode(i["i_message"].get<std::string>()), std::chrono::system_clock::now());
    ASSERT_TRUE(rr.ok()) << rr.error->message;
    expect_keys(rr.sessions, i["tek_salt"]);
    const json v = oracle("pk-verify " + i["env"].get<std::string>() + " " + i["i_message"].get<std::string>() + " " +
                          base64_encode(rr.reply));
    EXPECT_TRUE(v["ok"].get<bool>());
}

TEST(MikeyOracle, SignedDhBothWays) {
    const auto& [alice, bob, alice_key, alice_cert, bob_key, bob_cert] = ids();
    for (int g = 0; g <= 2; ++g) {
        // Ours (Alice) -> Python (Bob): Python checks SIGNi, answers DHr/DHi signed by Bob.
        auto c = icfg(mode::dh);
        c.group = static_cast<dh_group>(g);
        c.cred.own_key = *signer::from_pem(alice.first, alice.second);
        c.cred.trust = *trust_store::from_pem(bob.second);
        auto in = initiator::start(c, std::chrono::system_clock::now());
        ASSERT_TRUE(in) << in.err().message;
        const json r = oracle("dh-respond " + bob_key.path + " " + bob_cert.path + " " + base64_encode(in->i_message()));
        ASSERT_TRUE(r["ok"].get<bool>()) << r.dump();
        auto done = in->handle_response(*base64_decode(r["r_message"].get<std::string>()), std::chrono::system_clock::now());
        ASSERT_TRUE(done.ok()) << "group " << g << ": " << done.error->message;
        expect_keys(done.sessions, r["tek_salt"]);

        // Python (Alice) -> ours (Bob).
        const json i = oracle("dh-init " + alice_key.path + " " + alice_cert.path + " " + std::to_string(g));
        replay_cache cache;
        responder_config rc = rcfg(cache);
        rc.cred.own_key = *signer::from_pem(bob.first, bob.second);
        rc.cred.trust = *trust_store::from_pem(alice.second);
        responder resp(rc);
        auto rr = resp.handle(*base64_decode(i["i_message"].get<std::string>()), std::chrono::system_clock::now());
        ASSERT_TRUE(rr.ok()) << rr.error->message;
        const json f = oracle("dh-finish " + i["i_message"].get<std::string>() + " " + base64_encode(rr.reply) + " " +
                              i["priv"].get<std::string>());
        ASSERT_TRUE(f["ok"].get<bool>()) << f.dump();
        expect_keys(rr.sessions, f["tek_salt"]);
    }
}
