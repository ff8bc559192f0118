// The control API's flow model: every field's validation and its error code (issue 5: "bad
// base64, key length wrong for the suite, unknown suite, address syntax").
#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/api/flow_spec.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace srtpo;
using namespace srtpo::cp::api;
using nlohmann::json;

namespace {

const char* key30 = "WVNfX19mXzJfX19fX19fX19fX19fX19fX19fX19f"; // 30 octets
const char* key28 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYg==";  // 28 octets

json good() {
    return json{{"match", "192.0.2.1:5004"},
                {"in", {{"suite", "AES_CM_128_HMAC_SHA1_80"}, {"key", std::string("inline:") + key30 + "|2^31|7:2"}}},
                {"out", {{"suite", "AEAD_AES_128_GCM"}, {"key", key28}}},
                {"send_to", "[2001:db8::7]:7000"}};
}

api_error refusal(const json& j, bool keys_required = true) {
    auto r = parse_flow(j, "flow", keys_required);
    EXPECT_FALSE(r) << j.dump();
    return r ? api_error{} : r.err();
}

} // namespace

TEST(FlowSpec, ParsesEveryField) {
    auto j = good();
    j["in"]["window"] = 1024;
    j["in"]["roc"] = 7;
    j["rtcp_mux"] = true;
    j["send_from"] = "203.0.113.1:40000";
    j["rekey_grace_ms"] = 500;
    auto f = parse_flow(j, "flow");
    ASSERT_TRUE(f) << f.err().message;
    EXPECT_EQ(to_string(f->match), "192.0.2.1:5004");
    EXPECT_TRUE(f->match.addr.is_v4());
    ASSERT_TRUE(f->in && f->out);
    EXPECT_EQ(f->in->suite, engine::suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(f->in->key_salt.size(), 30u);
    EXPECT_EQ(f->in->lifetime, uint64_t{1} << 31);
    ASSERT_EQ(f->in->mki.size(), 2u);
    EXPECT_EQ(f->in->mki[1], std::byte{7});
    EXPECT_EQ(f->in->window, 1024);
    EXPECT_EQ(f->in->roc, 7u);
    EXPECT_EQ(f->out->suite, engine::suite::aead_aes_128_gcm);
    EXPECT_EQ(to_string(*f->send_to), "[2001:db8::7]:7000");
    EXPECT_EQ(to_string(*f->send_from), "203.0.113.1:40000");
    EXPECT_TRUE(f->rtcp_mux);
    EXPECT_EQ(f->rekey_grace_ms, 500);
    EXPECT_EQ(action_of(*f), table::leg_action::transcrypt);
}

TEST(FlowSpec, ActionFollowsTheLegs) {
    auto j = good();
    j.erase("out");
    EXPECT_EQ(action_of(*parse_flow(j, "f")), table::leg_action::unprotect);
    j["authenticate_only"] = true;
    EXPECT_EQ(action_of(*parse_flow(j, "f")), table::leg_action::auth_only);
    j = good();
    j.erase("in");
    EXPECT_EQ(action_of(*parse_flow(j, "f")), table::leg_action::protect);
    j.erase("out");
    EXPECT_EQ(action_of(*parse_flow(j, "f")), table::leg_action::tap);
}

TEST(FlowSpec, ErrorsNameTheFieldAndCode) {
    struct bad_case {
        const char* what;
        std::function<void(json&)> edit;
        api_errc code;
        const char* field;
    };
    const std::vector<bad_case> cases = {
        {"unknown suite", [](json& j) { j["in"]["suite"] = "AES_CM_129"; }, api_errc::unknown_suite, "flow.in.suite"},
        {"bad base64", [](json& j) { j["in"]["key"] = "inline:@@@@"; }, api_errc::invalid_argument, "flow.in.key"},
        {"short key", [](json& j) { j["out"]["key"] = key30; }, api_errc::bad_key_length, "flow.out.key"},
        {"missing key", [](json& j) { j["in"].erase("key"); }, api_errc::bad_request, "flow.in.key"},
        {"missing suite", [](json& j) { j["in"].erase("suite"); }, api_errc::bad_request, "flow.in.suite"},
        {"bad port", [](json& j) { j["match"] = "192.0.2.1:0"; }, api_errc::invalid_argument, "flow.match"},
        {"no port", [](json& j) { j["match"] = "192.0.2.1"; }, api_errc::invalid_argument, "flow.match"},
        {"bad address", [](json& j) { j["match"] = "192.0.2.300:5004"; }, api_errc::invalid_argument, "flow.match"},
        {"v6 without brackets", [](json& j) { j["send_to"] = "2001:db8::1:5004"; }, api_errc::invalid_argument, "flow.send_to"},
        {"unspecified", [](json& j) { j["match"] = "0.0.0.0:5004"; }, api_errc::invalid_argument, "flow.match"},
        {"missing match", [](json& j) { j.erase("match"); }, api_errc::bad_request, "flow.match"},
        {"match not string", [](json& j) { j["match"] = 5; }, api_errc::bad_request, "flow.match"},
        {"unknown field", [](json& j) { j["send-to"] = "x"; }, api_errc::bad_request, "flow.send-to"},
        {"unknown leg field", [](json& j) { j["in"]["windw"] = 64; }, api_errc::bad_request, "flow.in.windw"},
        {"window small", [](json& j) { j["in"]["window"] = 32; }, api_errc::invalid_argument, "flow.in.window"},
        {"window large", [](json& j) { j["in"]["window"] = 40000; }, api_errc::invalid_argument, "flow.in.window"},
        {"negative roc", [](json& j) { j["in"]["roc"] = -1; }, api_errc::bad_request, "flow.in.roc"},
        {"auth-only with out", [](json& j) { j["authenticate_only"] = true; }, api_errc::invalid_argument, "flow.authenticate_only"},
        {"long MKI", [](json& j) { j["in"]["key"] = std::string("inline:") + key30 + "|1:17"; }, api_errc::unsupported, "flow.in.key"},
        {"unauth AEAD", [](json& j) { j["out"]["unauthenticated_srtp"] = true; }, api_errc::unsupported, "flow.out.unauthenticated_srtp"},
        {"bool type", [](json& j) { j["rtcp_mux"] = "yes"; }, api_errc::bad_request, "flow.rtcp_mux"},
        {"grace range", [](json& j) { j["rekey_grace_ms"] = 70000; }, api_errc::invalid_argument, "flow.rekey_grace_ms"},
        {"port 65535 no mux", [](json& j) { j["match"] = "192.0.2.1:65535"; }, api_errc::invalid_argument, "flow.match"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        auto j = good();
        c.edit(j);
        const auto e = refusal(j);
        EXPECT_EQ(e.code, c.code) << to_string(e.code) << ": " << e.message;
        EXPECT_EQ(e.field, c.field) << e.message;
        EXPECT_FALSE(e.message.empty());
        // No key material in any message.
        EXPECT_EQ(e.message.find(key30), std::string::npos);
        EXPECT_EQ(e.message.find(key28), std::string::npos);
    }
}

TEST(FlowSpec, UpdateMayOmitKeys) {
    auto j = good();
    j["in"].erase("key");
    EXPECT_FALSE(parse_flow(j, "flow", true));
    auto f = parse_flow(j, "flow", false);
    ASSERT_TRUE(f) << f.err().message;
    EXPECT_TRUE(f->in->key_salt.empty());
}

TEST(FlowSpec, JsonHidesKeysUnlessRevealed) {
    auto f = parse_flow(good(), "flow");
    ASSERT_TRUE(f);
    const auto hidden = to_json(*f, false);
    EXPECT_FALSE(hidden["in"].contains("key"));
    EXPECT_EQ(hidden.dump().find(key30), std::string::npos);
    EXPECT_EQ(hidden["in"]["mki"], "7:2");
    EXPECT_EQ(hidden["action"], "transcrypt");
    const auto shown = to_json(*f, true);
    EXPECT_EQ(shown["in"]["key"], std::string("inline:") + key30 + "|2^31|7:2");
    EXPECT_EQ(shown["out"]["key"], std::string("inline:") + key28);
    // The revealed form parses back to the same flow.
    json again = good();
    again["in"]["key"] = shown["in"]["key"];
    auto g = parse_flow(again, "flow");
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->in->key_salt.equals(f->in->key_salt.bytes()));
}

TEST(EndpointText, RoundTripsV4AndV6) {
    for (const char* s : {"192.0.2.1:1", "10.0.0.255:65535", "[2001:db8::1]:5004", "[fe80::1:2:3:4]:9"}) {
        auto e = parse_endpoint(s, "x");
        ASSERT_TRUE(e) << s;
        EXPECT_EQ(to_string(*e), s);
    }
    EXPECT_FALSE(parse_endpoint("[::ffff:192.0.2.1]:5", "x")); // write IPv4 as IPv4
    EXPECT_FALSE(parse_endpoint("[::]:5", "x"));
    EXPECT_FALSE(parse_endpoint("host.example:5", "x"));
    EXPECT_FALSE(parse_endpoint(":5", "x"));
    EXPECT_FALSE(parse_endpoint("192.0.2.1:5x", "x"));
}
