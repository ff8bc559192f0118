// The [sip] configuration section: what parses, what is refused with which message, routing.

#include <srtpo/cp/b2bua/sip_config.hpp>

#include "config.hpp"

#include <gtest/gtest.h>

namespace srtpo::cp::b2bua {
namespace {

engine::result<sip_config> parse(const std::string& text) {
    auto c = parse_config(text, "t.toml");
    if (!c) return c.err();
    return c->sip;
}

TEST(SipConfig, AbsentSectionMeansNoSip) {
    auto c = parse("[log]\nlevel = \"info\"\n");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->enabled);
}

TEST(SipConfig, FullSectionParses) {
    auto c = parse(R"([sip]
default_next_hop = "sips:gw.example.net"
b_keying = "plain"
[[sip.listen]]
transport = "tcp"
address = "127.0.0.1"
[[sip.listen]]
transport = "udp"
port = 5090
[sip.timers]
t1_ms = 100
t2_ms = 800
[sip.limits]
max_connections_per_source = 4
idle_timeout_s = 30
[[sip.route]]
domain = "Example.COM"
next_hop = "sip:10.0.0.3:5070;transport=tcp"
a_keying = "sdes"
b_keying = "dtls"
b_suites = ["AES_CM_128_HMAC_SHA1_32"]
)");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->enabled);
    ASSERT_EQ(c->listen.size(), 2u);
    EXPECT_EQ(c->listen[0].transport, transport_kind::tcp);
    EXPECT_EQ(c->listen[0].port, 5060);
    EXPECT_EQ(c->listen[1].port, 5090);
    EXPECT_EQ(c->t1.count(), 100);
    EXPECT_EQ(c->t2.count(), 800);
    EXPECT_EQ(c->t4.count(), 5000);
    EXPECT_EQ(c->limits.max_connections_per_source, 4u);
    EXPECT_EQ(c->limits.idle_timeout.count(), 30);
    ASSERT_EQ(c->routes.size(), 1u);
    const auto* r = find_route(*c, "example.com");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->next_hop.transport, transport_kind::tcp);
    EXPECT_EQ(r->next_hop.port, 5070);
    EXPECT_EQ(r->a_policy.method, call::keying_method::sdes);
    EXPECT_EQ(r->b_policy.method, call::keying_method::dtls_srtp);
    EXPECT_EQ(r->b_policy.suites, std::vector<std::string>{"AES_CM_128_HMAC_SHA1_32"});
    // Other domains take the default route: sips: means TLS on 5061.
    const auto* d = find_route(*c, "other.org");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->next_hop.transport, transport_kind::tls);
    EXPECT_EQ(d->next_hop.port, 5061);
    EXPECT_EQ(d->next_hop.host, "gw.example.net");
    EXPECT_EQ(d->b_policy.method, call::keying_method::plain);
}

TEST(SipConfig, NoDefaultRouteMeansNoMatch) {
    auto c = parse("[sip]\n[[sip.listen]]\ntransport = \"udp\"\n[[sip.route]]\ndomain = \"a.b\"\nnext_hop = \"sip:1.2.3.4\"\n");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(find_route(*c, "c.d"), nullptr);
    EXPECT_EQ(find_route(*c, "a.b")->next_hop.transport, transport_kind::udp);
}

TEST(SipConfig, ErrorsNameTheKey) {
    const std::pair<const char*, const char*> cases[] = {
        {"[sip]\nlisten_port = 1\n", "sip.listen_port: unknown key"},
        {"[sip]\n[[sip.listen]]\ntransport = \"sctp\"\n", "sip.listen[0].transport: 'sctp' is not tls, tcp or udp"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tls\"\n", "a TLS listener needs tls.cert and tls.key"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[sip.tls]\nverify_client = true\n", "verify_client: needs tls.ca"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[sip.tls]\nmin_version = \"1.1\"\n", "min_version: must be \"1.2\" or \"1.3\""},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[sip.timers]\nt1_ms = 500\nt2_ms = 100\n", "t2_ms: must be at least t1_ms"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[[sip.route]]\ndomain = \"x\"\n", "sip.route[0].next_hop: required"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[[sip.route]]\ndomain = \"x\"\nnext_hop = \"sip:h;transport=ws\"\n", "transport must be tls, tcp or udp"},
        {"[sip]\nb_keying = \"srtp\"\n[[sip.listen]]\ntransport = \"tcp\"\n", "sip.b_keying: 'srtp' is not sdes"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\n[sip.limits]\nmax_message = 10\n", "sip.limits.max_message: must be an integer 1024..65535"},
        {"[sip]\n[[sip.listen]]\ntransport = \"tcp\"\nport = 70000\n", "port: must be an integer 0..65535"},
    };
    for (const auto& [text, want] : cases) {
        auto c = parse(text);
        ASSERT_FALSE(c) << text;
        EXPECT_NE(c.err().message.find(want), std::string::npos) << c.err().message << "\nwanted: " << want;
        EXPECT_EQ(c.err().message.rfind("t.toml: ", 0), 0u) << c.err().message;
    }
}

} // namespace
} // namespace srtpo::cp::b2bua
