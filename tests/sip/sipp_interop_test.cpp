// Interop with a real third-party SIP stack: SIPp (Debian sip-tester) over loopback TCP.
//  - sipp as UAC -> a UAS made of our parser/framer/serializer + SDP rewrite + SDES answerer:
//    sipp must accept our 100/200 (its regex pulls tag, suite and key out of our a=crypto) and
//    our 200 to its BYE; we check that the key sipp read is the one srtp_keying calls local,
//    and that srtp_keying.remote is the key sipp was given.
//  - our UAC -> sipp as UAS: sipp must accept our INVITE (with our SDES offer), ACK and BYE;
//    we read its answer with accept_answer.
//  - sipp offering no acceptable suite -> our UAS (server_transaction) answers 488 with a
//    Warning, which sipp must read, and absorbs sipp's ACK.
// Ports: 5074 (our UAS), 5075 (sipp UAC), 5076 (sipp UAS), 5078/5079 (sipp control),
// 5080-5087 (sipp media sockets, unused).

#include "peer_process.hpp"
#include "sip_test_util.hpp"

#include <srtpo/cp/sdes/negotiation.hpp>
#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sdp/media_rewrite.hpp>
#include <srtpo/cp/sip/dialog.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>
#include <srtpo/cp/sip/stream_framer.hpp>
#include <srtpo/cp/sip/transaction.hpp>

#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <regex>

namespace srtpo::cp {
namespace {

using namespace std::string_literals;

std::string scenario(const char* name) { return test::data_dir() + "/../scenarios/" + name; }

// A fresh 30-octet key||salt in base64, as the peer's own key.
std::string random_key_b64() {
    std::array<std::byte, 30> k{};
    EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), 30), 1);
    auto s = engine::encode_sdes_inline(k);
    return s->substr(7); // drop "inline:"
}

// Reads one SIP message from a TCP connection through the stream framer.
std::optional<sip::message> recv_message(int fd, sip::stream_framer& f, int ms = 10000) {
    for (int i = 0; i < 200; ++i) {
        auto fr = f.next();
        if (!fr) {
            ADD_FAILURE() << "framing: " << fr.err().message;
            return std::nullopt;
        }
        if (fr->what == sip::frame::kind::message) {
            auto m = sip::parse_message(fr->bytes, sip::transport_kind::stream);
            if (!m) {
                ADD_FAILURE() << "parse: " << m.err().message << "\n" << fr->bytes;
                return std::nullopt;
            }
            return std::move(*m);
        }
        if (fr->what == sip::frame::kind::ping) continue;
        auto got = test::recv_some(fd, ms);
        if (!got) return std::nullopt;
        if (!f.feed(*got)) return std::nullopt;
    }
    return std::nullopt;
}

std::string sipp_log_line(const std::string& log, const std::string& prefix) {
    std::ifstream f(log);
    std::string line;
    while (std::getline(f, line))
        if (auto p = line.find(prefix); p != std::string::npos) return line.substr(p);
    return {};
}

std::vector<std::string> sipp_base(const std::string& scen, uint16_t port, uint16_t cp, uint16_t mp,
                                   const std::string& log) {
    return {"timeout", "25", "sipp", "-sf", scen, "-t", "t1", "-i", "127.0.0.1", "-p", std::to_string(port),
            "-cp", std::to_string(cp), "-mp", std::to_string(mp), "-m", "1", "-nostdin", "-timeout", "15s",
            "-timeout_error", "-trace_logs", "-log_file", log};
}

// sipp as the UAC of one call against a one-connection UAS of ours on 127.0.0.1:5074.
class SippUac : public ::testing::Test {
protected:
    void start(const char* scen, const std::string& offer_key) {
        ASSERT_TRUE(test::in_path("sipp")) << "sipp missing: install sip-tester (scripts/install-deps.sh)";
        lfd = test::tcp_listen(5074);
        ASSERT_GE(lfd, 0) << "port 5074 busy";
        auto args = sipp_base(scenario(scen), 5075, 5078, 5080, dir.path() + "/uac.log");
        args.insert(args.end(), {"-s", "bob", "-key", "offer_key", offer_key, "127.0.0.1:5074"});
        sipp.pid = test::spawn(args, dir.path() + "/uac.out");
        ASSERT_GT(sipp.pid, 0);
        fd = test::tcp_accept(lfd, 10000);
        ASSERT_GE(fd, 0) << "sipp never connected";
    }
    std::optional<sip::message> next() { return recv_message(fd, framer); }
    /// sipp's exit status (0: its scenario passed), waiting at most 20 s.
    int finish() { return sipp.finish(20000); }
    std::string output() { return test::read_file(dir.path() + "/uac.out"); }
    std::string log_line(const std::string& prefix) { return sipp_log_line(dir.path() + "/uac.log", prefix); }
    void TearDown() override {
        if (fd >= 0) close(fd);
        if (lfd >= 0) close(lfd);
    }

    test::temp_dir dir;
    int lfd = -1;
    int fd = -1;
    test::child_guard sipp; ///< stopped by PID when the fixture is destroyed, if still running
    sip::stream_framer framer;
};

TEST_F(SippUac, AgainstOurSdesUas) {
    const std::string offer_key = random_key_b64();
    start("uac_sdes.xml", offer_key);
    if (HasFatalFailure()) return;
    auto invite = next();
    ASSERT_TRUE(invite) << "no INVITE; sipp said:\n" << output();
    EXPECT_EQ(invite->method, "INVITE");
    auto via = sip::parse_via(invite->header_values("Via").front());
    ASSERT_TRUE(via) << via.err().message;
    EXPECT_EQ(via->transport, "TCP");
    EXPECT_TRUE(via->branch().starts_with("z9hG4bK"));
    EXPECT_EQ(sip::parse_name_addr(*invite->header("From"))->display, "\"sipp A\"");

    // SDES answer: our preference picks tag 2 (AES_CM_128_HMAC_SHA1_80) over tag 1 (_32).
    auto offer_sdp = sdp::parse(invite->body);
    ASSERT_TRUE(offer_sdp) << offer_sdp.err().message;
    ASSERT_EQ(offer_sdp->media.size(), 1u);
    auto offered = sdes::crypto_attributes(offer_sdp->media[0]);
    ASSERT_TRUE(offered) << offered.err().message;
    ASSERT_EQ(offered->size(), 2u);
    sdes::policy pol;
    pol.preference = {engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32};
    auto ans = sdes::answer_offer(*offered, pol);
    ASSERT_TRUE(ans) << ans.err().message;
    EXPECT_EQ(ans->answer.tag, 2u);
    auto sipp_key = engine::parse_sdes_inline(offer_key);
    ASSERT_TRUE(sipp_key);
    EXPECT_TRUE(ans->keying.remote.key_salt.equals(sipp_key->key_salt.bytes()));
    EXPECT_EQ(ans->keying.remote.lifetime, uint64_t{1} << 20);
    EXPECT_EQ(ans->keying.remote.mki, (std::vector<std::byte>{std::byte{0}, std::byte{7}}));

    auto answer_sdp = *offer_sdp;
    ASSERT_TRUE(sdp::anchor_media(answer_sdp, 0, {.addrtype = "IP4", .address = "127.0.0.1", .rtp_port = 30000,
                                                  .rtcp_port = std::nullopt, .rtcp_mux = false}, sdp::profile::savp));
    ASSERT_TRUE(sdes::set_crypto_attributes(answer_sdp.media[0], std::span(&ans->answer, 1)));
    ASSERT_TRUE(sdp::anchor_session(answer_sdp, "IP4", "127.0.0.1", 1));
    EXPECT_EQ(*answer_sdp.media[0].attribute("rtcp"), "30001 IN IP4 127.0.0.1"); // RFC 3605

    ASSERT_TRUE(test::send_all(fd, sip::serialize(sip::make_response(*invite, 100))));
    auto ok = sip::make_response(*invite, 200, "srtpoUas1");
    ok.add_header("Contact", "<sip:bob@127.0.0.1:5074;transport=tcp>");
    ok.add_header("Content-Type", "application/sdp");
    ok.body = sdp::serialize(answer_sdp);
    ASSERT_TRUE(test::send_all(fd, sip::serialize(ok)));

    auto ack = next();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->method, "ACK");
    EXPECT_EQ(sip::parse_name_addr(*ack->header("To"))->tag(), "srtpoUas1");
    EXPECT_EQ(sip::parse_cseq(*ack->header("CSeq"))->number, 10u);
    auto bye = next();
    ASSERT_TRUE(bye);
    EXPECT_EQ(bye->method, "BYE");
    EXPECT_EQ(*bye->header("Call-ID"), *invite->header("Call-ID"));
    ASSERT_TRUE(test::send_all(fd, sip::serialize(sip::make_response(*bye, 200, "srtpoUas1"))));

    EXPECT_EQ(finish(), 0) << "sipp UAC failed; its output:\n" << output();

    // What sipp extracted from our 200 OK.
    const auto line = log_line("ANSWER ");
    std::smatch sm;
    ASSERT_TRUE(std::regex_search(line, sm, std::regex("tag=(\\d+) suite=(\\S+) key=(\\S+) port=(\\d+) proto=(\\S+)")))
        << "sipp log: " << line;
    EXPECT_EQ(sm[1], "2");
    EXPECT_EQ(sm[2], "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(sm[4], "30000");
    EXPECT_EQ(sm[5], "RTP/SAVP");
    auto seen = engine::parse_sdes_inline(sm[3].str());
    ASSERT_TRUE(seen) << seen.err().message;
    EXPECT_TRUE(seen->key_salt.equals(ans->keying.local.key_salt.bytes()));
}

TEST(SippInterop, OurSdesUacAgainstSippUas) {
    ASSERT_TRUE(test::in_path("sipp")) << "sipp missing: install sip-tester (scripts/install-deps.sh)";
    test::temp_dir dir;
    const std::string answer_key = random_key_b64();
    auto args = sipp_base(scenario("uas_sdes.xml"), 5076, 5079, 5084, dir.path() + "/uas.log");
    args.insert(args.end(), {"-key", "answer_key", answer_key});
    test::child_guard sipp{test::spawn(args, dir.path() + "/uas.out")};
    ASSERT_GT(sipp.pid, 0);
    const int fd = test::tcp_connect(5076, 5000);
    ASSERT_GE(fd, 0) << "sipp UAS did not listen";
    const auto lport = std::to_string(test::local_port(fd));

    sdes::policy pol;
    pol.preference = {engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32};
    auto offer = sdes::make_offer(pol);
    ASSERT_TRUE(offer);
    auto sd = sdp::parse("v=0\r\no=srtpo 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                         "m=audio 30002 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
    ASSERT_TRUE(sd);
    ASSERT_TRUE(sdes::set_crypto_attributes(sd->media[0], offer->offered));

    sip::message inv;
    inv.method = "INVITE";
    inv.request_uri = "sip:bob@127.0.0.1:5076;transport=tcp";
    sip::via v{.transport = "TCP", .host = "127.0.0.1", .port = test::local_port(fd), .params = {}};
    sip::set_param(v.params, "branch", "z9hG4bKsrtpo1"s);
    inv.add_header("Via", sip::to_string(v));
    inv.add_header("Max-Forwards", "70");
    inv.add_header("From", "<sip:alice@127.0.0.1>;tag=srtpoUac1");
    inv.add_header("To", "<sip:bob@127.0.0.1:5076>");
    inv.add_header("Call-ID", "srtpo-interop-1@127.0.0.1");
    inv.add_header("CSeq", "1 INVITE");
    inv.add_header("Contact", "<sip:alice@127.0.0.1:" + lport + ";transport=tcp>");
    inv.add_header("Content-Type", "application/sdp");
    inv.body = sdp::serialize(*sd);
    ASSERT_TRUE(test::send_all(fd, sip::serialize(inv)));

    sip::stream_framer framer;
    std::optional<sip::message> resp;
    do {
        resp = recv_message(fd, framer);
        ASSERT_TRUE(resp) << "no final response; sipp said:\n" << test::read_file(dir.path() + "/uas.out");
    } while (resp->status_code < 200);
    ASSERT_EQ(resp->status_code, 200);
    const auto to = *resp->header("To");
    EXPECT_FALSE(sip::parse_name_addr(to)->tag().empty());
    auto asd = sdp::parse(resp->body);
    ASSERT_TRUE(asd) << asd.err().message;
    auto answer = sdes::crypto_attributes(asd->media.at(0));
    ASSERT_TRUE(answer);
    auto keying = sdes::accept_answer(*offer, *answer, pol);
    ASSERT_TRUE(keying) << keying.err().message;
    EXPECT_EQ(keying->suite, engine::suite::aes_cm_128_hmac_sha1_80);
    auto theirs = engine::parse_sdes_inline(answer_key);
    ASSERT_TRUE(theirs);
    EXPECT_TRUE(keying->remote.key_salt.equals(theirs->key_salt.bytes()));
    EXPECT_EQ(keying->remote.lifetime, uint64_t{1} << 30);
    EXPECT_TRUE(keying->local.key_salt.equals(offer->offered[0].keys[0].key_salt.bytes()));

    // ACK and BYE built by the dialog helpers (RFC 3261 §12.1.2, §13.2.2.4, §15.1.1); sipp
    // matches them to its dialog by Call-ID and tags.
    auto dlg = sip::dialog_as_uac(inv, *resp);
    ASSERT_TRUE(dlg) << dlg.err().message;
    EXPECT_EQ(dlg->remote_target, "sip:bob@127.0.0.1:5076;transport=tcp");
    const std::string sent_by = "127.0.0.1:" + lport;
    auto ack_branch = sip::new_branch();
    auto bye_branch = sip::new_branch();
    ASSERT_TRUE(ack_branch && bye_branch);
    ASSERT_TRUE(test::send_all(fd, sip::serialize(sip::make_ack_for_2xx(*dlg, 1, "TCP", sent_by, *ack_branch))));
    auto bye = sip::make_in_dialog_request(*dlg, "BYE", "TCP", sent_by, *bye_branch);
    EXPECT_EQ(*bye.header("CSeq"), "2 BYE");
    ASSERT_TRUE(test::send_all(fd, sip::serialize(bye)));
    auto bye_ok = recv_message(fd, framer);
    ASSERT_TRUE(bye_ok);
    EXPECT_EQ(bye_ok->status_code, 200);
    EXPECT_EQ(sip::parse_cseq(*bye_ok->header("CSeq"))->method, "BYE");

    const int rc = sipp.finish(20000);
    close(fd);
    EXPECT_EQ(rc, 0) << "sipp UAS failed; its output:\n" << test::read_file(dir.path() + "/uas.out");
    // sipp pulled our tag-1 key out of the INVITE we serialized.
    const auto line = sipp_log_line(dir.path() + "/uas.log", "OFFER key=");
    auto seen = engine::parse_sdes_inline(line.substr(10, line.find(' ', 10) - 10));
    ASSERT_TRUE(seen) << "sipp log: " << line;
    EXPECT_TRUE(seen->key_salt.equals(keying->local.key_salt.bytes()));
}

TEST_F(SippUac, NoCommonSuiteGets488WithWarning) {
    start("uac_no_common_suite.xml", random_key_b64());
    if (HasFatalFailure()) return;
    auto invite = next();
    ASSERT_TRUE(invite) << "no INVITE; sipp said:\n" << output();
    const sip::ms t0{0};
    sip::server_transaction tx(*invite, true, t0);
    for (const auto& s : tx.started().send) ASSERT_TRUE(test::send_all(fd, s)); // 100 Trying

    auto sd = sdp::parse(invite->body);
    ASSERT_TRUE(sd);
    auto offered = sdes::crypto_attributes(sd->media.at(0));
    ASSERT_TRUE(offered) << offered.err().message;
    auto ans = sdes::answer_offer(*offered, sdes::policy{});
    ASSERT_FALSE(ans);
    const auto code = sdes::warn_code_for(ans.err());
    EXPECT_EQ(code, 305);
    auto resp = sip::make_488(*invite, "srtpoUas2", static_cast<sip::warn_code>(code), "127.0.0.1:5074",
                              ans.err().message);
    for (const auto& s : tx.respond(resp, t0 + sip::ms{1}).send) ASSERT_TRUE(test::send_all(fd, s));
    EXPECT_EQ(tx.state(), sip::tx_state::completed);
    auto ack = next();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->method, "ACK");
    EXPECT_EQ(*sip::transaction_key(*ack, true), *sip::transaction_key(*invite, true)); // same transaction
    EXPECT_TRUE(tx.on_request(*ack, t0 + sip::ms{2}).send.empty());
    EXPECT_EQ(tx.state(), sip::tx_state::confirmed);
    tx.on_timer(t0 + sip::ms{2}); // Timer I = 0 on TCP
    EXPECT_EQ(tx.state(), sip::tx_state::terminated);

    EXPECT_EQ(finish(), 0) << "sipp UAC failed; its output:\n" << output();
    EXPECT_NE(log_line("WARNING ").find("305 127.0.0.1:5074 \"no offered SRTP crypto-suite"), std::string::npos)
        << log_line("WARNING ");
}

} // namespace
} // namespace srtpo::cp
