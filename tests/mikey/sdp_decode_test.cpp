// RFC 4567 a=key-mgmt:mikey attribute values, strict base64, and the operator decoder
// (describe(), and the srtpo-mikey-decode tool that tests run against peer output).
#include <srtpo/cp/mikey/describe.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/cp/mikey/message.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

using namespace srtpo::cp::mikey;

namespace {
message sample() {
    message m;
    m.hdr.csb_id = 0x11223344;
    m.hdr.cs = {{0, 0xcafebabe, 5}};
    m.payloads.emplace_back(t_payload{ts_type::ntp_utc, 0xeeb44b159567caeaull});
    m.payloads.emplace_back(rand_payload{bytes(16, 0x42)});
    kemac_plaintext pt;
    key_data k;
    k.type = key_data_type::tek_salt;
    k.key = secret_bytes(bytes(16, 0xab));
    k.salt = secret_bytes(bytes(14, 0xcd));
    pt.keys.push_back(std::move(k));
    auto p = encode_kemac_plaintext(pt);
    m.payloads.emplace_back(kemac_payload{encr_alg::null, bytes(p->view().begin(), p->view().end()), mac_alg::null, {}});
    return m;
}
} // namespace

TEST(MikeySdp, Base64Rfc4648Vectors) {
    // RFC 4648 §10 test vectors.
    const std::pair<std::string, std::string> v[] = {{"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                                                     {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, b64] : v) {
        const bytes b(plain.begin(), plain.end());
        EXPECT_EQ(base64_encode(b), b64);
        auto d = base64_decode(b64);
        ASSERT_TRUE(d);
        EXPECT_EQ(*d, b);
    }
    EXPECT_NE(base64_decode("Zg=").err().message.find("multiple of 4"), std::string::npos);
    EXPECT_NE(base64_decode("Zh==").err().message.find("pad bits"), std::string::npos);
    EXPECT_NE(base64_decode("Zm9=").err().message.find("pad bits"), std::string::npos);
    EXPECT_NE(base64_decode("Zm$v").err().message.find("alphabet"), std::string::npos);
    EXPECT_NE(base64_decode("").err().message.find("no base64"), std::string::npos);
    EXPECT_FALSE(base64_decode("Z==="));
}

TEST(MikeySdp, KeyMgmtAttributeForms) {
    auto enc = encode(sample());
    ASSERT_TRUE(enc);
    const std::string line = key_mgmt_line(*enc);
    EXPECT_EQ(line.rfind("a=key-mgmt:mikey ", 0), 0u);
    EXPECT_EQ(key_mgmt_value(*enc), line.substr(11));
    for (const std::string& form : {line, line + "\r\n", "  " + line.substr(2), line.substr(11), line.substr(17),
                                    std::string("a=key-mgmt:MIKEY ") + line.substr(17)}) {
        auto d = parse_key_mgmt(form);
        ASSERT_TRUE(d) << form << ": " << d.err().message;
        EXPECT_EQ(*d, *enc);
    }
    EXPECT_NE(parse_key_mgmt("a=key-mgmt:kerberos AAAA").err().message.find("not mikey"), std::string::npos);
    EXPECT_NE(parse_key_mgmt("a=key-mgmt:mikey").err().message.find("no keymgmt-data"), std::string::npos);
}

TEST(MikeyDescribe, JsonAndTextHideKeysUnlessAsked) {
    auto enc = encode(sample());
    const std::string b64 = base64_encode(*enc);
    auto j = describe(b64, describe_format::json);
    ASSERT_TRUE(j);
    auto doc = nlohmann::json::parse(*j);
    EXPECT_EQ(doc["hdr"]["csb_id"], "0x11223344");
    EXPECT_EQ(doc["hdr"]["cs"][0]["ssrc"], "0xcafebabe");
    EXPECT_EQ(doc["hdr"]["cs"][0]["roc"], 5);
    EXPECT_EQ(doc["payloads"][0]["ts_type"]["name"], "NTP-UTC");
    EXPECT_EQ(doc["payloads"][2]["key_data"][0]["type"]["name"], "TEK+SALT");
    EXPECT_EQ(doc["payloads"][2]["key_data"][0]["key_len"], 16);
    EXPECT_FALSE(doc["payloads"][2]["key_data"][0].contains("key"));
    EXPECT_EQ(j->find("abababab"), std::string::npos) << "key material printed without show_keys";
    auto shown = describe("a=key-mgmt:mikey " + b64, describe_format::json, true);
    EXPECT_NE(shown->find(std::string(32, 'a').replace(0, 32, "abababababababababababababababab")), std::string::npos);
    auto t = describe(b64, describe_format::text);
    ASSERT_TRUE(t);
    EXPECT_NE(t->find("data_type: Initiator's pre-shared key message (0)"), std::string::npos) << *t;
    EXPECT_NE(t->find("ssrc: 0xcafebabe"), std::string::npos);
    EXPECT_FALSE(describe("AAAA", describe_format::text)) << "3 octets are no MIKEY message";
}

TEST(MikeyDescribe, StandaloneTool) {
    const char* tool = std::getenv("SRTPO_MIKEY_DECODE");
    ASSERT_NE(tool, nullptr);
    auto enc = encode(sample());
    const std::string cmd = std::string("timeout 10 ") + tool + " --json 'a=key-mgmt:mikey " + base64_encode(*enc) + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    ASSERT_EQ(::pclose(p), 0);
    EXPECT_EQ(nlohmann::json::parse(out)["hdr"]["csb_id"], "0x11223344");
    const std::string bad = std::string("timeout 10 ") + tool + " 'a=key-mgmt:mikey AAAA' 2>/dev/null";
    FILE* q = ::popen(bad.c_str(), "r");
    while (q && std::fgets(buf, sizeof buf, q)) {
    }
    EXPECT_NE(::pclose(q), 0) << "a bad message exits non-zero";
}
