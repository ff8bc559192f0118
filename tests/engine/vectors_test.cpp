// Known-answer tests: the RFCs' own vectors (tests/vectors/*.json, see README.md there), each
// run against every available backend (libsrtp's and IPsec-MB's habit: a crypto implementation
// is trusted only once it passes the published vectors).

#include "test_util.hpp"

#include "../../engine/src/backend/crypto_backend.hpp"

#include <srtpo/engine/kdf.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <new>

using namespace srtpo;
using namespace srtpo::test;
using engine::backend_kind;
using json = nlohmann::json;

namespace {

json load(const std::string& name) {
    const char* dir = std::getenv("SRTPO_VECTORS");
    std::ifstream f(std::string(dir ? dir : "tests/vectors") + "/" + name);
    if (!f) throw std::runtime_error("cannot open vector file " + name + " (set SRTPO_VECTORS)");
    return json::parse(f);
}

bytes hexf(const json& t, const char* field) { return from_hex(t.at(field).get<std::string>()); }

std::vector<backend_kind> backends() {
    std::vector<backend_kind> v;
    for (auto k : {backend_kind::openssl, backend_kind::ipsec_mb})
        if (engine::backend_available(k)) v.push_back(k);
    return v;
}

/// A key_block expanded for one backend, as a session would hold it.
struct expanded_keys {
    engine::detail::key_block kb;
    std::byte* mem = nullptr;
    expanded_keys(const engine::detail::crypto_backend& be, const engine::suite_traits& t, const engine::session_keys& raw) {
        kb.raw = raw;
        if (auto n = be.expanded_size(t)) {
            mem = static_cast<std::byte*>(::operator new[](n, std::align_val_t{64}));
            kb.expanded = mem;
        }
        auto r = be.expand(t, kb);
        EXPECT_TRUE(r) << (r ? "" : r.err().message);
    }
    ~expanded_keys() {
        if (mem) ::operator delete[](mem, std::align_val_t{64});
    }
};

class vectors : public ::testing::TestWithParam<backend_kind> {
protected:
    const engine::detail::crypto_backend& be() { return *engine::detail::get_backend(GetParam()); }
    std::unique_ptr<engine::detail::backend_worker> worker() {
        auto w = be().make_worker();
        EXPECT_TRUE(w);
        return std::move(w.value());
    }
};

/// RFC 3711 App. B.2 and RFC 6188 §7.1/§7.3: AES-CM keystream blocks at given counter offsets.
void check_keystream_file(vectors& self, const char* file, const engine::detail::crypto_backend& be,
                          engine::detail::backend_worker& w) {
    (void)self;
    const json doc1 = load(file);
    for (const auto& t : doc1.at("tests")) {
        SCOPED_TRACE(t.at("comment").get<std::string>());
        const auto key = hexf(t, "key");
        const auto suite = key.size() == 16   ? engine::suite::aes_cm_128_hmac_sha1_80
                           : key.size() == 24 ? engine::suite::aes_192_cm_hmac_sha1_80
                                              : engine::suite::aes_256_cm_hmac_sha1_80;
        const auto& tr = engine::traits(suite);
        if (!be.supports(tr)) continue;
        engine::session_keys raw;
        std::copy(key.begin(), key.end(), raw.k_e.begin());
        expanded_keys ek(be, tr, raw);
        std::size_t max_block = 0;
        for (const auto& b : t.at("keystream_blocks")) max_block = std::max<std::size_t>(max_block, b.at("block_index"));
        bytes ks((max_block + 1) * 16);
        engine::detail::crypto_job j;
        j.keys = &ek.kb;
        j.data = ks.data();
        j.data_len = static_cast<uint32_t>(ks.size());
        const auto iv = hexf(t, "iv");
        for (std::size_t i = 0; i < 16; ++i) j.iv[i] = static_cast<uint8_t>(iv[i]);
        w.keystream_xor(tr, {&j, 1});
        ASSERT_FALSE(j.failed);
        for (const auto& b : t.at("keystream_blocks")) {
            const std::size_t n = b.at("block_index");
            EXPECT_EQ(to_hex({ks.data() + 16 * n, 16}), b.at("keystream").get<std::string>()) << "block " << n;
        }
    }
}

TEST_P(vectors, aes_cm_keystream_rfc3711_b2) {
    auto w = worker();
    check_keystream_file(*this, "rfc3711_aes_cm.json", be(), *w);
}

TEST_P(vectors, aes_cm_keystream_rfc6188) {
    auto w = worker();
    check_keystream_file(*this, "rfc6188_aes_cm.json", be(), *w);
}

/// RFC 3711 App. B.1: AES-f8. The RFC's salt is 4 octets; the key mask is salt ‖ 0x55…, which is
/// what a 14-octet k_s of salt ‖ 0x55… gives too.
TEST_P(vectors, aes_f8_rfc3711_b1) {
    const auto& tr = engine::traits(engine::suite::f8_128_hmac_sha1_80);
    if (!be().supports(tr)) GTEST_SKIP() << "F8 runs on the OpenSSL reference backend only";
    const json doc2 = load("rfc3711_f8.json");
    for (const auto& t : doc2.at("tests")) {
        engine::session_keys raw;
        const auto key = hexf(t, "key"), salt = hexf(t, "salt"), iv = hexf(t, "iv");
        std::copy(key.begin(), key.end(), raw.k_e.begin());
        raw.k_s.fill(std::byte{0x55});
        std::copy(salt.begin(), salt.end(), raw.k_s.begin());
        expanded_keys ek(be(), tr, raw);
        auto data = hexf(t, "plaintext");
        engine::detail::crypto_job j;
        j.keys = &ek.kb;
        j.data = data.data();
        j.data_len = static_cast<uint32_t>(data.size());
        for (std::size_t i = 0; i < 16; ++i) j.iv[i] = static_cast<uint8_t>(iv[i]);
        auto w = worker();
        w->keystream_xor(tr, {&j, 1});
        EXPECT_EQ(to_hex(data), t.at("ciphertext").get<std::string>());
    }
}

/// RFC 3711 App. B.3 and RFC 6188 §7.2/§7.4: the key derivation PRF.
TEST(kdf_vectors, rfc3711_b3_and_rfc6188) {
    for (const char* file : {"rfc3711_kdf.json", "rfc6188_kdf.json"}) {
        const json doc3 = load(file);
        for (const auto& t : doc3.at("tests")) {
            SCOPED_TRACE(t.at("comment").get<std::string>());
            const auto mk = hexf(t, "master_key"), ms = hexf(t, "master_salt");
            for (const auto& o : t.at("outputs")) {
                bytes out(o.at("length").get<std::size_t>());
                auto r = engine::prf(mk, ms, static_cast<engine::kdf_label>(o.at("label").get<int>()), 0, out);
                ASSERT_TRUE(r) << r.err().message;
                EXPECT_EQ(to_hex(out), o.at("value").get<std::string>()) << "label " << o.at("label");
            }
        }
    }
}

/// RFC 6904 App. A: the header key and salt (labels 6 and 7) and the encrypted extension.
TEST_P(vectors, encrypted_header_extension_rfc6904) {
    const json doc4 = load("rfc6904.json");
    for (const auto& t : doc4.at("tests")) {
        const auto mk = hexf(t, "key"), ms = hexf(t, "salt");
        bytes hk(16), hs(14);
        ASSERT_TRUE(engine::prf(mk, ms, engine::kdf_label::srtp_header_encryption, 0, hk));
        ASSERT_TRUE(engine::prf(mk, ms, engine::kdf_label::srtp_header_salting, 0, hs));
        EXPECT_EQ(to_hex(hk), t.at("header_key").get<std::string>());
        EXPECT_EQ(to_hex(hs), t.at("header_salt").get<std::string>());

        // A packet carrying the vector's extension block, protected by a real session.
        rtp_spec spec;
        spec.ssrc = 0xcafebabe;
        spec.seq = t.at("seq");
        spec.payload_len = 0;
        auto pkt = make_rtp(spec);
        const auto ext = hexf(t, "extension_profile_and_length"), body = hexf(t, "plaintext");
        pkt[0] |= std::byte{0x10};
        pkt.insert(pkt.end(), ext.begin(), ext.end());
        pkt.insert(pkt.end(), body.begin(), body.end());
        std::vector<uint8_t> ids;
        for (const auto& id : t.at("encrypted_extension_ids")) ids.push_back(id.get<uint8_t>());
        static std::vector<uint8_t> s_ids;
        s_ids = ids;
        auto tweak = [](engine::session_config& c) { c.encrypted_extension_ids = s_ids; };
        auto tx = make(engine::suite::aes_cm_128_hmac_sha1_80, engine::direction::protect, {{mk, ms, {}}}, GetParam(), tweak);
        auto rx = make(engine::suite::aes_cm_128_hmac_sha1_80, engine::direction::unprotect, {{mk, ms, {}}}, GetParam(), tweak);
        auto w = make_worker();
        pkt_buf p(pkt);
        ASSERT_EQ(protect_one(*w, tx.get(), p), engine::status::ok);
        const auto out = p.contents();
        EXPECT_EQ(to_hex({out.data() + 16, body.size()}), t.at("protected").get<std::string>());
        ASSERT_EQ(unprotect_one(*w, rx.get(), p), engine::status::ok);
        EXPECT_EQ(p.contents(), pkt);
    }
}

struct packet_case {
    engine::suite suite;
    bytes key, salt;
    bool session_keys;
    uint32_t roc;
    bool encrypted;
    bool cryptex;
    uint32_t srtcp_index;
};

engine::session_ptr session_for(const packet_case& c, engine::direction d, backend_kind b, bool rtcp) {
    engine::session_config cfg;
    cfg.s = c.suite;
    cfg.dir = d;
    cfg.backend = b;
    cfg.cryptex = c.cryptex;
    cfg.initial_roc = c.roc;
    cfg.initial_srtcp_index = c.srtcp_index;
    if (rtcp) cfg.unencrypted_srtcp = !c.encrypted;
    else cfg.unencrypted_srtp = !c.encrypted;
    engine::session_keys sk;
    if (c.session_keys) {
        // RFC 7714 §16-17 print session key and salt; they serve SRTP and SRTCP alike here.
        std::copy(c.key.begin(), c.key.end(), sk.k_e.begin());
        std::copy(c.salt.begin(), c.salt.end(), sk.k_s.begin());
        engine::master_key_config mk;
        mk.srtp_keys = &sk;
        mk.srtcp_keys = &sk;
        cfg.keys.push_back(mk);
    } else {
        cfg.keys.push_back({c.key, c.salt, {}, 0});
    }
    auto r = engine::make_session(cfg);
    EXPECT_TRUE(r) << (r ? "" : r.err().message);
    return r ? std::move(r.value()) : nullptr;
}

void run_packet_file(const char* file, backend_kind b, bool rtcp) {
    auto w = make_worker();
    const json doc5 = load(file);
    for (const auto& t : doc5.at("tests")) {
        SCOPED_TRACE(t.at("comment").get<std::string>());
        packet_case c;
        c.suite = engine::suite_from_name(t.at("suite").get<std::string>()).value();
        c.key = hexf(t, "key");
        c.salt = hexf(t, "salt");
        c.session_keys = t.at("key_type") == "session";
        c.roc = t.value("roc", 0u);
        c.encrypted = t.value("encrypted", true);
        c.cryptex = t.value("cryptex", false);
        c.srtcp_index = t.value("srtcp_index", 0u);
        const auto plain = hexf(t, "plaintext"), prot = hexf(t, "protected");
        const std::string op = t.value("operation", "both");
        if (op != "decrypt" && op != "verify") {
            auto tx = session_for(c, engine::direction::protect, b, rtcp);
            pkt_buf p(plain);
            ASSERT_EQ(protect_one(*w, tx.get(), p, rtcp), engine::status::ok);
            EXPECT_EQ(to_hex(p.contents()), to_hex(prot)) << "protect";
        }
        if (op != "encrypt" && op != "tag") {
            auto rx = session_for(c, engine::direction::unprotect, b, rtcp);
            pkt_buf p(prot);
            ASSERT_EQ(unprotect_one(*w, rx.get(), p, rtcp), engine::status::ok);
            EXPECT_EQ(to_hex(p.contents()), to_hex(plain)) << "unprotect";
            // And a single flipped bit anywhere in the packet must fail authentication.
            auto rx2 = session_for(c, engine::direction::unprotect, b, rtcp);
            auto bad = prot;
            bad[bad.size() / 2] ^= std::byte{0x01};
            pkt_buf q(bad);
            EXPECT_NE(unprotect_one(*w, rx2.get(), q, rtcp), engine::status::ok);
        }
    }
}

TEST_P(vectors, srtp_aead_rfc7714_s16) { run_packet_file("rfc7714_srtp.json", GetParam(), false); }
TEST_P(vectors, srtcp_aead_rfc7714_s17) { run_packet_file("rfc7714_srtcp.json", GetParam(), true); }
TEST_P(vectors, cryptex_rfc9335_appendix_a) { run_packet_file("rfc9335.json", GetParam(), false); }

INSTANTIATE_TEST_SUITE_P(backends, vectors, ::testing::ValuesIn(backends()),
                         [](const auto& i) { return i.param == backend_kind::openssl ? std::string("openssl") : std::string("ipsec_mb"); });

} // namespace
