// The flows file: actions from in/out/authenticate_only, endpoints, and validation errors that
// name the flow index and field and never echo a key.

#include "flows_file.hpp"

#include <srtpo/engine/session.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace srtpo;
using namespace srtpo::pmd;

namespace {

// 30 octets (AES_CM_128) and 28 octets (AEAD_AES_128_GCM) of key || salt, base64.
const std::string k30 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";
const std::string k28 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==";

std::string leg(const char* name, const char* suite, const std::string& key) {
    return std::string(name) + " = { suite = \"" + suite + "\", key = \"" + key + "\" }\n";
}

TEST(flows_file, actions_follow_in_out_and_authenticate_only) {
    const std::string t = "[[flow]]\nmatch = \"192.0.2.2:5006\"\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", k30) +
                          "[[flow]]\nmatch = \"192.0.2.2:5008\"\n" + leg("out", "AEAD_AES_128_GCM", k28) +
                          "[[flow]]\nmatch = \"[2001:db8::2]:5006\"\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", k30) +
                          leg("out", "AEAD_AES_128_GCM", k28) + "send_from = \"[2001:db8::1]:4000\"\n" +
                          "[[flow]]\nmatch = \"192.0.2.2:5010\"\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", k30) +
                          "authenticate_only = true\nsend_to = \"198.51.100.7:7000\"\nnext_hop_mac = \"02:00:5E:10:00:01\"\n" +
                          "[[flow]]\nmatch = \"192.0.2.2:5012\"\n";
    auto f = parse_flows(t, "t.toml");
    ASSERT_TRUE(f) << f.err().message;
    ASSERT_EQ(f->size(), 5u);
    EXPECT_EQ((*f)[0].act, action::unprotect);
    EXPECT_EQ(engine::session_direction(*(*f)[0].in), engine::direction::unprotect);
    EXPECT_EQ((*f)[1].act, action::protect);
    EXPECT_EQ(engine::session_direction(*(*f)[1].out), engine::direction::protect);
    EXPECT_EQ((*f)[2].act, action::transcrypt);
    EXPECT_EQ((*f)[2].match.addr.family, net::ip_family::ipv6);
    ASSERT_TRUE((*f)[2].send_from);
    EXPECT_EQ((*f)[2].send_from->port, 4000);
    EXPECT_EQ((*f)[3].act, action::authenticate);
    ASSERT_TRUE((*f)[3].send_to);
    EXPECT_EQ(to_string(*(*f)[3].send_to), "198.51.100.7:7000");
    ASSERT_TRUE((*f)[3].next_hop_mac);
    EXPECT_EQ(to_string(*(*f)[3].next_hop_mac), "02:00:5e:10:00:01");
    EXPECT_FALSE((*f)[2].next_hop_mac);
    EXPECT_EQ((*f)[4].act, action::forward);
    EXPECT_EQ((*f)[2].label, "flow[2] [2001:db8::2]:5006");
}

TEST(flows_file, errors_name_flow_and_field_never_the_key) {
    const std::string secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
    struct bad {
        std::string text, expect;
    } cases[] = {
        {"[[flow]]\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", k30), "flow[0].match"},
        {"[[flow]]\nmatch = \"192.0.2.2\"\n", "flow[0].match"},
        {"[[flow]]\nmatch = \"192.0.2.2:0\"\n", "flow[0].match"},
        {"[[flow]]\nmatch = \"2001:db8::1:5\"\n", "flow[0].match"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\n[[flow]]\nmatch = \"192.0.2.2:1\"\n", "flow[1].match"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\n" + leg("in", "NOPE", secret), "flow[0].in.suite"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", secret.substr(0, 20)), "flow[0].in.key"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\n" + leg("out", "AEAD_AES_128_GCM", secret), "flow[0].out.key"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", secret + "!"), "flow[0].in.key"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nauthenticate_only = true\n", "flow[0].authenticate_only"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nauthenticate_only = true\n" + leg("in", "AES_CM_128_HMAC_SHA1_80", secret) +
             leg("out", "AES_CM_128_HMAC_SHA1_80", secret),
         "flow[0].authenticate_only"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nsend_to = \"[2001:db8::1]:5\"\n", "flow[0].send_to"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nsend_from = 5\n", "flow[0].send_from"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nbogus = 1\n", "flow[0].bogus"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nnext_hop_mac = 5\n", "flow[0].next_hop_mac: must be a string"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nnext_hop_mac = \"01:00:5e:00:00:01\"\n", "flow[0].next_hop_mac: '01:00:5e:00:00:01': a group"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nnext_hop_mac = \"00:00:00:00:00:00\"\n", "all-zero"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nnext_hop_mac = \"02:00:5e:10:00:0g\"\n", "flow[0].next_hop_mac: '02:00:5e:10:00:0g': expected a MAC"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nnext_hop_mac = \"02:00:5e:10:00:01:02\"\n", "expected a MAC"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nin = { suite = \"AES_CM_128_HMAC_SHA1_80\", key = \"" + secret + "\", window = 1 }\n",
         "flow[0].in.window"},
        {"[[flow]]\nmatch = \"192.0.2.2:1\"\nin = { suite = \"AES_CM_128_HMAC_SHA1_80\", key = \"" + secret + "\" \n", "TOML"},
        {"", "no [[flow]]"},
    };
    for (const auto& c : cases) {
        auto f = parse_flows(c.text, "t.toml");
        ASSERT_FALSE(f) << c.text;
        EXPECT_NE(f.err().message.find(c.expect), std::string::npos) << c.text << "\n-> " << f.err().message;
        EXPECT_EQ(f.err().message.find(secret.substr(0, 16)), std::string::npos) << f.err().message;
    }
}

TEST(flows_file, missing_file_is_io_error) {
    auto f = load_flows("/nonexistent/flows.toml");
    ASSERT_FALSE(f);
    EXPECT_EQ(f.err().code, engine::errc::io_error);
}

} // namespace
