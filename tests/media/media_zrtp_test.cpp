// zrtp_keying on a real srtpo-cp event_loop against Linphone's bzrtp (tests/interop/zrtp's GPL
// harness, a separate process that talks to us only over loopback UDP): keys mirrored (the
// harness prints its libsrtp keys, and authenticates SRTP we protect with the on_keyed keys),
// identical SAS, the ZID cache written 0600 and a second call matching the retained secret, a
// changed secret reported as a mismatch (RFC 6189 §4.6.1.1), a=zrtp-hash checked (§8.1), a
// clean failure on timeout. Ports 32300..32399.

#include "media_fixture.hpp"

#include "harness_output.hpp" // tests/interop/zrtp: what the bzrtp harness prints
#include "harness.hpp" // tests/dtls: peer_process, temp_dir, SRTP through our engine

#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/media/zrtp_keying.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

namespace srtpo::test::media {
namespace {

using namespace std::chrono;
using srtpo::test::dtls::peer_process;
using srtpo::test::dtls::temp_dir;
namespace td = srtpo::test::dtls;
using srtpo::test::bzrtp::fields;
const auto harness_hash = [](const std::string& out) { return srtpo::test::bzrtp::hello_hash(out); };

std::string harness() {
    const char* p = std::getenv("ZRTP_BZRTP_HARNESS");
    return p ? p : "";
}



class ZrtpKeying : public ::testing::Test {
protected:
    void SetUp() override {
        if (harness().empty()) GTEST_SKIP() << "bzrtp harness not built (libbzrtp-dev absent)";
        cfg.zrtp.exchange.handshake_timeout = 8s;
        rt = make_runtime(cfg);
    }
    std::unique_ptr<cm::zrtp_keying> keyer(uint16_t port) {
        auto k = cm::zrtp_keying::create(loop, *rt, loopback(port), rec.events());
        if (!k) throw std::runtime_error(k.err().message);
        return std::move(*k);
    }
    /// The bzrtp peer at `peer_port`, sending to our `port`, with `extra` options.
    std::unique_ptr<peer_process> start_bzrtp(uint16_t port, uint16_t peer_port, const cm::zrtp_keying& k,
                                              std::vector<std::string> extra) {
        std::vector<std::string> argv{"env", "ASAN_OPTIONS=detect_leaks=0", harness(), "--local",
                                      std::to_string(peer_port), "--remote", std::to_string(port),
                                      "--peer-hello-hash", local_attr(k, "zrtp-hash"), "--timeout-ms", "8000",
                                      "--linger-ms", "1500"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<peer_process>(argv, dir / ("bzrtp" + std::to_string(++runs) + ".log"), 15);
    }
    struct call_result {
        std::string out;
        nlohmann::json show;
    };
    /// One call: bzrtp with `extra`, our keyer told the harness's a=zrtp-hash; we send 5 SRTP
    /// packets protected with the keys on_keyed gave us, bzrtp authenticates them with libsrtp.
    call_result one_call(uint16_t port, std::vector<std::string> extra) {
        auto k = keyer(port);
        const auto peer_port = static_cast<uint16_t>(port + 50);
        extra.insert(extra.end(), {"--srtp", "5"});
        auto p = start_bzrtp(port, peer_port, *k, extra);
        EXPECT_TRUE(p->wait_for_output("ZRTP-HASH", 3s)) << p->output();
        const auto before = rec.keys.size();
        EXPECT_TRUE(k->set_remote(peer_sdp(peer_port, {"zrtp-hash:" + harness_hash(p->output())}, "RTP/AVP"), 0, true));
        EXPECT_TRUE(run_until(loop, [&] { return rec.keys.size() > before || !rec.failures.empty(); }, 10s))
            << p->output();
        if (rec.keys.size() > before) {
            // Our media, protected with our out key, from a plain socket (srtpo-pmd's role).
            auto sp = td::make_srtp(rec.keys.back().keying);
            const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
            sockaddr_storage sa{};
            const auto len = cm::to_sockaddr(loopback(peer_port), sa);
            for (uint16_t seq = 1; seq <= 5; ++seq) {
                auto pkt = td::protect_rtp_packet(sp, seq, 0x5eed0001);
                ::sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&sa), len);
            }
            ::close(fd);
        }
        run_until(loop, [&] { return p->wait_exit(0ms).has_value(); }, 6s);
        return {p->output(), k->zrtp_show_json()};
    }

    temp_dir dir;
    cp::event_loop loop = make_loop();
    cm::media_config cfg = config_in(dir.path());
    std::unique_ptr<cm::media_runtime> rt;
    recorder rec;
    int runs = 0;
};

void expect_agreement(const std::string& out, const nlohmann::json& show, const recorder& rec) {
    ASSERT_FALSE(rec.keys.empty()) << (rec.failures.empty() ? "no outcome" : rec.failures[0]) << "\n" << out;
    const auto keys = fields(out, "KEYS");
    const auto secure = fields(out, "SECURE");
    ASSERT_FALSE(keys.empty()) << out;
    // Mirrored: bzrtp's tx is our in (remote) key, its rx our out (local) key.
    EXPECT_EQ(hex(rec.keys.back().keying.remote.key_salt.bytes()), keys.at("tx"));
    EXPECT_EQ(hex(rec.keys.back().keying.local.key_salt.bytes()), keys.at("rx"));
    EXPECT_EQ(show["sas"], secure.at("sas")) << "the SAS both users read must be the same";
    EXPECT_EQ(show["state"], "secure");
    EXPECT_EQ(show["algorithms"]["key_agreement"], secure.at("ka"));
    // bzrtp sent 5 SRTP packets: our port demuxed them away as RTP; it authenticated our 5.
    const auto srtp = fields(out, "SRTP");
    EXPECT_EQ(srtp.at("ok"), "5") << out;
    EXPECT_EQ(srtp.at("bad"), "0") << out;
    EXPECT_NE(out.find("RESULT: OK"), std::string::npos) << out;
}

TEST_F(ZrtpKeying, X255B256AgreesWithBzrtp) {
    // Our configured preferences ([zrtp] ciphers, sas_types, auth_tags) decide what we commit to.
    cfg.zrtp.exchange.algorithms.ciphers = {cp::zrtp::cipher_algo::aes3};
    cfg.zrtp.exchange.algorithms.sas_types = {cp::zrtp::sas_type::b256};
    cfg.zrtp.exchange.algorithms.auth_tags = {cp::zrtp::auth_tag::hs32};
    rt = make_runtime(cfg);
    const auto r = one_call(32300, {"--ka", "X255", "--sas", "B256", "--cipher", "AES3", "--auth", "HS32"});
    expect_agreement(r.out, r.show, rec);
    EXPECT_EQ(r.show["algorithms"]["sas_type"], "B256");
    EXPECT_EQ(r.show["algorithms"]["cipher"], "AES3");
    EXPECT_EQ(rec.keys.back().keying.suite, engine::suite::aes_256_cm_hmac_sha1_32);
    EXPECT_EQ(r.show["peer"], "127.0.0.1:32350");
    EXPECT_EQ(r.show["peer_zrtp_hash_signalled"], true);
    EXPECT_EQ(rec.keys.back().peer, loopback(32350));
}

TEST_F(ZrtpKeying, Dh3kB32AgreesWithBzrtp) {
    cfg.zrtp.exchange.algorithms.hashes = {cp::zrtp::hash_algo::s384};
    cfg.zrtp.exchange.algorithms.key_agreements = {cp::zrtp::key_agreement::dh3k};
    rt = make_runtime(cfg);
    const auto r = one_call(32301, {"--ka", "DH3k", "--sas", "B32", "--hash", "S384"});
    expect_agreement(r.out, r.show, rec);
    EXPECT_EQ(r.show["algorithms"]["hash"], "S384");
    EXPECT_EQ(r.show["sas"].get<std::string>().size(), 4u) << "B32 renders 4 characters";
}

TEST_F(ZrtpKeying, CacheWritten0600SecondCallMatchesChangedSecretIsAMismatch) {
    const auto bz = (dir / "bzrtp.sqlite").string();
    auto r1 = one_call(32310, {"--ka", "X255", "--cache", bz});
    expect_agreement(r1.out, r1.show, rec);
    EXPECT_EQ(r1.show["cache"], "new_peer");
    struct stat st {};
    ASSERT_EQ(::stat(cfg.zrtp.cache.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    auto r2 = one_call(32311, {"--ka", "X255", "--cache", bz});
    expect_agreement(r2.out, r2.show, rec);
    EXPECT_EQ(r2.show["cache"], "match") << "the retained secret of call 1 must be used";
    EXPECT_EQ(fields(r2.out, "SECURE").at("cache_mismatch"), "0");
    EXPECT_EQ(r2.show["peer_zid"], r1.show["peer_zid"]);

    // Someone else's retained secret for this ZID (as a MitM in call 1 would leave): mismatch.
    cp::zrtp::zid_t zid{};
    const auto z = r2.show["peer_zid"].get<std::string>();
    ASSERT_EQ(z.size(), 24u);
    for (std::size_t i = 0; i < 12; ++i) zid[i] = static_cast<uint8_t>(std::stoi(z.substr(2 * i, 2), nullptr, 16));
    cp::zrtp::cache_entry e;
    e.rs1 = cp::zrtp::secret(std::vector<uint8_t>(32, 0x77));
    e.rs2 = cp::zrtp::secret(std::vector<uint8_t>(32, 0x78));
    ASSERT_TRUE(rt->zid_cache().store(zid, std::move(e)));
    auto r3 = one_call(32312, {"--ka", "X255", "--cache", bz});
    expect_agreement(r3.out, r3.show, rec);
    EXPECT_EQ(r3.show["cache"], "mismatch");
    EXPECT_NE(r3.show["warning"].get<std::string>().find("man-in-the-middle"), std::string::npos);
    EXPECT_EQ(fields(r3.out, "SECURE").at("cache_mismatch"), "1");
}

TEST_F(ZrtpKeying, VerifySasMarksTheCacheAndTheNextCallShowsIt) {
    const auto bz = (dir / "bzrtp.sqlite").string();
    auto k = keyer(32320);
    auto v = k->verify_sas();
    ASSERT_FALSE(v) << "nothing to verify before secure";
    EXPECT_NE(v.err().message.find("not secure"), std::string::npos);
    k.reset();
    auto r1 = one_call(32321, {"--ka", "X255", "--cache", bz});
    expect_agreement(r1.out, r1.show, rec);
    // Call 2: the users compared the SAS; our operator runs `zrtp verify` (verify_sas()), bzrtp's
    // user presses "verified" (--verify-sas 1). Our flag lives in the process's shared cache.
    auto k2 = keyer(32322);
    auto p = start_bzrtp(32322, 32372, *k2, {"--ka", "X255", "--cache", bz, "--verify-sas", "1"});
    ASSERT_TRUE(p->wait_for_output("ZRTP-HASH", 3s));
    ASSERT_TRUE(k2->set_remote(peer_sdp(32372, {"zrtp-hash:" + harness_hash(p->output())}, "RTP/AVP"), 0, true));
    ASSERT_TRUE(run_until(loop, [&] { return rec.keys.size() == 2 || !rec.failures.empty(); }, 10s)) << p->output();
    EXPECT_EQ(k2->zrtp_show_json()["sas_verified"], false);
    ASSERT_TRUE(k2->verify_sas());
    EXPECT_EQ(k2->zrtp_show_json()["sas_verified"], true);
    run_until(loop, [&] { return p->wait_exit(0ms).has_value(); }, 6s);
    auto r3 = one_call(32323, {"--ka", "X255", "--cache", bz});
    expect_agreement(r3.out, r3.show, rec);
    EXPECT_EQ(r3.show["cache"], "match");
    EXPECT_EQ(r3.show["sas_verified"], true) << "the verified flag persists in the cache";
    EXPECT_EQ(r3.show["peer_sas_verified"], true) << "bzrtp's V flag (its user verified in call 2)";
    EXPECT_EQ(fields(r3.out, "SECURE").at("verified"), "1") << "and bzrtp saw our V flag (§5.7)";
}

TEST_F(ZrtpKeying, WrongZrtpHashFailsWithoutKeys) {
    auto k = keyer(32330);
    ASSERT_TRUE(k->set_remote(peer_sdp(32380, {"zrtp-hash:1.10 " + std::string(64, '0')}, "RTP/AVP"), 0, true));
    auto p = start_bzrtp(32330, 32380, *k, {"--ka", "X255", "--timeout-ms", "2000"});
    ASSERT_TRUE(run_until(loop, [&] { return !rec.failures.empty() || !rec.keys.empty(); }, 5s)) << p->output();
    EXPECT_TRUE(rec.keys.empty());
    ASSERT_EQ(rec.failures.size(), 1u);
    EXPECT_NE(rec.failures[0].find("zrtp-hash"), std::string::npos) << rec.failures[0];
    EXPECT_EQ(k->zrtp_show_json()["state"], "failed");
    auto bad = k->set_remote(peer_sdp(32380, {"zrtp-hash:garbage"}, "RTP/AVP"), 0, true);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("a=zrtp-hash"), std::string::npos);
}

// Two streams of one leg (audio and video to the same peer) share a stream group: the first
// keys in DH mode, the second in Multistream mode from its ZRTPSess (RFC 6189 §4.4.3).
TEST_F(ZrtpKeying, SecondStreamOfTheSameGroupUsesMultistream) {
    auto a = cm::zrtp_keying::create(loop, *rt, loopback(32340), rec.events(), "call-7/a").value();
    recorder rec2;
    auto v = cm::zrtp_keying::create(loop, *rt, loopback(32342), rec2.events(), "call-7/a").value();
    // bzrtp: stream k on 32345+2k, sending to 32340+2k; its second stream starts once the first is secure.
    peer_process p({"env", "ASAN_OPTIONS=detect_leaks=0", harness(), "--local", "32345", "--remote", "32340",
                    "--streams", "2", "--ka", "X255", "--timeout-ms", "8000", "--linger-ms", "800"},
                   dir / "bzrtp-ms.log", 15);
    ASSERT_TRUE(p.wait_for_output("ZRTP-HASH", 3s));
    ASSERT_TRUE(a->set_remote(peer_sdp(32345, {}, "RTP/AVP"), 0, true));
    ASSERT_TRUE(v->set_remote(peer_sdp(32347, {}, "RTP/AVP"), 0, true));
    ASSERT_TRUE(run_until(loop, [&] { return (!rec.keys.empty() && !rec2.keys.empty()) || !rec.failures.empty() ||
                                             !rec2.failures.empty(); },
                          10s))
        << p.output();
    run_until(loop, [&] { return p.wait_exit(0ms).has_value(); }, 5s);
    ASSERT_EQ(rec2.keys.size(), 1u) << (rec2.failures.empty() ? "" : rec2.failures[0]) << p.output();
    const auto out = p.output();
    EXPECT_NE(out.find("RESULT: OK"), std::string::npos) << out;
    const auto s0 = a->zrtp_show_json(), s1 = v->zrtp_show_json();
    EXPECT_EQ(s0["multistream"], false);
    EXPECT_EQ(s1["multistream"], true);
    EXPECT_EQ(s1["algorithms"]["key_agreement"], "Mult");
    EXPECT_EQ(s1["sas"], s0["sas"]) << "a Multistream stream shows the call's SAS";
    // The second stream's keys mirror bzrtp's second stream.
    std::istringstream in(out);
    std::string l, keys1;
    while (std::getline(in, l))
        if (l.rfind("KEYS stream=1 ", 0) == 0) keys1 = l;
    ASSERT_FALSE(keys1.empty()) << out;
    EXPECT_NE(keys1.find("tx=" + hex(rec2.keys[0].keying.remote.key_salt.bytes())), std::string::npos);
    EXPECT_NE(keys1.find("rx=" + hex(rec2.keys[0].keying.local.key_salt.bytes())), std::string::npos);
}

// No peer at all: T1 retransmissions, then a clean on_failed, no keys, timers gone.
TEST(ZrtpTimeout, NoPeerFailsCleanly) {
    temp_dir dir;
    auto loop = make_loop();
    auto cfg = config_in(dir.path());
    cfg.zrtp.exchange.handshake_timeout = 600ms;
    auto rt = make_runtime(cfg);
    recorder rec;
    auto k = cm::zrtp_keying::create(loop, *rt, loopback(32390), rec.events()).value();
    const auto t0 = steady_clock::now();
    ASSERT_TRUE(k->set_remote(peer_sdp(32391, {}, "RTP/AVP"), 0, false));
    ASSERT_TRUE(run_until(loop, [&] { return !rec.failures.empty(); }, 5s));
    const auto took = steady_clock::now() - t0;
    EXPECT_LT(took, 3s);
    EXPECT_TRUE(rec.keys.empty());
    EXPECT_NE(rec.failures[0].find("zrtp"), std::string::npos);
    const auto show = k->zrtp_show_json();
    EXPECT_EQ(show["state"], "failed");
    EXPECT_GE(show["port"]["sent"].get<int>(), 3) << "Hello was retransmitted on T1";
    // Nothing more happens on the loop for this keyer.
    const auto sent = show["port"]["sent"].get<int>();
    run_until(loop, [] { return false; }, 300ms);
    EXPECT_EQ(k->zrtp_show_json()["port"]["sent"], sent);
}

} // namespace
} // namespace srtpo::test::media
