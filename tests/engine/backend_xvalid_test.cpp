// Cross-validation of the IPsec-MB backend against the OpenSSL reference (IPsec-MB's own
// xvalid-app habit: encrypt with one implementation, decrypt with the other).
//
//   - randomized: protect with one backend, unprotect with the other, both ways, every suite the
//     IPsec-MB backend runs, SRTP and SRTCP, with MKIs and several master keys, CSRCs, header
//     extensions, RFC 6904 encrypted elements, RFC 9335 cryptex, UNENCRYPTED_/UNAUTHENTICATED_
//     flags, payloads of 0..1400 octets, bursts of 1..80 packets (several IPsec-MB lanes and
//     chunking past max_burst);
//   - protect output is byte-identical between the backends for the same configuration;
//   - tampered packets are refused by IPsec-MB and leave no trace;
//   - mixed bursts: several sessions, suites and both backends in one protect/unprotect call,
//     with wrong tags and replays first, middle and last;
//   - the backend is really the one selected (default, per session, F8/NULL fallback).
// Everything IPsec-MB-specific is skipped, with a message, where the backend is unavailable.

#include "test_util.hpp"

#include "../../engine/src/backend/crypto_backend.hpp"

#include <srtpo/engine/backend.hpp>
#include <srtpo/engine/suite.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

#include <algorithm>
#include <new>
#include <numeric>
#include <random>
#include <string>

using namespace srtpo;
using namespace srtpo::test;
using engine::backend_kind;
using engine::direction;
using engine::status;
using engine::suite;

namespace {

constexpr backend_kind imb = backend_kind::ipsec_mb;
constexpr backend_kind ossl = backend_kind::openssl;

/// Skips where IPsec-MB is not built in or the CPU lacks AES-NI; fails where it is built in and
/// the CPU has what it needs but the backend refused to start (self-test, manager set-up): that
/// is a bug, not an environment.
#define SKIP_WITHOUT_IMB()                                                                                           \
    do {                                                                                                             \
        if (!engine::backend_available(backend_kind::ipsec_mb)) {                                                    \
            const std::string why_(engine::backend_description(backend_kind::ipsec_mb));                              \
            if (why_.find("self-test") != std::string::npos || why_.find("initialisation") != std::string::npos)     \
                FAIL() << "IPsec-MB is built in but refused to start: " << why_;                                      \
            GTEST_SKIP() << "IPsec-MB backend not available on this build or CPU: " << why_;                         \
        }                                                                                                            \
    } while (0)

const std::vector<suite> imb_suites{suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32,
                                    suite::aes_192_cm_hmac_sha1_80, suite::aes_192_cm_hmac_sha1_32,
                                    suite::aes_256_cm_hmac_sha1_80, suite::aes_256_cm_hmac_sha1_32,
                                    suite::aead_aes_128_gcm,        suite::aead_aes_256_gcm};

std::string name_of(backend_kind b) { return std::string(engine::to_string(b)); }

/// One session configuration, shared by every session built from it (sender and receiver, or
/// two senders on different backends).
struct scenario {
    suite s = suite::aes_cm_128_hmac_sha1_80;
    std::vector<simple_key> keys;
    std::size_t active = 0;
    std::vector<uint8_t> enc_ids;
    bool cryptex = false;
    bool unenc_srtp = false, unenc_srtcp = false, unauth_srtp = false;
    uint32_t initial_roc = 0;

    std::string describe() const {
        std::string d = std::string(engine::traits(s).name) + " keys=" + std::to_string(keys.size()) +
                        " mki=" + std::to_string(keys.front().mki.size()) + " active=" + std::to_string(active);
        if (!enc_ids.empty()) d += " rfc6904=" + std::to_string(enc_ids.size()) + "ids";
        if (cryptex) d += " cryptex";
        if (unenc_srtp) d += " unenc_srtp";
        if (unenc_srtcp) d += " unenc_srtcp";
        if (unauth_srtp) d += " unauth_srtp";
        return d + " roc0=" + std::to_string(initial_roc);
    }
};

struct scenario_opts {
    bool allow_unauth = true; ///< false where tags must be present (tamper and mixed-burst tests)
};

scenario random_scenario(std::mt19937& rng, suite s, scenario_opts o = {}) {
    const auto& t = engine::traits(s);
    scenario sc;
    sc.s = s;
    const std::size_t n_keys = 1 + rng() % 3;
    const std::size_t mki_len = (n_keys > 1 || rng() % 2) ? 1 + rng() % 4 : 0;
    for (std::size_t i = 0; i < n_keys; ++i) {
        simple_key k{random_bytes(rng, t.master_key_len), random_bytes(rng, t.master_salt_len), random_bytes(rng, mki_len)};
        if (mki_len) k.mki[0] = std::byte(i); // distinct MKIs
        sc.keys.push_back(std::move(k));
    }
    sc.active = rng() % n_keys;
    // Header encryption (RFC 6904, RFC 9335) needs an AES-CM or AEAD payload cipher that is on.
    const bool hdr_crypto = t.cipher == engine::cipher_kind::aes_cm || t.aead();
    switch (hdr_crypto ? rng() % 3 : 0) {
    case 1: {
        std::vector<uint8_t> ids(14);
        std::iota(ids.begin(), ids.end(), uint8_t{1});
        std::shuffle(ids.begin(), ids.end(), rng);
        ids.resize(1 + rng() % 6);
        sc.enc_ids = ids;
        break;
    }
    case 2: sc.cryptex = true; break;
    default: break;
    }
    if (!t.aead()) {
        sc.unenc_srtp = !sc.cryptex && sc.enc_ids.empty() && rng() % 6 == 0; // both need SRTP encryption
        sc.unauth_srtp = o.allow_unauth && rng() % 6 == 0;
    }
    sc.unenc_srtcp = rng() % 6 == 0;
    sc.initial_roc = rng() % 3 == 0 ? static_cast<uint32_t>(rng()) : 0;
    return sc;
}

/// What unprotect gives back for a plaintext RTP packet: the packet itself, except that RFC 9335
/// §5.1 has the sender add an empty extension block to carry the cryptex mark when the packet
/// has CSRCs but no extension, and the receiver keeps it (as an ordinary RFC 8285 block).
bytes after_round_trip(const scenario& sc, const bytes& plain, bool rtcp) {
    if (rtcp || !sc.cryptex) return plain;
    const auto b0 = static_cast<uint8_t>(plain[0]);
    const std::size_t cc = b0 & 0x0f;
    if ((b0 & 0x10) || cc == 0) return plain;
    bytes out = plain;
    out[0] = std::byte(b0 | 0x10);
    const bytes empty{std::byte{0xBE}, std::byte{0xDE}, std::byte{0}, std::byte{0}};
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(12 + 4 * cc), empty.begin(), empty.end());
    return out;
}

/// Builds a session from a scenario; checks it runs on the backend asked for (when that backend
/// runs the suite) — the point of these tests is which backend does the crypto.
engine::session_ptr build(const scenario& sc, direction d, backend_kind b) {
    engine::session_config c;
    c.s = sc.s;
    c.dir = d;
    c.backend = b;
    for (const auto& k : sc.keys) c.keys.push_back({k.key, k.salt, k.mki, k.lifetime});
    c.encrypted_extension_ids = sc.enc_ids;
    c.cryptex = sc.cryptex;
    c.unencrypted_srtp = sc.unenc_srtp;
    c.unencrypted_srtcp = sc.unenc_srtcp;
    c.unauthenticated_srtp = sc.unauth_srtp;
    c.initial_roc = sc.initial_roc;
    auto r = engine::make_session(c);
    if (!r) {
        ADD_FAILURE() << "make_session(" << sc.describe() << "): " << r.err().message;
        return nullptr;
    }
    engine::session_ptr s = std::move(r.value());
    if (d == direction::protect && sc.active) {
        EXPECT_TRUE(engine::session_set_active_key(*s, sc.active));
    }
    const auto* be = engine::detail::get_backend(b);
    const backend_kind expect = be && be->supports(engine::traits(sc.s)) ? b : ossl;
    EXPECT_EQ(engine::session_backend(*s), expect) << sc.describe();
    return s;
}

rtp_spec random_rtp(std::mt19937& rng, uint32_t ssrc, uint16_t seq, std::size_t payload_len) {
    rtp_spec p;
    p.ssrc = ssrc;
    p.seq = seq;
    p.ts = static_cast<uint32_t>(rng());
    p.pt = static_cast<uint8_t>(rng() % 128);
    p.marker = rng() % 2;
    const std::size_t n_csrc = rng() % 3 == 0 ? rng() % 16 : 0;
    for (std::size_t i = 0; i < n_csrc; ++i) p.csrcs.push_back(static_cast<uint32_t>(rng()));
    if (rng() % 3 != 0) {
        std::vector<uint8_t> ids(14);
        std::iota(ids.begin(), ids.end(), uint8_t{1});
        std::shuffle(ids.begin(), ids.end(), rng);
        const std::size_t n = 1 + rng() % 5;
        for (std::size_t i = 0; i < n; ++i) p.ext_elements.emplace_back(ids[i], static_cast<uint8_t>(1 + rng() % 16));
    }
    p.payload_len = payload_len;
    p.fill_seed = static_cast<uint32_t>(rng());
    return p;
}

std::size_t random_payload(std::mt19937& rng) {
    static constexpr std::size_t edges[] = {0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 160, 1399, 1400};
    if (rng() % 4 == 0) return edges[rng() % std::size(edges)];
    return rng() % 1401;
}

/// An RTCP compound-ish packet with a body of 20..1420 octets (multiple of 4, as RTCP requires).
bytes random_rtcp(std::mt19937& rng, uint32_t ssrc) {
    const std::size_t extra = 4 * (rng() % 4 == 0 ? rng() % 4 : rng() % 351);
    return make_rtcp(ssrc, extra, static_cast<uint32_t>(rng()));
}

/// One sender stream: SSRC and next sequence number (sometimes just below the 16-bit wrap, so
/// the ROC steps inside a burst).
struct stream_gen {
    uint32_t ssrc;
    uint16_t seq;
    explicit stream_gen(std::mt19937& rng)
        : ssrc(static_cast<uint32_t>(rng())), seq(static_cast<uint16_t>(rng() % 2 ? 65536 - 1 - rng() % 40 : rng())) {}
};

/// The stream's next plaintext packet: RTP with a random shape, or RTCP.
bytes next_packet(std::mt19937& rng, stream_gen& st, bool rtcp) {
    return rtcp ? random_rtcp(rng, st.ssrc) : make_rtp(random_rtp(rng, st.ssrc, st.seq++, random_payload(rng)));
}

/// The packets of one burst, in buffers with tailroom, and the ops over them.
struct burst {
    std::vector<bytes> plain;
    std::vector<std::unique_ptr<pkt_buf>> bufs;
    std::vector<engine::op> ops;

    void add(engine::session_rt* s, const bytes& p) {
        plain.push_back(p);
        bufs.push_back(std::make_unique<pkt_buf>(p));
        ops.push_back({s, bufs.back()->ref, status::ok});
    }
    /// Makes the buffers follow the ops' new lengths.
    void sync() {
        for (std::size_t i = 0; i < ops.size(); ++i) bufs[i]->ref = ops[i].pkt;
    }
    void retarget(engine::session_rt* s) {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            ops[i] = {s, bufs[i]->ref, status::ok};
        }
    }
    std::size_t size() const { return ops.size(); }
};

std::size_t run(engine::worker_ctx& w, burst& b, bool rtcp, bool protect) {
    std::size_t ok;
    if (protect) ok = rtcp ? engine::protect_rtcp(w, b.ops) : engine::protect_rtp(w, b.ops);
    else ok = rtcp ? engine::unprotect_rtcp(w, b.ops) : engine::unprotect_rtp(w, b.ops);
    b.sync();
    return ok;
}

/// Protects random bursts with `tx_b`, unprotects them with `rx_b`, checks every packet comes
/// back as it was; `checked` counts the packets that did.
void cross_validate_into(suite s, backend_kind tx_b, backend_kind rx_b, bool rtcp, uint32_t seed, int configs,
                         std::size_t& checked) {
    std::mt19937 rng(seed);
    auto w = make_worker();
    for (int cfg = 0; cfg < configs; ++cfg) {
        const scenario sc = random_scenario(rng, s);
        SCOPED_TRACE("seed " + std::to_string(seed) + " config " + std::to_string(cfg) + ": " + sc.describe() + ", " +
                     name_of(tx_b) + " -> " + name_of(rx_b));
        auto tx = build(sc, direction::protect, tx_b);
        auto rx = build(sc, direction::unprotect, rx_b);
        ASSERT_TRUE(tx && rx);
        std::vector<stream_gen> streams;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) streams.emplace_back(rng);
        for (int round = 0; round < 3; ++round) {
            burst b;
            const std::size_t n = 1 + rng() % 80;
            for (std::size_t k = 0; k < n; ++k) {
                auto& st = streams[rng() % streams.size()];
                b.add(tx.get(), next_packet(rng, st, rtcp));
            }
            EXPECT_EQ(run(*w, b, rtcp, true), n) << "protect";
            for (std::size_t k = 0; k < n; ++k) {
                ASSERT_EQ(b.ops[k].st, status::ok) << "protect op " << k;
                if (rtcp || !sc.unauth_srtp) {
                    EXPECT_GT(b.ops[k].pkt.len, b.plain[k].size()) << "a protected packet carries a trailer";
                }
            }
            b.retarget(rx.get());
            EXPECT_EQ(run(*w, b, rtcp, false), n) << "unprotect";
            for (std::size_t k = 0; k < n; ++k) {
                ASSERT_EQ(b.ops[k].st, status::ok) << "unprotect op " << k << " of " << n;
                ASSERT_EQ(to_hex(b.bufs[k]->contents()), to_hex(after_round_trip(sc, b.plain[k], rtcp))) << "op " << k;
                ++checked;
            }
        }
    }
}

std::size_t cross_validate(suite s, backend_kind tx_b, backend_kind rx_b, bool rtcp, uint32_t seed, int configs) {
    std::size_t checked = 0;
    cross_validate_into(s, tx_b, rx_b, rtcp, seed, configs, checked);
    return checked;
}

class imb_xvalid : public ::testing::TestWithParam<suite> {
protected:
    void SetUp() override { SKIP_WITHOUT_IMB(); }
    uint32_t seed(uint32_t salt) const { return static_cast<uint32_t>(GetParam()) * 7919u + salt; }
};

TEST_P(imb_xvalid, srtp_protect_imb_unprotect_openssl) {
    EXPECT_GT(cross_validate(GetParam(), imb, ossl, false, seed(1), 24), 0u);
}

TEST_P(imb_xvalid, srtp_protect_openssl_unprotect_imb) {
    EXPECT_GT(cross_validate(GetParam(), ossl, imb, false, seed(2), 24), 0u);
}

TEST_P(imb_xvalid, srtcp_protect_imb_unprotect_openssl) {
    EXPECT_GT(cross_validate(GetParam(), imb, ossl, true, seed(3), 16), 0u);
}

TEST_P(imb_xvalid, srtcp_protect_openssl_unprotect_imb) {
    EXPECT_GT(cross_validate(GetParam(), ossl, imb, true, seed(4), 16), 0u);
}

/// Every payload size 0..1400, in bursts of up to 64 (one IPsec-MB burst), both directions.
TEST_P(imb_xvalid, every_payload_size_both_ways) {
    const suite s = GetParam();
    std::mt19937 rng(seed(5));
    auto w = make_worker();
    for (auto [tx_b, rx_b] : {std::pair{imb, ossl}, std::pair{ossl, imb}}) {
        SCOPED_TRACE(name_of(tx_b) + " -> " + name_of(rx_b));
        scenario sc = random_scenario(rng, s, {.allow_unauth = false});
        sc.unenc_srtp = false;
        auto tx = build(sc, direction::protect, tx_b);
        auto rx = build(sc, direction::unprotect, rx_b);
        ASSERT_TRUE(tx && rx);
        stream_gen st(rng);
        for (std::size_t base = 0; base <= 1400; base += 64) {
            burst b;
            for (std::size_t len = base; len < base + 64 && len <= 1400; ++len) {
                rtp_spec spec;
                spec.ssrc = st.ssrc;
                spec.seq = st.seq++;
                spec.payload_len = len;
                spec.fill_seed = static_cast<uint32_t>(len);
                b.add(tx.get(), make_rtp(spec));
            }
            ASSERT_EQ(run(*w, b, false, true), b.size());
            for (std::size_t k = 0; k < b.size(); ++k) {
                const std::size_t len = base + k, hdr = 12;
                // Encrypted: the payload must not come out as it went in.
                if (len >= 8) {
                    EXPECT_NE(to_hex({b.bufs[k]->ref.data + hdr, 8}), to_hex({b.plain[k].data() + hdr, 8})) << "len " << len;
                }
            }
            b.retarget(rx.get());
            ASSERT_EQ(run(*w, b, false, false), b.size());
            for (std::size_t k = 0; k < b.size(); ++k)
                ASSERT_EQ(to_hex(b.bufs[k]->contents()), to_hex(b.plain[k])) << "payload " << base + k;
        }
    }
}

/// The same session configuration and packets give the same protected bytes on both backends.
TEST_P(imb_xvalid, protect_output_byte_identical) {
    const suite s = GetParam();
    std::mt19937 rng(seed(6));
    auto w = make_worker();
    std::size_t compared = 0, differed_from_plain = 0;
    for (int cfg = 0; cfg < 20; ++cfg) {
        const scenario sc = random_scenario(rng, s);
        SCOPED_TRACE("config " + std::to_string(cfg) + ": " + sc.describe());
        auto a = build(sc, direction::protect, imb);
        auto b = build(sc, direction::protect, ossl);
        ASSERT_TRUE(a && b);
        for (bool rtcp : {false, true}) {
            burst pa, pb;
            stream_gen st(rng);
            const std::size_t n = 1 + rng() % 70;
            for (std::size_t k = 0; k < n; ++k) {
                const bytes p = next_packet(rng, st, rtcp);
                pa.add(a.get(), p);
                pb.add(b.get(), p);
            }
            ASSERT_EQ(run(*w, pa, rtcp, true), n);
            ASSERT_EQ(run(*w, pb, rtcp, true), n);
            for (std::size_t k = 0; k < n; ++k) {
                ASSERT_EQ(to_hex(pa.bufs[k]->contents()), to_hex(pb.bufs[k]->contents()))
                    << (rtcp ? "SRTCP" : "SRTP") << " op " << k;
                const std::size_t cmp = std::min<std::size_t>(pa.plain[k].size(), 16);
                differed_from_plain += to_hex({pa.bufs[k]->ref.data + pa.plain[k].size() - cmp, cmp}) !=
                                       to_hex({pa.plain[k].data() + pa.plain[k].size() - cmp, cmp});
                ++compared;
            }
        }
    }
    EXPECT_GT(compared, 0u);
    EXPECT_GT(differed_from_plain, compared / 2) << "most packets must have been encrypted";
}

/// IPsec-MB refuses any one-octet change, and the refusal leaves no trace: the genuine packet
/// is accepted afterwards.
TEST_P(imb_xvalid, tampered_packets_refused_without_trace) {
    const suite s = GetParam();
    std::mt19937 rng(seed(7));
    auto w = make_worker();
    std::size_t refused = 0;
    for (int cfg = 0; cfg < 12; ++cfg) {
        const scenario sc = random_scenario(rng, s, {.allow_unauth = false});
        SCOPED_TRACE("config " + std::to_string(cfg) + ": " + sc.describe());
        auto tx = build(sc, direction::protect, ossl);
        auto rx = build(sc, direction::unprotect, imb);
        ASSERT_TRUE(tx && rx);
        stream_gen st(rng);
        for (bool rtcp : {false, true}) {
            for (int k = 0; k < 10; ++k) {
                const bytes plain = next_packet(rng, st, rtcp);
                pkt_buf p(plain);
                ASSERT_EQ(protect_one(*w, tx.get(), p, rtcp), status::ok);
                const bytes wire = p.contents();
                bytes bad = wire;
                const std::size_t at = rng() % bad.size();
                bad[at] ^= std::byte(1u << (rng() % 8));
                pkt_buf q(bad);
                const status st_bad = unprotect_one(*w, rx.get(), q, rtcp);
                EXPECT_NE(st_bad, status::ok) << (rtcp ? "SRTCP" : "SRTP") << " octet " << at << " of " << bad.size();
                refused += st_bad != status::ok;
                pkt_buf good(wire);
                ASSERT_EQ(unprotect_one(*w, rx.get(), good, rtcp), status::ok) << "after a refused forgery";
                EXPECT_EQ(to_hex(good.contents()), to_hex(after_round_trip(sc, plain, rtcp)));
            }
        }
    }
    EXPECT_EQ(refused, 12u * 2 * 10);
}

INSTANTIATE_TEST_SUITE_P(imb_suites, imb_xvalid, ::testing::ValuesIn(imb_suites),
                         [](const auto& i) { return std::string(engine::traits(i.param).name); });

// ---------------------------------------------------------------------------------------------
// Selection

TEST(imb_selection, default_backend_is_ipsec_mb_where_available) {
    SKIP_WITHOUT_IMB();
    EXPECT_EQ(engine::default_backend(), imb);
    engine::session_config c; // default backend
    EXPECT_EQ(c.backend, imb);
    auto r = engine::backend_from_name("auto");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, imb);
    std::mt19937 rng(11);
    const auto& t = engine::traits(suite::aes_cm_128_hmac_sha1_80);
    const bytes key = random_bytes(rng, t.master_key_len), salt = random_bytes(rng, t.master_salt_len);
    c.keys = {{key, salt, {}}};
    auto s = engine::make_session(c);
    ASSERT_TRUE(s);
    EXPECT_EQ(engine::session_backend(*s.value()), imb);
}

TEST(imb_selection, description_names_version_and_isa) {
    SKIP_WITHOUT_IMB();
    const std::string d(engine::backend_description(imb));
    EXPECT_EQ(d.rfind("ipsec-mb ", 0), 0u) << d;
    const bool isa = d.find("(sse;") != std::string::npos || d.find("(avx;") != std::string::npos ||
                     d.find("(avx2;") != std::string::npos || d.find("(avx512;") != std::string::npos;
    EXPECT_TRUE(isa) << d;
    EXPECT_NE(d.find('.'), std::string::npos) << "a version number: " << d;
    // Which HMAC-SHA1 runs (ADR 0022); SRTPO_HMAC_SHA1=ipsec-mb forces the library's, and this
    // binary also runs under it (backend_xvalid_ipsec_mb_hmac).
    const char* forced = std::getenv("SRTPO_HMAC_SHA1");
    if (forced && std::string_view(forced) == "ipsec-mb") EXPECT_NE(d.find("; HMAC-SHA1 ipsec-mb)"), std::string::npos) << d;
    else EXPECT_TRUE(d.find("; HMAC-SHA1 ipsec-mb)") != std::string::npos || d.find("; HMAC-SHA1 avx512 x16") != std::string::npos) << d;
}

/// An SRTPO_HMAC_SHA1 value the backend cannot honour makes it refuse to start, with a reason
/// that names the variable, and the default backend falls back to OpenSSL. Runs under such a
/// value as its own meson test (imb_bad_hmac_choice); skipped in the ordinary runs.
TEST(imb_selection, bad_hmac_choice_is_refused_with_its_reason) {
    const char* v = std::getenv("SRTPO_HMAC_SHA1");
    if (!v || std::string_view(v) == "ipsec-mb" || std::string_view(v) == "avx512")
        GTEST_SKIP() << "runs with a bad SRTPO_HMAC_SHA1 (meson test imb_bad_hmac_choice)";
    EXPECT_FALSE(engine::backend_available(imb));
    const std::string d(engine::backend_description(imb));
    // On a CPU without AES-NI the backend refuses first for that, before reading the variable.
    if (d.find("CPU lacks") == std::string::npos) {
        EXPECT_NE(d.find("unavailable: SRTPO_HMAC_SHA1 must be avx512 or ipsec-mb"), std::string::npos) << d;
    }
    EXPECT_EQ(engine::default_backend(), ossl);
}

TEST(imb_selection, supports_aes_cm_and_gcm_only) {
    SKIP_WITHOUT_IMB();
    const auto* be = engine::detail::get_backend(imb);
    ASSERT_NE(be, nullptr);
    EXPECT_EQ(be->kind(), imb);
    for (const auto& t : engine::all_suites) {
        const bool want = t.cipher == engine::cipher_kind::aes_cm || t.cipher == engine::cipher_kind::aes_gcm;
        EXPECT_EQ(be->supports(t), want) << t.name;
        EXPECT_EQ(be->expanded_size(t) > 0, want) << t.name;
        EXPECT_EQ(be->expanded_size(t) % 64, 0u) << t.name;
    }
}

/// F8 and NULL sessions asked for on IPsec-MB run on OpenSSL and still interoperate.
TEST(imb_selection, f8_and_null_fall_back_to_openssl) {
    SKIP_WITHOUT_IMB();
    for (suite s : {suite::f8_128_hmac_sha1_80, suite::null_hmac_sha1_80, suite::null_hmac_sha1_32}) {
        SCOPED_TRACE(std::string(engine::traits(s).name));
        EXPECT_GT(cross_validate(s, imb, ossl, false, 99, 4), 0u);
        EXPECT_GT(cross_validate(s, ossl, imb, true, 98, 4), 0u);
    }
}

// ---------------------------------------------------------------------------------------------
// Worker-level edges

struct expanded {
    engine::detail::key_block kb;
    std::byte* mem = nullptr;
    std::size_t n = 0;
    expanded(const engine::detail::crypto_backend& be, const engine::suite_traits& t, std::mt19937& rng) {
        for (auto& x : kb.raw.k_e) x = std::byte(rng() & 0xff);
        for (auto& x : kb.raw.k_a) x = std::byte(rng() & 0xff);
        for (auto& x : kb.raw.k_he) x = std::byte(rng() & 0xff);
        n = be.expanded_size(t);
        if (n) {
            mem = static_cast<std::byte*>(::operator new[](n, std::align_val_t{64}));
            kb.expanded = mem;
        }
        auto r = be.expand(t, kb);
        EXPECT_TRUE(r) << (r ? "" : r.err().message);
    }
    ~expanded() {
        if (mem) ::operator delete[](mem, std::align_val_t{64});
    }
};

TEST(imb_worker, refuses_key_blocks_that_do_not_fit_and_skips_empty_jobs) {
    SKIP_WITHOUT_IMB();
    const auto& be = *engine::detail::get_backend(imb);
    auto wr = be.make_worker();
    ASSERT_TRUE(wr);
    auto& w = *wr.value();
    std::mt19937 rng(5);
    const auto& cm128 = engine::traits(suite::aes_cm_128_hmac_sha1_80);
    const auto& cm256 = engine::traits(suite::aes_256_cm_hmac_sha1_80);
    const auto& gcm128 = engine::traits(suite::aead_aes_128_gcm);
    expanded g(be, gcm128, rng), c(be, cm128, rng);
    std::array<std::byte, 64> buf{}, tag{};

    // A burst of three: the middle job names a GCM key block for AES-CM payload keys.
    std::array<engine::detail::crypto_job, 3> jobs;
    std::array<bytes, 3> data;
    for (std::size_t i = 0; i < 3; ++i) {
        data[i] = random_bytes(rng, 40);
        jobs[i].keys = i == 1 ? &g.kb : &c.kb;
        jobs[i].data = data[i].data();
        jobs[i].data_len = 40;
        jobs[i].iv[3] = static_cast<uint8_t>(i);
    }
    const std::array<bytes, 3> orig = data;
    w.keystream_xor(cm128, jobs);
    EXPECT_FALSE(jobs[0].failed);
    EXPECT_TRUE(jobs[1].failed);
    EXPECT_FALSE(jobs[2].failed);
    EXPECT_NE(to_hex(data[0]), to_hex(orig[0]));
    EXPECT_EQ(to_hex(data[1]), to_hex(orig[1])) << "a refused job is not touched";
    EXPECT_NE(to_hex(data[2]), to_hex(orig[2]));

    // Again with the middle job fixed: CTR undoes itself on 0 and 2, and now runs on 1.
    jobs[1].keys = &c.kb;
    w.keystream_xor(cm128, jobs);
    EXPECT_FALSE(jobs[1].failed);
    EXPECT_EQ(to_hex(data[0]), to_hex(orig[0]));
    EXPECT_NE(to_hex(data[1]), to_hex(orig[1]));
    EXPECT_EQ(to_hex(data[2]), to_hex(orig[2]));

    // Wrong key length for the block, HMAC over a GCM block: refused.
    engine::detail::crypto_job j;
    j.keys = &c.kb;
    j.data = buf.data();
    j.data_len = 16;
    w.keystream_xor(cm256, {&j, 1});
    EXPECT_TRUE(j.failed);
    engine::detail::crypto_job h;
    h.keys = &g.kb;
    h.auth = buf.data();
    h.auth_len = 16;
    h.tag = tag.data();
    w.hmac_sha1(cm128, {&h, 1});
    EXPECT_TRUE(h.failed);

    // RFC 6904 keystream under a GCM session's k_he is fine (header_keys).
    engine::detail::crypto_job x;
    x.keys = &g.kb;
    x.header_keys = true;
    x.data = buf.data();
    x.data_len = 33;
    w.keystream_xor(cm128, {&x, 1});
    EXPECT_FALSE(x.failed);
    EXPECT_NE(buf, (std::array<std::byte, 64>{}));

    // A zero-length job succeeds without touching anything (IPsec-MB itself refuses length 0).
    engine::detail::crypto_job z;
    z.keys = &c.kb;
    z.data = nullptr;
    z.data_len = 0;
    w.keystream_xor(cm128, {&z, 1});
    EXPECT_FALSE(z.failed);
}

/// The worker's keystream and HMAC equal OpenSSL's for bursts wider than the IPsec-MB lanes,
/// with every job on a different key and length.
TEST(imb_worker, bursts_match_openssl_job_for_job) {
    SKIP_WITHOUT_IMB();
    const auto& bi = *engine::detail::get_backend(imb);
    const auto& bo = *engine::detail::get_backend(ossl);
    auto wi = bi.make_worker(), wo = bo.make_worker();
    ASSERT_TRUE(wi && wo);
    std::mt19937 rng(17);
    for (suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_192_cm_hmac_sha1_32, suite::aes_256_cm_hmac_sha1_80}) {
        const auto& t = engine::traits(s);
        SCOPED_TRACE(std::string(t.name));
        constexpr std::size_t n = 64;
        std::vector<std::unique_ptr<expanded>> ki, ko;
        std::vector<bytes> di(n), dO(n);
        std::vector<std::array<std::byte, 20>> ti(n), to(n);
        std::vector<engine::detail::crypto_job> ji(n), jo(n);
        for (std::size_t k = 0; k < n; ++k) {
            ki.push_back(std::make_unique<expanded>(bi, t, rng));
            ko.push_back(std::make_unique<expanded>(bo, t, rng));
            ko.back()->kb.raw = ki.back()->kb.raw;
            di[k] = random_bytes(rng, 1 + rng() % 1500);
            dO[k] = di[k];
            for (auto* j : {&ji[k], &jo[k]}) {
                j->data_len = static_cast<uint32_t>(di[k].size());
                for (auto& b : j->iv) b = static_cast<uint8_t>(rng());
                j->iv[14] = j->iv[15] = 0;
            }
            jo[k].iv = ji[k].iv;
            ji[k].keys = &ki[k]->kb;
            jo[k].keys = &ko[k]->kb;
            ji[k].data = di[k].data();
            jo[k].data = dO[k].data();
        }
        const std::vector<bytes> orig = di;
        wi.value()->keystream_xor(t, ji);
        wo.value()->keystream_xor(t, jo);
        for (std::size_t k = 0; k < n; ++k) {
            ASSERT_FALSE(ji[k].failed);
            ASSERT_NE(to_hex(di[k]), to_hex(orig[k])) << "keystream job " << k << " left the data as it was";
            ASSERT_EQ(to_hex(di[k]), to_hex(dO[k])) << "keystream job " << k;
        }
        for (std::size_t k = 0; k < n; ++k) {
            ji[k].auth = di[k].data();
            jo[k].auth = dO[k].data();
            ji[k].auth_len = jo[k].auth_len = static_cast<uint32_t>(di[k].size());
            ji[k].tag = ti[k].data();
            jo[k].tag = to[k].data();
        }
        wi.value()->hmac_sha1(t, ji);
        wo.value()->hmac_sha1(t, jo);
        for (std::size_t k = 0; k < n; ++k) {
            ASSERT_FALSE(ji[k].failed);
            ASSERT_EQ(to_hex({ti[k].data(), 12}), to_hex({to[k].data(), 12})) << "HMAC job " << k;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mixed bursts: several sessions, suites and both backends in one call, with failures.

struct mixed_flow {
    scenario sc;
    engine::session_ptr tx, rx;
    stream_gen st;
};

/// Octet offset of the authentication tag in a protected packet.
std::size_t tag_offset(const scenario& sc, std::size_t len, bool rtcp) {
    const auto& t = engine::traits(sc.s);
    const std::size_t mki = sc.keys.front().mki.size();
    if (rtcp) return t.aead() ? len - mki - 4 - 16 : len - t.srtcp_tag_len;
    return t.aead() ? len - mki - 16 : len - t.srtp_tag_len;
}

enum class fault { none, wrong_tag, replay };

void mixed_bursts(bool rtcp) {
    std::mt19937 rng(rtcp ? 4242 : 2424);
    auto w = make_worker();
    // (suite, sender backend, receiver backend): every pairing, F8/NULL riding along on OpenSSL.
    const std::vector<std::tuple<suite, backend_kind, backend_kind>> plan{
        {suite::aes_cm_128_hmac_sha1_80, imb, ossl},  {suite::aead_aes_128_gcm, ossl, imb},
        {suite::aes_256_cm_hmac_sha1_32, imb, imb},   {suite::aead_aes_256_gcm, imb, ossl},
        {suite::aes_192_cm_hmac_sha1_80, ossl, imb},  {suite::aes_cm_128_hmac_sha1_32, imb, ossl},
        {suite::aead_aes_128_gcm, imb, imb},          {suite::f8_128_hmac_sha1_80, imb, ossl},
        {suite::null_hmac_sha1_32, ossl, imb},        {suite::aes_192_cm_hmac_sha1_32, imb, imb},
        {suite::aes_256_cm_hmac_sha1_80, ossl, ossl},
    };
    std::vector<mixed_flow> flows;
    for (auto [s, txb, rxb] : plan) {
        scenario sc = random_scenario(rng, s, {.allow_unauth = false});
        auto tx = build(sc, direction::protect, txb);
        auto rx = build(sc, direction::unprotect, rxb);
        ASSERT_TRUE(tx && rx);
        flows.push_back({std::move(sc), std::move(tx), std::move(rx), stream_gen(rng)});
    }

    struct sent {
        std::size_t flow;
        bytes plain, wire;
    };
    std::vector<sent> delivered; // accepted earlier: replay material
    constexpr std::size_t n = 100;  // more than max_burst: two chunks
    const std::array<std::array<fault, 3>, 3> rounds{{
        {fault::none, fault::none, fault::none},
        {fault::wrong_tag, fault::replay, fault::wrong_tag},
        {fault::replay, fault::wrong_tag, fault::replay},
    }};
    const std::array<std::size_t, 3> where{0, n / 2, n - 1};

    for (std::size_t round = 0; round < rounds.size(); ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        // One protect call for every flow.
        burst p;
        std::vector<std::size_t> flow_of;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t f = k < flows.size() ? k : rng() % flows.size();
            auto& fl = flows[f];
            p.add(fl.tx.get(), next_packet(rng, fl.st, rtcp));
            flow_of.push_back(f);
        }
        ASSERT_EQ(run(*w, p, rtcp, true), n);

        // One unprotect call, with the round's faults first, middle and last.
        burst u;
        std::vector<status> expect(n, status::ok);
        std::vector<bytes> expect_plain(n);
        std::vector<sent> held_back; // genuine packets replaced by a fault: delivered later
        std::vector<std::size_t> rx_flow_of(n);
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t f = flow_of[k];
            bytes wire = p.bufs[k]->contents();
            expect_plain[k] = p.plain[k];
            std::size_t fault_slot = 3;
            for (std::size_t i = 0; i < 3; ++i)
                if (where[i] == k) fault_slot = i;
            const fault fk = fault_slot < 3 ? rounds[round][fault_slot] : fault::none;
            std::size_t rx_flow = f;
            if (fk == fault::wrong_tag) {
                held_back.push_back({f, p.plain[k], wire});
                wire[tag_offset(flows[f].sc, wire.size(), rtcp)] ^= std::byte{0x01};
                expect[k] = status::auth_fail;
            } else if (fk == fault::replay) {
                held_back.push_back({f, p.plain[k], wire});
                const sent& old = delivered[rng() % delivered.size()];
                rx_flow = old.flow;
                wire = old.wire;
                expect[k] = status::replay_duplicate;
            }
            rx_flow_of[k] = rx_flow;
            u.add(flows[rx_flow].rx.get(), wire);
        }
        const std::size_t ok = run(*w, u, rtcp, false);
        EXPECT_EQ(ok, static_cast<std::size_t>(std::count(expect.begin(), expect.end(), status::ok)));
        for (std::size_t k = 0; k < n; ++k) {
            ASSERT_EQ(u.ops[k].st, expect[k]) << "op " << k << " (" << flows[flow_of[k]].sc.describe() << ")";
            if (expect[k] == status::ok) {
                ASSERT_EQ(to_hex(u.bufs[k]->contents()), to_hex(after_round_trip(flows[rx_flow_of[k]].sc, expect_plain[k], rtcp)))
                    << "op " << k;
                delivered.push_back({flow_of[k], p.plain[k], p.bufs[k]->contents()});
            }
        }

        // What failed left no trace: the genuine packets are accepted now, in one burst.
        if (!held_back.empty()) {
            burst late;
            for (const auto& h : held_back) late.add(flows[h.flow].rx.get(), h.wire);
            ASSERT_EQ(run(*w, late, rtcp, false), held_back.size());
            for (std::size_t k = 0; k < held_back.size(); ++k) {
                const auto& h = held_back[k];
                EXPECT_EQ(to_hex(late.bufs[k]->contents()), to_hex(after_round_trip(flows[h.flow].sc, h.plain, rtcp)));
                delivered.push_back(held_back[k]);
            }
        }
    }
    // Both backends really did work in these bursts.
    std::size_t on_imb = 0, on_ossl = 0;
    for (const auto& f : flows)
        for (const auto* s : {f.tx.get(), f.rx.get()}) (engine::session_backend(*s) == imb ? on_imb : on_ossl)++;
    EXPECT_GE(on_imb, 8u);
    EXPECT_GE(on_ossl, 8u);
}

TEST(imb_mixed_burst, srtp_sessions_suites_backends_with_failures) {
    SKIP_WITHOUT_IMB();
    mixed_bursts(false);
}

TEST(imb_mixed_burst, srtcp_sessions_suites_backends_with_failures) {
    SKIP_WITHOUT_IMB();
    mixed_bursts(true);
}

} // namespace
