// SDP (RFC 8866): order-preserving parse/serialize and the media-anchor rewrite (c=, port,
// RFC 3605 a=rtcp, RFC 5761 rtcp-mux, RTP/AVP <-> RTP/SAVP(F)).

#include "sip_test_util.hpp"

#include <srtpo/cp/sdp/media_rewrite.hpp>

#include <gtest/gtest.h>

namespace srtpo::cp::sdp {
namespace {

std::string offer() { return test::wire_form(test::read_file(test::data_dir() + "/offer_rtcp.sdp")); }

TEST(Sdp, RoundTripKeepsEveryLineInOrder) {
    const auto text = offer();
    auto sd = parse(text);
    ASSERT_TRUE(sd) << sd.err().message;
    EXPECT_EQ(serialize(*sd), text);
    ASSERT_EQ(sd->media.size(), 3u);
    EXPECT_EQ(sd->media[0].media, "audio");
    EXPECT_EQ(sd->media[0].port, 49170);
    EXPECT_EQ(sd->media[0].proto, "RTP/SAVP");
    EXPECT_EQ(sd->media[0].formats, (std::vector<std::string>{"0", "8", "101"}));
    EXPECT_EQ(*sd->media[0].attribute("x-vendor-thing"), "keep me");
    EXPECT_EQ(*sd->media[0].attribute("sendrecv"), "");
    EXPECT_TRUE(sd->media[1].attribute("rtcp-mux"));
    EXPECT_EQ(sd->media[2].port, 0);
    EXPECT_FALSE(sd->media[2].is_rtp());
    EXPECT_EQ(effective_connection(*sd, 0)->address, "192.0.2.10");
    EXPECT_EQ(effective_connection(*sd, 1)->address, "192.0.2.11");
    // Bare LF line ends are accepted and come out as CRLF.
    std::string lf = text;
    std::erase(lf, '\r');
    auto sd2 = parse(lf);
    ASSERT_TRUE(sd2);
    EXPECT_EQ(serialize(*sd2), text);
}

TEST(Sdp, AnchorRewritesAddressPortsRtcpAndProfile) {
    auto sd = parse(offer());
    ASSERT_TRUE(sd);
    anchor_endpoint ep{.addrtype = "IP4", .address = "203.0.113.5", .rtp_port = 30000, .rtcp_port = std::nullopt, .rtcp_mux = false};
    ASSERT_TRUE(anchor_media(*sd, 0, ep, profile::avp));
    ep.rtp_port = 30002;
    ep.rtcp_mux = true;
    ASSERT_TRUE(anchor_media(*sd, 1, ep, profile::savp));
    ep.rtp_port = 30004;
    ASSERT_TRUE(anchor_media(*sd, 2, ep)); // port 0 stays 0
    ASSERT_TRUE(anchor_session(*sd, "IP4", "203.0.113.5", 7));
    const std::string out = serialize(*sd);
    const std::string want =
        "v=0\r\n"
        "o=alice 2890844526 7 IN IP4 203.0.113.5\r\n"
        "s=-\r\n"
        "i=an order-preserving test\r\n"
        "c=IN IP4 203.0.113.5\r\n"
        "t=0 0\r\n"
        "a=tool:unknown-session-attribute\r\n"
        "m=audio 30000 RTP/AVP 0 8 101\r\n"
        "i=voice\r\n"
        "c=IN IP4 203.0.113.5\r\n"
        "b=AS:64\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtcp:30001 IN IP4 203.0.113.5\r\n"
        "a=x-vendor-thing:keep me\r\n"
        "a=sendrecv\r\n"
        "m=video 30002 RTP/SAVPF 99\r\n"
        "c=IN IP4 203.0.113.5\r\n"
        "a=rtpmap:99 H264/90000\r\n"
        "a=rtcp-mux\r\n"
        "a=rtcp-fb:99 nack\r\n"
        "m=application 0 TCP/BFCP *\r\n"
        "c=IN IP4 203.0.113.5\r\n"
        "a=rtcp-mux\r\n";
    EXPECT_EQ(out, want);
    EXPECT_EQ(out.find("crypto"), std::string::npos); // the A leg's key is never forwarded

    // Muxed RTCP on an a=rtcp section: RFC 5761 §5.1.3 wants a=rtcp equal to the RTP port.
    auto sd2 = parse(offer());
    ASSERT_TRUE(sd2);
    ASSERT_TRUE(anchor_media(*sd2, 0, {.addrtype = "IP6", .address = "2001:db8::5", .rtp_port = 40000,
                                       .rtcp_port = std::nullopt, .rtcp_mux = true}, profile::keep));
    EXPECT_EQ(*sd2->media[0].attribute("rtcp"), "40000 IN IP6 2001:db8::5");
    EXPECT_EQ(sd2->media[0].proto, "RTP/SAVP");
    // Without mux, video loses a=rtcp-mux and an explicit RTCP port is honoured.
    ASSERT_TRUE(anchor_media(*sd2, 1, {.addrtype = "IP4", .address = "203.0.113.5", .rtp_port = 40002,
                                       .rtcp_port = 40100, .rtcp_mux = false}, profile::avp));
    EXPECT_FALSE(sd2->media[1].attribute("rtcp-mux"));
    EXPECT_EQ(sd2->media[1].proto, "RTP/AVPF");
}

TEST(Sdp, SessionLevelCryptoIsNotForwarded) {
    // Found by sdp_fuzz: a (misplaced, RFC 4568 §9.1) session-level a=crypto must go too.
    auto sd = parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
                    "t=0 0\r\nm=audio 1 RTP/SAVP 0\r\n");
    ASSERT_TRUE(sd);
    ASSERT_TRUE(anchor_session(*sd, "IP4", "203.0.113.5"));
    EXPECT_EQ(serialize(*sd).find("crypto"), std::string::npos);
}

TEST(Sdp, RewriteErrors) {
    auto sd = parse(offer());
    ASSERT_TRUE(sd);
    anchor_endpoint ep{.addrtype = "IP4", .address = "203.0.113.5", .rtp_port = 1, .rtcp_port = std::nullopt, .rtcp_mux = false};
    EXPECT_FALSE(anchor_media(*sd, 3, ep));
    EXPECT_FALSE(anchor_media(*sd, 2, ep, profile::savp)); // not RTP
    ep.addrtype = "IPX";
    EXPECT_FALSE(anchor_media(*sd, 0, ep));
    EXPECT_FALSE(anchor_session(*sd, "IPX", "x"));
}

TEST(Sdp, PreciseParseErrors) {
    const std::string head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
    struct c { std::string in; std::string err; };
    for (const auto& t : std::vector<c>{
             {"", "empty"},
             {"v=1\r\n", "first line is not 'v=0'"},
             {"v=0\r\ns=-\r\n", "no o= line"},
             {"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n", "no s= line"},
             {"v=0\r\no=- 1 IN IP4 192.0.2.1\r\ns=-\r\n", "o= needs six fields"},
             {head + "m=audio 70000 RTP/AVP 0\r\n", "port is not 0..65535"},
             {head + "m=audio 5000/0 RTP/AVP 0\r\n", "number of ports"},
             {head + "m=audio 5000 RTP/AVP\r\n", "at least one format"},
             {head + "m=audio -1 RTP/AVP 0\r\n", "port"},
             {head + "m=audio 5000 /AVP 0\r\n", "proto is malformed"},
             {head + "c=IN IP4\r\n", "c= is not"},
             {head + "X=y\r\n", "lower-case letter"},
             {head + "a\r\n", "not '<type>=<value>'"},
             {head + "\r\na=x\r\n", "empty line"},
             {head + "v=0\r\n", "v= repeated"},
             {head + "a=x\rb\r\n", "NUL or CR"},
         }) {
        SCOPED_TRACE(t.in);
        auto sd = parse(t.in);
        ASSERT_FALSE(sd);
        EXPECT_NE(sd.err().message.find(t.err), std::string::npos) << sd.err().message;
    }
    parse_limits lim;
    lim.max_media = 1;
    auto many = parse(head + "m=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\n", lim);
    ASSERT_FALSE(many);
    EXPECT_NE(many.err().message.find("more media sections"), std::string::npos);
}

} // namespace
} // namespace srtpo::cp::sdp
