// The B2BUA core (control-plane/b2bua) driven in process through a loopback transport: every
// message it sends is captured and parsed back with our SIP parser; what the peers would send is
// injected with on_message(). Timers run on a real srtpo-cp event loop with T1 = 10 ms.
// The media handler is tests/b2bua/fake_call_engine.hpp (a recording rewrite double).

#include "fake_call_engine.hpp"

#include <srtpo/cp/b2bua/b2bua.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>

#include <gtest/gtest.h>

#include <deque>

namespace srtpo::cp::b2bua {
namespace {

using namespace std::chrono_literals;
using call::side;

struct sent {
    peer to;
    sip::message m;
};

// Loopback double of the socket transport: records what the core sends.
class loopback_transport final : public transport {
public:
    std::deque<sent> out;
    engine::result<uint64_t> send(const peer& to, std::string_view bytes) override {
        auto m = sip::parse_message(bytes, sip::transport_kind::stream);
        EXPECT_TRUE(m) << (m ? "" : m.err().message) << "\n" << bytes;
        if (m) out.push_back({to, std::move(*m)});
        return uint64_t{to.connection ? to.connection : 99};
    }
    std::string sent_by(transport_kind) const override { return "192.0.2.1:5060"; }
};

const peer A{transport_kind::tcp, "198.51.100.7", 40123, 7};

std::string offer_sdp(const char* ip, int port, const char* dir = "sendrecv") {
    return "v=0\r\no=- 1 1 IN IP4 " + std::string(ip) + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
           " RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\na=" + dir + "\r\n";
}

class B2buaCore : public ::testing::Test {
protected:
    B2buaCore() : loop(event_loop::create({}).value()) {
        cfg.t1 = 10ms;
        cfg.t2 = 40ms;
        cfg.t4 = 50ms;
        route r;
        r.domain = "example.com";
        r.next_hop = hop{transport_kind::tcp, "203.0.113.5", 5070};
        r.b_policy.method = call::keying_method::sdes;
        cfg.routes.push_back(r);
        core = std::make_unique<b2bua>(cfg, loop, tp, media);
    }
    ~B2buaCore() override { core.reset(); }

    void run_for(std::chrono::milliseconds d) {
        loop.after(d, [this] { loop.stop(); });
        ASSERT_TRUE(loop.run());
    }

    void inject(const std::string& text, const peer& from) {
        auto m = sip::parse_message(text, sip::transport_kind::stream);
        ASSERT_TRUE(m) << m.err().message << "\n" << text;
        // What the socket transport does to a received request's top Via (§18.2.1).
        if (m->is_request()) {
            auto v = sip::parse_via(m->header_values("Via").front());
            sip::stamp_via_source(*v, from.host, from.port);
            auto rest = m->header_values("Via");
            std::vector<std::string> vals(rest.begin() + 1, rest.end());
            m->remove_header("Via");
            for (auto it = vals.rbegin(); it != vals.rend(); ++it) m->push_front_header("Via", *it);
            m->push_front_header("Via", sip::to_string(*v));
        }
        core->on_message(std::move(*m), from);
    }

    /// Takes the next sent message, which must go to `to_conn` (A) or to the next hop (B).
    sip::message take(bool to_a) {
        EXPECT_FALSE(tp.out.empty()) << "nothing sent";
        if (tp.out.empty()) return {};
        auto s = std::move(tp.out.front());
        tp.out.pop_front();
        if (to_a) EXPECT_EQ(s.to.connection, A.connection) << s.m.method << s.m.status_code;
        else EXPECT_EQ(s.to.host, "203.0.113.5") << s.m.method << s.m.status_code;
        return std::move(s.m);
    }

    static std::string invite(const std::string& body, const char* branch = "z9hG4bKa1", const char* mf = "70",
                              const char* domain = "example.com") {
        std::string s = "INVITE sip:bob@" + std::string(domain) + " SIP/2.0\r\n"
                        "Via: SIP/2.0/TCP 198.51.100.7:5060;branch=" + branch + "\r\n"
                        "Max-Forwards: " + mf + "\r\n"
                        "From: \"Alice\" <sip:alice@example.org>;tag=atag\r\n"
                        "To: <sip:bob@example.com>\r\n"
                        "Call-ID: a-call-1@198.51.100.7\r\n"
                        "CSeq: 5 INVITE\r\n"
                        "Contact: <sip:alice@198.51.100.7:5060;transport=tcp>\r\n";
        if (!body.empty()) s += "Content-Type: application/sdp\r\n";
        return s + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }

    // A response from leg B to the request `req` we sent there.
    static std::string response_to(const sip::message& req, int code, const std::string& to_tag, const std::string& body = {}) {
        auto r = sip::make_response(req, code, to_tag);
        if (code >= 200 && code < 300) r.add_header("Contact", "<sip:bob@203.0.113.5:5070;transport=tcp>");
        if (!body.empty()) {
            r.add_header("Content-Type", "application/sdp");
            r.body = body;
        }
        return sip::serialize(r);
    }

    static std::string tag_of(const std::string* h) { return h ? std::string(sip::parse_name_addr(*h)->tag()) : std::string{}; }

    /// INVITE with an SDP offer, 180, 200, ACK: leaves an established call. Returns B's INVITE.
    sip::message set_up(bool late_offer = false) {
        inject(invite(late_offer ? "" : offer_sdp("198.51.100.7", 10000)), A);
        EXPECT_EQ(take(true).status_code, 100);
        auto binv = take(false);
        EXPECT_EQ(binv.method, "INVITE");
        inject(response_to(binv, 180, "btag"), peer{transport_kind::tcp, "203.0.113.5", 5070, 99});
        auto ringing = take(true);
        EXPECT_EQ(ringing.status_code, 180);
        const std::string b_answer = late_offer ? offer_sdp("203.0.113.5", 20000) : offer_sdp("203.0.113.5", 20000);
        inject(response_to(binv, 200, "btag", b_answer), peer{transport_kind::tcp, "203.0.113.5", 5070, 99});
        auto ok = take(true);
        EXPECT_EQ(ok.status_code, 200);
        EXPECT_EQ(tag_of(ok.header("To")), tag_of(ringing.header("To"))) << "one To tag on leg A";
        a_tag = tag_of(ok.header("To"));
        std::string ack = "ACK sip:srtpo@192.0.2.1:5060;transport=tcp SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKack1\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: \"Alice\" <sip:alice@example.org>;tag=atag\r\n"
                          "To: <sip:bob@example.com>;tag=" + a_tag + "\r\n"
                          "Call-ID: a-call-1@198.51.100.7\r\nCSeq: 5 ACK\r\n";
        std::string ack_body = late_offer ? offer_sdp("198.51.100.7", 10000) : "";
        if (!ack_body.empty()) ack += "Content-Type: application/sdp\r\n";
        ack += "Content-Length: " + std::to_string(ack_body.size()) + "\r\n\r\n" + ack_body;
        inject(ack, A);
        auto back = take(false);
        EXPECT_EQ(back.method, "ACK");
        b_ack = back;
        return binv;
    }

    sip_config cfg;
    event_loop loop;
    loopback_transport tp;
    test::fake_call_engine media;
    std::unique_ptr<b2bua> core;
    std::string a_tag;
    sip::message b_ack;
    const peer B{transport_kind::tcp, "203.0.113.5", 5070, 99};
};

TEST_F(B2buaCore, BasicCallBridgesBothDialogsAndRewritesSdp) {
    auto binv = set_up();
    // Leg B is a new dialog: new Call-ID, new From tag, Max-Forwards decremented, our Via.
    EXPECT_NE(*binv.header("Call-ID"), "a-call-1@198.51.100.7");
    EXPECT_NE(tag_of(binv.header("From")), "atag");
    EXPECT_EQ(*binv.header("Max-Forwards"), "69");
    EXPECT_EQ(binv.request_uri, "sip:bob@example.com");
    auto via = sip::parse_via(binv.header_values("Via").front());
    EXPECT_EQ(via->host, "192.0.2.1");
    EXPECT_EQ(binv.header_values("Via").size(), 1u) << "leg A's Via must not leak into leg B";
    // The SDP B saw is the handler's rewrite, never the caller's key or address.
    EXPECT_NE(binv.body.find("c=IN IP4 192.0.2.20"), std::string::npos) << binv.body;
    EXPECT_EQ(binv.body.find("a=crypto"), std::string::npos);
    EXPECT_EQ(binv.body.find("198.51.100.7"), std::string::npos);
    ASSERT_GE(media.calls.size(), 2u);
    EXPECT_EQ(media.calls[0].op, "offer");
    EXPECT_EQ(media.calls[0].side, side::a);
    EXPECT_EQ(media.calls[0].to_method, call::keying_method::sdes) << "route's b_keying policy passed";
    EXPECT_EQ(media.calls[0].call_id, *binv.header("Call-ID"));
    EXPECT_EQ(media.calls[1].op, "answer");
    EXPECT_EQ(media.calls[1].side, side::b);
    // End-to-end ACK on leg B: B's To tag, the INVITE's CSeq number.
    EXPECT_EQ(tag_of(b_ack.header("To")), "btag");
    EXPECT_EQ(sip::parse_cseq(*b_ack.header("CSeq"))->number, 1u);
    EXPECT_EQ(core->stats().calls_set_up, 1u);

    // BYE from B: answered 200 on B, relayed to A in A's dialog.
    sip::dialog bd{*binv.header("Call-ID"), "btag", tag_of(binv.header("From")), "<sip:bob@example.com>", "<sip:alice@example.org>",
                   "sip:srtpo@192.0.2.1:5060", {}, 1, 0};
    auto bye = sip::make_in_dialog_request(bd, "BYE", "TCP", "203.0.113.5:5070", "z9hG4bKbye1");
    inject(sip::serialize(bye), B);
    auto bye_ok = take(false);
    EXPECT_EQ(bye_ok.status_code, 200);
    auto abye = take(true);
    EXPECT_EQ(abye.method, "BYE");
    EXPECT_EQ(*abye.header("Call-ID"), "a-call-1@198.51.100.7");
    EXPECT_EQ(tag_of(abye.header("From")), a_tag);
    EXPECT_EQ(tag_of(abye.header("To")), "atag");
    EXPECT_EQ(abye.request_uri, "sip:alice@198.51.100.7:5060;transport=tcp");
    EXPECT_EQ(media.count("remove"), 1u);
    EXPECT_EQ(core->calls_active(), 0u);
}

TEST_F(B2buaCore, CancelBeforeAnswerGives487AndCancelsLegB) {
    inject(invite(offer_sdp("198.51.100.7", 10000)), A);
    take(true);
    auto binv = take(false);
    inject(response_to(binv, 180, "btag"), B);
    take(true);
    inject("CANCEL sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKa1\r\nMax-Forwards: 70\r\n"
           "From: \"Alice\" <sip:alice@example.org>;tag=atag\r\nTo: <sip:bob@example.com>\r\nCall-ID: a-call-1@198.51.100.7\r\n"
           "CSeq: 5 CANCEL\r\nContent-Length: 0\r\n\r\n",
           A);
    auto c200 = take(true);
    EXPECT_EQ(c200.status_code, 200);
    EXPECT_EQ(sip::parse_cseq(*c200.header("CSeq"))->method, "CANCEL");
    auto r487 = take(true);
    EXPECT_EQ(r487.status_code, 487);
    EXPECT_EQ(sip::parse_cseq(*r487.header("CSeq"))->method, "INVITE");
    auto bcancel = take(false);
    EXPECT_EQ(bcancel.method, "CANCEL");
    EXPECT_EQ(sip::parse_via(bcancel.header_values("Via").front())->branch(), sip::parse_via(binv.header_values("Via").front())->branch());
    inject(response_to(bcancel, 200, "btag"), B);
    inject(response_to(binv, 487, "btag"), B);
    auto back = take(false);
    EXPECT_EQ(back.method, "ACK"); // hop-by-hop ACK of the 487 by the client transaction
    EXPECT_EQ(media.count("reject_offer"), 1u);
    EXPECT_EQ(media.count("remove"), 1u);
    EXPECT_EQ(core->calls_active(), 0u);
    // The caller ACKs the 487: absorbed by the server transaction, nothing relayed.
    inject("ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKa1\r\nMax-Forwards: 70\r\n"
           "From: \"Alice\" <sip:alice@example.org>;tag=atag\r\nTo: <sip:bob@example.com>;tag=" + tag_of(r487.header("To")) +
               "\r\nCall-ID: a-call-1@198.51.100.7\r\nCSeq: 5 ACK\r\nContent-Length: 0\r\n\r\n",
           A);
    EXPECT_TRUE(tp.out.empty());
}

TEST_F(B2buaCore, ErrorResponseIsRelayedAndAckedHopByHop) {
    inject(invite(offer_sdp("198.51.100.7", 10000)), A);
    take(true);
    auto binv = take(false);
    auto busy = sip::make_response(binv, 486, "btag");
    busy.add_header("Retry-After", "30");
    inject(sip::serialize(busy), B);
    auto back = take(false);
    EXPECT_EQ(back.method, "ACK");
    auto r = take(true);
    EXPECT_EQ(r.status_code, 486);
    EXPECT_EQ(*r.header("Retry-After"), "30");
    EXPECT_EQ(*r.header("Call-ID"), "a-call-1@198.51.100.7");
    EXPECT_EQ(media.count("reject_offer"), 1u);
    EXPECT_EQ(core->calls_active(), 0u);
    EXPECT_EQ(core->stats().failed.at("486"), 1u);
}

TEST_F(B2buaCore, MediaHandlerErrorsBecome488WithWarningOr503) {
    media.fail_next_offer = api::make_api_error(api::api_errc::unknown_suite, "", "no common crypto-suite");
    inject(invite(offer_sdp("198.51.100.7", 10000)), A);
    EXPECT_EQ(take(true).status_code, 100);
    auto r = take(true);
    EXPECT_EQ(r.status_code, 488);
    ASSERT_NE(r.header("Warning"), nullptr);
    EXPECT_EQ(r.header("Warning")->rfind("305 192.0.2.1:5060 \"no common crypto-suite\"", 0), 0u) << *r.header("Warning");
    EXPECT_TRUE(tp.out.empty()) << "nothing may go to leg B";

    media.fail_next_offer = api::make_api_error(api::api_errc::table_full, "", "media ports exhausted");
    inject(invite(offer_sdp("198.51.100.7", 10000), "z9hG4bKa2"), A);
    take(true);
    auto r2 = take(true);
    EXPECT_EQ(r2.status_code, 503);
    ASSERT_NE(r2.header("Retry-After"), nullptr);
    EXPECT_TRUE(tp.out.empty());
}

TEST_F(B2buaCore, RefusedAnswerIn2xxHangsUpLegBAndGives488) {
    inject(invite(offer_sdp("198.51.100.7", 10000)), A);
    take(true);
    auto binv = take(false);
    media.fail_next_answer = api::make_api_error(api::api_errc::unsupported, "", "UNENCRYPTED_SRTP not allowed");
    inject(response_to(binv, 200, "btag", offer_sdp("203.0.113.5", 20000)), B);
    auto ack = take(false);
    EXPECT_EQ(ack.method, "ACK");
    auto r = take(true);
    EXPECT_EQ(r.status_code, 488);
    EXPECT_EQ(r.header("Warning")->rfind("306 ", 0), 0u) << *r.header("Warning");
    auto bye = take(false);
    EXPECT_EQ(bye.method, "BYE");
    EXPECT_EQ(core->calls_active(), 0u);
    EXPECT_EQ(media.count("remove"), 1u);
}

TEST_F(B2buaCore, RefusedReofferGets488AndTheCallStays) {
    set_up();
    media.fail_next_offer = api::make_api_error(api::api_errc::unknown_suite, "", "no common crypto-suite");
    inject("INVITE sip:srtpo@192.0.2.1:5060;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKre2\r\n"
           "Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.org>;tag=atag\r\nTo: <sip:bob@example.com>;tag=" + a_tag +
               "\r\nCall-ID: a-call-1@198.51.100.7\r\nCSeq: 6 INVITE\r\nContact: <sip:alice@198.51.100.7:5060;transport=tcp>\r\n"
               "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(offer_sdp("198.51.100.7", 10002).size()) + "\r\n\r\n" +
               offer_sdp("198.51.100.7", 10002),
           A);
    EXPECT_EQ(take(true).status_code, 100);
    auto r = take(true);
    EXPECT_EQ(r.status_code, 488);
    EXPECT_TRUE(tp.out.empty()) << "the refused re-offer must not reach leg B";
    EXPECT_EQ(core->calls_active(), 1u);
    EXPECT_EQ(media.count("remove"), 0u);
}

TEST_F(B2buaCore, RoutingLoopAndLimitsAnswers) {
    inject(invite("", "z9hG4bKr1", "70", "nowhere.example"), A);
    take(true);
    EXPECT_EQ(take(true).status_code, 404);
    inject(invite("", "z9hG4bKr2", "0"), A);
    take(true);
    EXPECT_EQ(take(true).status_code, 483);
    // Our own branch coming back in a Via is a loop.
    auto first = [&] {
        inject(invite("", "z9hG4bKr3"), A);
        take(true);
        return take(false);
    }();
    const std::string ours = std::string(sip::parse_via(first.header_values("Via").front())->branch());
    std::string looped = invite("", "z9hG4bKr4");
    looped.insert(looped.find("Max-Forwards"), "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=" + ours + "\r\n");
    inject(looped, A);
    take(true);
    EXPECT_EQ(take(true).status_code, 482);
    // OPTIONS out of dialog: answered by us. Unknown dialog: 481. Unknown method: 501.
    inject("OPTIONS sip:srtpo@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKo1\r\nMax-Forwards: 70\r\n"
           "From: <sip:mon@example.org>;tag=m1\r\nTo: <sip:srtpo@192.0.2.1>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
           A);
    auto o = take(true);
    EXPECT_EQ(o.status_code, 200);
    EXPECT_NE(o.header("Allow"), nullptr);
    inject("BYE sip:srtpo@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKo2\r\nMax-Forwards: 70\r\n"
           "From: <sip:mon@example.org>;tag=m1\r\nTo: <sip:srtpo@192.0.2.1>;tag=nosuch\r\nCall-ID: opt2\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
           A);
    EXPECT_EQ(take(true).status_code, 481);
    inject("FOO sip:srtpo@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKo3\r\nMax-Forwards: 70\r\n"
           "From: <sip:mon@example.org>;tag=m1\r\nTo: <sip:srtpo@192.0.2.1>\r\nCall-ID: opt3\r\nCSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n",
           A);
    EXPECT_EQ(take(true).status_code, 501);
}

TEST_F(B2buaCore, No2xxAckRetransmitsThenByesBothLegs) {
    inject(invite(offer_sdp("198.51.100.7", 10000)), A);
    take(true);
    auto binv = take(false);
    inject(response_to(binv, 200, "btag", offer_sdp("203.0.113.5", 20000)), B);
    EXPECT_EQ(take(true).status_code, 200);
    run_for(64 * cfg.t1 + 150ms);
    int retransmitted = 0;
    int retransmitted_at_ack = -1;
    bool bye_a = false, bye_b = false, acked_b = false;
    while (!tp.out.empty()) {
        auto s = std::move(tp.out.front());
        tp.out.pop_front();
        if (s.m.status_code == 200) ++retransmitted;
        if (s.m.method == "BYE") {
            (s.to.connection == A.connection ? bye_a : bye_b) = true;
            if (s.to.connection != A.connection) {
                EXPECT_TRUE(acked_b) << "leg B's 2xx must be ACKed before its BYE";
            }
        }
        if (s.m.method == "ACK") {
            // End to end: leg B's 2xx is ACKed only when the call is given up, right before B's BYE.
            retransmitted_at_ack = retransmitted;
            EXPECT_FALSE(bye_b);
            EXPECT_EQ(s.to.host, "203.0.113.5");
            acked_b = true;
        }
    }
    EXPECT_TRUE(acked_b);
    EXPECT_EQ(retransmitted_at_ack, retransmitted) << "leg B was ACKed before the 2xx to leg A was given up";
    // §13.3.1.4: T1, 2T1, 4T1, then every T2 until 64*T1: 10+20+40 then 40 ms steps up to 640 ms.
    EXPECT_GE(retransmitted, 10);
    EXPECT_LE(retransmitted, 20);
    EXPECT_TRUE(bye_a);
    EXPECT_TRUE(bye_b);
    EXPECT_EQ(core->calls_active(), 0u);
    EXPECT_EQ(core->stats().failed.at("no ACK"), 1u);
    EXPECT_EQ(media.count("remove"), 1u);
}

TEST_F(B2buaCore, ReinviteFromBIsRelayedThroughTheMediaHandler) {
    auto binv = set_up();
    sip::dialog bd{*binv.header("Call-ID"), "btag", tag_of(binv.header("From")), "<sip:bob@example.com>", "<sip:alice@example.org>",
                   "sip:srtpo@192.0.2.1:5060", {}, 1, 0};
    auto re = sip::make_in_dialog_request(bd, "INVITE", "TCP", "203.0.113.5:5070", "z9hG4bKre1");
    re.add_header("Contact", "<sip:bob@203.0.113.5:5070;transport=tcp>");
    re.add_header("Content-Type", "application/sdp");
    re.body = offer_sdp("203.0.113.5", 20000, "sendonly");
    inject(sip::serialize(re), B);
    EXPECT_EQ(take(false).status_code, 100);
    auto ainv = take(true);
    EXPECT_EQ(ainv.method, "INVITE");
    EXPECT_EQ(*ainv.header("Call-ID"), "a-call-1@198.51.100.7");
    EXPECT_NE(ainv.body.find("a=sendonly"), std::string::npos);
    EXPECT_NE(ainv.body.find("c=IN IP4 192.0.2.10"), std::string::npos) << ainv.body;
    EXPECT_EQ(media.calls.back().op, "offer");
    EXPECT_EQ(media.calls.back().side, side::b);
    inject(response_to(ainv, 200, "atag", offer_sdp("198.51.100.7", 10000, "recvonly")), A);
    auto bok = take(false);
    EXPECT_EQ(bok.status_code, 200);
    EXPECT_NE(bok.body.find("a=recvonly"), std::string::npos);
    EXPECT_NE(bok.body.find("c=IN IP4 192.0.2.20"), std::string::npos);
    EXPECT_EQ(media.calls.back().op, "answer");
    EXPECT_EQ(media.calls.back().side, side::a);
    auto ack = sip::make_ack_for_2xx(bd, sip::parse_cseq(*re.header("CSeq"))->number, "TCP", "203.0.113.5:5070", "z9hG4bKreack");
    inject(sip::serialize(ack), B);
    auto aack = take(true);
    EXPECT_EQ(aack.method, "ACK");
    EXPECT_EQ(sip::parse_cseq(*aack.header("CSeq"))->number, sip::parse_cseq(*ainv.header("CSeq"))->number);
    EXPECT_EQ(core->calls_active(), 1u);
}

TEST_F(B2buaCore, LateOfferAnswerTravelsInTheAck) {
    set_up(true);
    // The offer came in B's 2xx (offer from side b), the answer in A's ACK (answer from side a).
    ASSERT_EQ(media.calls.size(), 2u);
    EXPECT_EQ(media.calls[0].op, "offer");
    EXPECT_EQ(media.calls[0].side, side::b);
    EXPECT_EQ(media.calls[1].op, "answer");
    EXPECT_EQ(media.calls[1].side, side::a);
    EXPECT_NE(b_ack.body.find("c=IN IP4 192.0.2.20"), std::string::npos) << b_ack.body;
    EXPECT_EQ(*b_ack.header("Content-Type"), "application/sdp");
}

TEST_F(B2buaCore, TransportLossOnLegAByesLegB) {
    set_up();
    core->on_connection_closed(A.connection);
    auto bye = take(false);
    EXPECT_EQ(bye.method, "BYE");
    EXPECT_EQ(tag_of(bye.header("To")), "btag");
    EXPECT_EQ(core->calls_active(), 0u);
    EXPECT_EQ(media.count("remove"), 1u);
}

} // namespace
} // namespace srtpo::cp::b2bua
