// Stream framing (RFC 3261 §18.3, RFC 5626 keep-alives) and response building (§8.2.6, §20.43).

#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>
#include <srtpo/cp/sip/stream_framer.hpp>

#include <gtest/gtest.h>

namespace srtpo::cp::sip {
namespace {

const std::string options =
    "OPTIONS sip:b@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1\r\n"
    "From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>\r\n"
    "Call-ID: k1\r\nCSeq: 7 OPTIONS\r\nTimestamp: 54\r\n"
    "Content-Type: text/plain\r\nl: 5\r\n\r\nhello";

TEST(StreamFramer, ByteByByteThenTwoInOneRead) {
    stream_framer f;
    for (char c : options) {
        ASSERT_TRUE(f.feed(std::string_view(&c, 1)));
        auto fr = f.next();
        ASSERT_TRUE(fr) << fr.err().message;
        if (fr->what == frame::kind::message) {
            EXPECT_EQ(fr->bytes, options);
            EXPECT_EQ(f.buffered(), 0u);
        }
    }
    ASSERT_TRUE(f.feed("\r\n\r\n" + options + options.substr(0, 20)));
    auto ping = f.next();
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->what, frame::kind::ping);
    auto m1 = f.next();
    ASSERT_TRUE(m1);
    ASSERT_EQ(m1->what, frame::kind::message);
    EXPECT_TRUE(parse_message(m1->bytes));
    auto none = f.next();
    ASSERT_TRUE(none);
    EXPECT_EQ(none->what, frame::kind::none);
    EXPECT_EQ(f.buffered(), 20u);
}

TEST(StreamFramer, FatalErrors) {
    struct c { std::string in; std::string err; };
    for (const auto& t : std::vector<c>{
             {"OPTIONS sip:b SIP/2.0\r\nVia: x\r\n\r\n", "Content-Length missing"},
             {"OPTIONS sip:b SIP/2.0\r\nContent-Length: -1\r\n\r\n", "non-negative"},
             {"OPTIONS sip:b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx", "more than once"},
             {"OPTIONS sip:b SIP/2.0\r\nContent-Length: 70000\r\n\r\n", "body limit"},
         }) {
        stream_framer f;
        ASSERT_TRUE(f.feed(t.in));
        auto r = f.next();
        ASSERT_FALSE(r) << t.in;
        EXPECT_NE(r.err().message.find(t.err), std::string::npos) << r.err().message;
        EXPECT_TRUE(f.failed());
        EXPECT_FALSE(f.next());
        EXPECT_FALSE(f.feed("more"));
    }
    stream_framer big(framer_limits{.max_header = 64, .max_body = 10, .max_buffered = 1000});
    ASSERT_TRUE(big.feed(std::string(100, 'A')));
    auto r = big.next();
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("header section longer"), std::string::npos);
    stream_framer flood(framer_limits{.max_header = 64, .max_body = 10, .max_buffered = 100});
    EXPECT_FALSE(flood.feed(std::string(101, 'A')));
}

TEST(Responses, CopiesTheRightHeadersAndTagsTo) {
    auto req = parse_message(options);
    ASSERT_TRUE(req);
    auto trying = make_response(*req, 100, "t9");
    EXPECT_EQ(trying.reason, "Trying");
    EXPECT_EQ(parse_name_addr(*trying.header("To"))->tag(), ""); // no tag on 100
    EXPECT_EQ(*trying.header("Timestamp"), "54");
    auto ok = make_response(*req, 200, "t9");
    EXPECT_EQ(parse_name_addr(*ok.header("To"))->tag(), "t9");
    EXPECT_EQ(*ok.header("CSeq"), "7 OPTIONS");
    EXPECT_EQ(*ok.header("Call-ID"), "k1");
    auto wire = serialize(ok);
    EXPECT_TRUE(wire.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1\r\n"));
    auto back = parse_message(wire);
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(back->status_code, 200);

    auto na = make_488(*req, "t9", warn_code::incompatible_media_format, "sbc.example.com",
                       "no common \"SRTP\" suite\r\n");
    EXPECT_EQ(na.status_code, 488);
    EXPECT_EQ(*na.header("Warning"), "305 sbc.example.com \"no common \\\"SRTP\\\" suite\"");
    EXPECT_TRUE(parse_message(serialize(na)));
    auto busy = make_503(*req, "t9", 30);
    EXPECT_EQ(*busy.header("Retry-After"), "30");
    EXPECT_EQ(busy.reason, "Service Unavailable");
}

TEST(Responses, UnparseableRequestGets400OrIsDropped) {
    const std::string bad =
        "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK2\r\n"
        "From: <sip:a@example.com>;tag=f\r\nTo: <sip:b@example.com>\r\nCall-ID: z\r\n"
        "CSeq: 1 INVITE\r\nContent-Length: -5\r\n\r\n";
    auto e = parse_message(bad);
    ASSERT_FALSE(e);
    auto r = make_error_response_for_unparseable(bad, e.err(), "t1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status_code, 400);
    EXPECT_NE(r->reason.find("Content-Length"), std::string::npos);
    EXPECT_TRUE(parse_message(serialize(*r)));
    // No Call-ID: nothing to answer with, the message is dropped.
    EXPECT_FALSE(make_error_response_for_unparseable("INVITE sip:b SIP/2.0\r\nVia: x\r\n\r\n", e.err(), "t"));
    // Responses and ACKs are never answered.
    EXPECT_FALSE(make_error_response_for_unparseable("SIP/2.0 200 OK\r\n\r\n", e.err(), "t"));
    const std::string v = "OPTIONS sip:b SIP/3.0\r\nVia: SIP/2.0/TCP h\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
                          "Call-ID: q\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    auto ve = parse_message(v);
    ASSERT_FALSE(ve);
    auto vr = make_error_response_for_unparseable(v, ve.err(), "t");
    ASSERT_TRUE(vr);
    EXPECT_EQ(vr->status_code, 505);
}

} // namespace
} // namespace srtpo::cp::sip
