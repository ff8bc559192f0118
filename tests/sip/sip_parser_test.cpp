// SIP parser: the RFC 4475 torture messages (tests/sip/data/rfc4475, described by cases.json),
// then the model's header operations, typed values and serializer round trips.

#include "sip_test_util.hpp"

#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace srtpo::cp::sip {
namespace {

using test::data_dir;
using test::read_file;
using test::wire_form;

nlohmann::json torture_cases() {
    return nlohmann::json::parse(read_file(data_dir() + "/rfc4475/cases.json"))["cases"];
}

TEST(Rfc4475, EveryCaseBehavesAsTheRfcSays) {
    auto cases = torture_cases();
    ASSERT_GE(cases.size(), 30u);
    for (const auto& c : cases) {
        const std::string file = c["file"];
        SCOPED_TRACE(file);
        const std::string raw = read_file(data_dir() + "/rfc4475/" + file);
        ASSERT_FALSE(raw.empty());
        const auto kind = c.value("transport", "stream") == "datagram" ? transport_kind::datagram : transport_kind::stream;
        auto m = parse_message(wire_form(raw), kind);
        if (!c["valid"].get<bool>()) {
            ASSERT_FALSE(m) << "invalid message was accepted";
            EXPECT_NE(m.err().message.find(c["error"].get<std::string>()), std::string::npos) << m.err().message;
            EXPECT_EQ(response_code_for(m.err()), c.value("response", 400));
            continue;
        }
        ASSERT_TRUE(m) << m.err().message;
        if (c.contains("method")) {
            EXPECT_EQ(m->method, c["method"].get<std::string>());
        }
        if (c.contains("status")) {
            EXPECT_EQ(m->status_code, c["status"].get<int>());
        }
        if (c.contains("via_count")) {
            EXPECT_EQ(m->header_values("Via").size(), c["via_count"].get<std::size_t>());
        }
        if (c.contains("contact_count")) {
            EXPECT_EQ(m->header_values("m").size(), c["contact_count"].get<std::size_t>());
        }
        if (c.contains("top_branch")) {
            auto v = parse_via(m->header_values("Via").front());
            ASSERT_TRUE(v) << v.err().message;
            EXPECT_EQ(v->branch(), c["top_branch"].get<std::string>());
        }
        if (c.contains("cseq")) {
            auto cs = parse_cseq(*m->header("CSeq"));
            ASSERT_TRUE(cs);
            EXPECT_EQ(cs->number, c["cseq"].get<uint32_t>());
        }
        if (c.contains("from_tag")) {
            auto f = parse_name_addr(*m->header("f"));
            ASSERT_TRUE(f);
            EXPECT_EQ(f->tag(), c["from_tag"].get<std::string>());
        }
        if (c.contains("body_size")) {
            EXPECT_EQ(m->body.size(), c["body_size"].get<std::size_t>());
        }
        // What we serialize parses again to the same message (the B2BUA forwards it).
        auto again = parse_message(serialize(*m));
        ASSERT_TRUE(again) << again.err().message;
        EXPECT_EQ(again->method, m->method);
        EXPECT_EQ(again->headers.size(), m->headers.size());
        EXPECT_EQ(again->body, m->body);
    }
}

TEST(Rfc4475, WsinvDetails) {
    auto m = parse_message(wire_form(read_file(data_dir() + "/rfc4475/wsinv.sip")));
    ASSERT_TRUE(m) << m.err().message;
    // Folding and compact forms: "v:" and "m:" were expanded, folded values joined by one SP.
    EXPECT_EQ(m->header_count("Via"), 2u);
    auto vias = m->header_values("Via");
    ASSERT_EQ(vias.size(), 3u);
    auto v2 = parse_via(vias[1]);
    ASSERT_TRUE(v2) << v2.err().message;
    EXPECT_EQ(v2->transport, "TCP");
    EXPECT_EQ(v2->host, "spindle.example.com");
    EXPECT_EQ(v2->branch(), "z9hG4bK9ikj8");
    auto v3 = parse_via(vias[2]);
    ASSERT_TRUE(v3);
    EXPECT_EQ(v3->branch(), "z9hG4bK30239");
    auto to = parse_name_addr(*m->header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(to->uri, "sip:vivekg@chair-dnrc.example.com");
    EXPECT_EQ(to->tag(), "1918181833n");
    auto from = parse_name_addr(*m->header("From"));
    ASSERT_TRUE(from);
    EXPECT_EQ(from->tag(), "98asjd8");
    EXPECT_EQ(from->display, R"("J Rosenberg \\\"")");
    auto contact = parse_name_addr(*m->header("Contact"));
    ASSERT_TRUE(contact) << contact.err().message;
    ASSERT_NE(find_param(contact->params, "q"), nullptr);
    EXPECT_EQ(*find_param(contact->params, "q")->value, "0.33");
    EXPECT_EQ(*m->header("NewFangledHeader"), "newfangled value continued newfangled value");
    EXPECT_EQ(*m->header("Max-Forwards"), "0068");
    EXPECT_TRUE(m->body.starts_with("v=0\r\n"));
}

TEST(Rfc4475, DatagramVersusStreamFraming) {
    const auto dbl = wire_form(read_file(data_dir() + "/rfc4475/dblreq.sip"));
    // On UDP the bytes after Content-Length are discarded; on a stream they are a framing error.
    EXPECT_TRUE(parse_message(dbl, transport_kind::datagram));
    auto s = parse_message(dbl, transport_kind::stream);
    ASSERT_FALSE(s);
    EXPECT_NE(s.err().message.find("bytes after the Content-Length body"), std::string::npos);
}

const std::string invite =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKabc;rport\r\n"
    "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKdef;received=198.51.100.7\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice\" <sips:alice@example.com>;tag=a1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c1@192.0.2.1\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1:5061;transport=tls>\r\n"
    "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\nv=0\n";

TEST(SipMessage, HeadersAndTypedValues) {
    auto m = parse_message(invite);
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_TRUE(m->is_request());
    EXPECT_EQ(m->request_uri, "sip:bob@example.com");
    auto rr = m->header_values("Record-Route");
    ASSERT_EQ(rr.size(), 2u);
    EXPECT_EQ(rr[1], "<sip:p2.example.com;lr>");
    auto v1 = parse_via(m->header_values("v")[0]);
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->port, 5061);
    ASSERT_NE(find_param(v1->params, "rport"), nullptr);
    EXPECT_FALSE(find_param(v1->params, "rport")->value);
    // RFC 3581 §4 / RFC 3261 §18.2.1: a server records received and rport.
    set_param(v1->params, "received", "203.0.113.9");
    set_param(v1->params, "rport", "40001");
    EXPECT_EQ(to_string(*v1), "SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKabc;rport=40001;received=203.0.113.9");
    auto v2 = parse_via(m->header_values("Via")[1]);
    ASSERT_TRUE(v2);
    EXPECT_EQ(*find_param(v2->params, "received")->value, "198.51.100.7");
    auto uri = parse_sip_uri(parse_name_addr(*m->header("Contact"))->uri);
    ASSERT_TRUE(uri) << uri.err().message;
    EXPECT_EQ(uri->host, "192.0.2.1");
    EXPECT_EQ(uri->port, 5061);
    EXPECT_EQ(*find_param(uri->params, "transport")->value, "tls");
    auto from = parse_name_addr(*m->header("From"));
    EXPECT_EQ(to_string(*from), "\"Alice\" <sips:alice@example.com>;tag=a1");
}

TEST(SipMessage, EditAndSerialize) {
    auto m = parse_message(invite);
    ASSERT_TRUE(m);
    m->push_front_header("v", "SIP/2.0/TLS 203.0.113.1;branch=z9hG4bKb2b");
    m->set_header("Max-Forwards", "69");
    m->pop_first_value("Record-Route");
    m->body = "v=0\r\ns=-\r\n";
    const auto wire = serialize(*m);
    EXPECT_TRUE(wire.starts_with("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 203.0.113.1;branch=z9hG4bKb2b\r\n"));
    EXPECT_NE(wire.find("Content-Length: 10\r\n\r\nv=0\r\ns=-\r\n"), std::string::npos);
    EXPECT_EQ(wire.find("Content-Length: 4"), std::string::npos);
    auto back = parse_message(wire);
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(back->header_values("Via").size(), 3u);
    EXPECT_EQ(back->header_values("Record-Route").size(), 1u);
    EXPECT_EQ(*back->header("Max-Forwards"), "69");
}

TEST(SipParser, PreciseErrors) {
    struct bad_case { std::string text; std::string error; };
    const std::string tail = "Via: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
                             "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n";
    const std::vector<bad_case> cases{
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail, "no empty line"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "\r\n", "Content-Length missing"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Content-Length: 1x\r\n\r\n", "not a non-negative"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Bad Name: 1\r\nContent-Length: 0\r\n\r\n", "not a token"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "NoColon\r\nContent-Length: 0\r\n\r\n", "without ':'"},
        {"OPTIONS sip:b@h SIP/2.0\r\n Folded: x\r\n" + tail + "Content-Length: 0\r\n\r\n", "continuation line before"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Content-Length: 3\r\n\r\nabc", "without Content-Type"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Max-Forwards: 256\r\nContent-Length: 0\r\n\r\n", "Max-Forwards"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Contact: <sip:c@h\r\nContent-Length: 0\r\n\r\n", "'<' without '>'"},
        {"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/3.0/TCP h\r\n" + tail + "Content-Length: 0\r\n\r\n", "SIP/2.0"},
        {"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h:99999\r\n" + tail + "Content-Length: 0\r\n\r\n", "port"},
        {"OPTIONS sip:b@h SIP/2.0x\r\n" + tail + "Content-Length: 0\r\n\r\n", "malformed SIP-Version"},
        {"SIP/2.0 20 OK\r\n" + tail + "Content-Length: 0\r\n\r\n", "three digits"},
        {"SIP/2.0 099 Low\r\n" + tail + "Content-Length: 0\r\n\r\n", "100..699"},
        {"OP(TIONS sip:b@h SIP/2.0\r\n" + tail + "Content-Length: 0\r\n\r\n", "method is not a token"},
        {"OPTIONS sip:b@h SIP/2.0\r\n" + tail + "X: a\rb\r\nContent-Length: 0\r\n\r\n", "bare CR"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text.substr(0, 60));
        auto m = parse_message(c.text);
        ASSERT_FALSE(m);
        EXPECT_NE(m.err().message.find(c.error), std::string::npos) << m.err().message;
    }
    parse_limits small;
    small.max_headers = 3;
    auto m = parse_message("OPTIONS sip:b@h SIP/2.0\r\n" + tail + "Content-Length: 0\r\n\r\n", transport_kind::stream, small);
    ASSERT_FALSE(m);
    EXPECT_NE(m.err().message.find("more header lines"), std::string::npos);
}

TEST(SipHeaderValues, ReceivedAndRport) {
    auto v = parse_via("SIP/2.0/TCP phone.example.com:5060;branch=z9hG4bK1;rport");
    ASSERT_TRUE(v);
    stamp_via_source(*v, "198.51.100.9", 40123); // RFC 3581 §4 example shape
    EXPECT_EQ(to_string(*v), "SIP/2.0/TCP phone.example.com:5060;branch=z9hG4bK1;rport=40123;received=198.51.100.9");
    auto same = parse_via("SIP/2.0/TLS 198.51.100.9:5061;branch=z9hG4bK2");
    ASSERT_TRUE(same);
    stamp_via_source(*same, "198.51.100.9", 5061); // §18.2.1: host equals source: nothing added
    EXPECT_EQ(to_string(*same), "SIP/2.0/TLS 198.51.100.9:5061;branch=z9hG4bK2");
    auto nat = parse_via("SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK3");
    ASSERT_TRUE(nat);
    stamp_via_source(*nat, "203.0.113.7", 1024);
    EXPECT_EQ(to_string(*nat), "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK3;received=203.0.113.7");
}

TEST(SipHeaderValues, NameAddrForms) {
    auto a = parse_name_addr("sip:a@h;tag=x");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->uri, "sip:a@h");
    EXPECT_EQ(a->tag(), "x");
    EXPECT_EQ(to_string(*a), "<sip:a@h>;tag=x");
    auto star = parse_name_addr("*");
    ASSERT_TRUE(star);
    EXPECT_EQ(star->uri, "*");
    EXPECT_FALSE(parse_name_addr("\"unterminated <sip:a@h>"));
    EXPECT_FALSE(parse_name_addr("<>"));
    EXPECT_FALSE(parse_name_addr("<nocolon>"));
    EXPECT_FALSE(parse_name_addr("<sip:a@h>;=x"));
    EXPECT_FALSE(parse_cseq("1INVITE"));
    EXPECT_FALSE(parse_cseq("2147483648 INVITE"));
    EXPECT_TRUE(parse_cseq("2147483647 INVITE"));
    EXPECT_FALSE(parse_sip_uri("tel:+1234"));
    EXPECT_FALSE(parse_sip_uri("sip:a@h:0"));
    auto v6 = parse_sip_uri("sips:[2001:db8::1]:5061;transport=tls");
    ASSERT_TRUE(v6) << v6.err().message;
    EXPECT_EQ(v6->host, "[2001:db8::1]");
    EXPECT_EQ(v6->port, 5061);
    EXPECT_EQ(split_list(R"(<sip:a@h;x="1,2">, "B, C" <sip:b@h>)").size(), 2u);
}

} // namespace
} // namespace srtpo::cp::sip
