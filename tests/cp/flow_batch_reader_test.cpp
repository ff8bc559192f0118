// The streaming reader of flow.add batches (api::flow_batch_reader) against the JSON DOM path it
// stands in for: for every flow shape and every error the API defines, both give the same flow or
// the same error (code, field, message); lines of any other shape are left to the DOM path; and
// through api_service a batch with one bad flow anywhere installs nothing and answers exactly as
// the DOM path does.
#include "api_service.hpp"
#include "flow_registry.hpp"
#include "log.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/api/flow_batch_reader.hpp>
#include <srtpo/cp/api/flow_fields.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <string>
#include <vector>

using namespace srtpo;
using namespace srtpo::cp;
using nlohmann::json;

namespace {

const std::string key80 = R"("inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")"; // 30 octets
const std::string key_gcm = R"("MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA==")";    // 28 octets

std::string batch_line(const std::vector<std::string>& items) {
    std::string s = R"({"op": "flow.add", "flows": [)";
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
    return s + "]}";
}

/// What a validation gave, comparable across the two paths.
std::string outcome_of(const api::api_result<api::flow_spec>& r) {
    if (r) return "ok " + api::to_json(r.value(), true).dump();
    return "error " + std::string(api::to_string(r.err().code)) + " [" + r.err().field + "] " + r.err().message;
}

/// Reads `items` both ways and checks they agree flow by flow; returns the outcomes.
std::vector<std::string> both_ways(const std::vector<std::string>& items) {
    const std::string line = batch_line(items);
    api::flow_batch_reader r;
    EXPECT_EQ(r.read(line), api::flow_batch_reader::outcome::read) << line;
    const json dom = json::parse(line);
    std::vector<std::string> out;
    if (r.flows().size() != items.size()) {
        ADD_FAILURE() << "read " << r.flows().size() << " flows of " << items.size() << ": " << line;
        return out;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string field = "flows[" + std::to_string(i) + "]";
        const auto fast = outcome_of(api::parse_flow_fields(r.flows()[i], true, field, true));
        const auto slow = outcome_of(api::parse_flow(dom["flows"][i], field));
        EXPECT_EQ(fast, slow) << items[i];
        out.push_back(fast);
    }
    return out;
}

std::string one(const std::string& item) {
    auto v = both_ways({item});
    return v.empty() ? "" : v[0];
}

TEST(flow_batch_reader, valid_flows_read_as_the_dom_reads_them) {
    EXPECT_EQ(one(R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": )" + key80 + "}}").rfind("ok ", 0), 0u);
    const auto full = one(R"({"send_to": "198.51.100.7:7000", "send_from": "[2001:db8::1]:40000", "rtcp_mux": true,
        "rekey_grace_ms": 2500, "match": "192.0.2.2:65535",
        "in": {"key": "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|7:2", "suite": "AES_CM_128_HMAC_SHA1_80",
               "window": 1024, "roc": 4294967295, "unencrypted_srtcp": true, "unencrypted_srtp": false},
        "out": {"suite": "AEAD_AES_128_GCM", "key": )" + key_gcm + "}}");
    EXPECT_NE(full.find(R"("rekey_grace_ms":2500)"), std::string::npos) << full;
    EXPECT_NE(full.find(R"("mki":"7:2")"), std::string::npos) << full;
    // authenticate_only, a tap flow (no legs), a leg given as null, escaped text
    EXPECT_EQ(one(R"({"match": "192.0.2.2:5006", "authenticate_only": true, "in": {"suite": "AES_CM_128_HMAC_SHA1_32", "key": )" + key80 + "}}").rfind("ok ", 0), 0u);
    EXPECT_EQ(one(R"({"match": "192.0.2.2:5006", "in": null, "send_to": "198.51.100.7:7000"})").rfind("ok ", 0), 0u);
    EXPECT_NE(one(R"({"match": "192.0.2.2:5\u0030\u00304"})").find(R"("match":"192.0.2.2:5004")"), std::string::npos);
    // duplicate keys: the last one counts, as in the DOM
    EXPECT_NE(one(R"({"match": "192.0.2.9:1", "match": "192.0.2.2:6000"})").find("192.0.2.2:6000"), std::string::npos);
    EXPECT_EQ(one(R"({"match": "192.0.2.2:6000", "in": {"suite": 5, "bogus": {}}, "in": null})").rfind("ok ", 0), 0u);
}

TEST(flow_batch_reader, every_flow_error_matches_the_dom_path) {
    const std::string in80 = R"("in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": )" + key80;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"match": "192.0.2.2:5006", "send-to": "x"})", "[flows[0].send-to] unknown field 'send-to'"},
        {R"({"zeta": 1, "match": "192.0.2.2:5006", "alpha": [1, {"x": [2]}]})", "[flows[0].alpha] unknown field 'alpha'"},
        {R"({"in": {"suite": "AES_CM_128_HMAC_SHA1_80"}})", "[flows[0].match] match is missing"},
        {R"({"match": 5006})", "[flows[0].match] match must be a string"},
        {R"({"match": null})", "[flows[0].match] match must be a string"},
        {R"({"match": ["192.0.2.2:5006"]})", "[flows[0].match] match must be a string"},
        {R"({"beta": 1, "match": "192.0.2.2:5006", "zeta": {"a": null}})", "[flows[0].beta] unknown field 'beta'"},
        {R"({"match": "192.0.2.2"})", "is not address:port"},
        {R"({"match": "2001:db8::1:5006"})", "write it as [addr]:port"},
        {R"({"match": "192.0.2.2:0"})", "has no port 1..65535"},
        {R"({"match": "192.0.2.2:65535"})", "port 65535 has no port + 1"},
        {R"({"match": "192.0.2.2:5006", "in": "AES_CM_128_HMAC_SHA1_80"})", "[flows[0].in] must be an object"},
        {R"({"match": "192.0.2.2:5006", "out": [1]})", "[flows[0].out] must be an object"},
        {R"({"match": "192.0.2.2:5006", "in": {"key": )" + key80 + "}}", "[flows[0].in.suite] suite is missing"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": 80, "key": )" + key80 + "}}", "suite must be a string"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_81", "key": )" + key80 + "}}", "unknown_suite"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_80"}})", "[flows[0].in.key] key is missing"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": {"k": 1}}})", "key must be a string"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": "inline:!!!"}})", "[flows[0].in.key]"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AEAD_AES_128_GCM", "key": )" + key80 + "}}", "bad_key_length"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1:17"}})", "unsupported"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "window": 10}})", "window 10 is outside"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "window": -1}})", "window must be a non-negative integer"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "window": 128.0}})", "window must be a non-negative integer"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "window": "128"}})", "window must be a non-negative integer"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "roc": 4294967296}})", "roc 4294967296 is outside"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "unencrypted_srtp": "yes"}})", "unencrypted_srtp must be true or false"},
        {R"({"match": "192.0.2.2:5006", )" + in80 + R"(, "mki": 1}})", "[flows[0].in.mki] unknown field 'mki'"},
        {R"({"match": "192.0.2.2:5006", "in": {"suite": "AEAD_AES_128_GCM", "key": )" + key_gcm +
             R"(, "unauthenticated_srtp": true}})", "not allowed with an AEAD suite"},
        {R"({"match": "192.0.2.2:5006", "authenticate_only": true})", "authenticate_only needs an"},
        {R"({"match": "192.0.2.2:5006", "authenticate_only": "true"})", "authenticate_only must be true or false"},
        {R"({"match": "192.0.2.2:5006", "rtcp_mux": 1})", "rtcp_mux must be true or false"},
        {R"({"match": "192.0.2.2:5006", "send_to": 7000})", "[flows[0].send_to] send_to must be a string"},
        {R"({"match": "192.0.2.2:5006", "send_from": "0.0.0.0:7000"})", "unspecified address"},
        {R"({"match": "192.0.2.2:5006", "rekey_grace_ms": 70000})", "rekey_grace_ms 70000 is outside"},
        {R"({"match": "192.0.2.2:5006", "rekey_grace_ms": null})", "rekey_grace_ms must be a non-negative integer"},
    };
    for (const auto& [item, expect] : cases) {
        const auto got = one(item);
        EXPECT_EQ(got.rfind("error ", 0), 0u) << item << " -> " << got;
        EXPECT_NE(got.find(expect), std::string::npos) << item << " -> " << got;
    }
}

TEST(flow_batch_reader, other_shapes_are_left_to_the_dom_path) {
    const std::string f = R"({"match": "192.0.2.2:5006"})";
    for (const std::string& line : std::vector<std::string>{
             R"({"op": "flow.update", "flows": [)" + f + "]}",
             R"({"op": 1, "flows": [)" + f + "]}",
             R"({"op": "flow.add", "id": 7, "flows": [)" + f + "]}",
             R"({"op": "flow.add", "flow": )" + f + "}",
             R"({"op": "flow.add", "flows": []})",
             R"({"op": "flow.add", "flows": {}})",
             R"({"op": "flow.add", "flows": [5]})",
             R"({"op": "flow.add", "flows": [[]]})",
             R"({"op": "flow.add", "flows": [)" + f + "], \"flows\": [" + f + "]}",
             R"({"flows": [)" + f + "]}",
             R"({"op": "flow.add", "flows": [)" + f + "]} x",
             R"({"op": "flow.add", "flows": [{"match": "192.0.2.2:5006"})",
             R"([1, 2])",
             R"("flow.add")",
             R"()",
         }) {
        api::flow_batch_reader r;
        EXPECT_EQ(r.read(line), api::flow_batch_reader::outcome::not_a_batch) << line;
        EXPECT_TRUE(r.flows().empty());
    }
    // keys in any order are the batch shape
    api::flow_batch_reader r;
    EXPECT_EQ(r.read(R"({"flows": [)" + f + R"(], "op": "flow.add"})"), api::flow_batch_reader::outcome::read);
    EXPECT_EQ(r.flows().size(), 1u);
}

struct service_fixture : ::testing::Test {
    std::string name = "srtpo-cp-batch-test-" + std::to_string(::getpid());
    std::optional<table::sessions_mapping> t;
    std::optional<flow_registry> reg;
    std::optional<api_service> svc;
    config cfg;
    void SetUp() override {
        (void)table::unlink_shm(name);
        auto m = table::sessions_mapping::create(name, 2048);
        ASSERT_TRUE(m) << m.err().message;
        t = std::move(m.value());
        reg.emplace(*t, 100);
        cfg.table_name = name;
        svc.emplace(*reg, *t, cfg);
        set_log_level(log_level::err);
    }
    void TearDown() override {
        svc.reset();
        reg.reset();
        t.reset();
        (void)table::unlink_shm(name);
    }
    std::string flow(uint32_t k, const std::string& extra = "") const {
        return R"({"match": "10.0.)" + std::to_string(k >> 8) + "." + std::to_string(k & 0xff) +
               R"(:5004", "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": )" + key80 + "}" + extra + "}";
    }
};

TEST_F(service_fixture, a_bad_flow_anywhere_installs_nothing_and_answers_as_the_dom_path) {
    const std::vector<std::string> bad_items = {R"(, "window": 5)", R"(, "send_to": "nowhere")", R"(, "colour": "red")"};
    for (const auto& extra : bad_items) {
        std::vector<std::string> items;
        for (uint32_t k = 0; k < 1000; ++k) items.push_back(flow(k, k == 500 ? extra : ""));
        const std::string line = batch_line(items);
        const auto fast = svc->handle_batch_line(line, {});
        ASSERT_TRUE(fast.has_value());
        EXPECT_FALSE((*fast)["ok"].get<bool>());
        EXPECT_EQ((*fast)["error"]["field"].get<std::string>().rfind("flows[500]", 0), 0u) << fast->dump();
        EXPECT_EQ(*fast, svc->handle(json::parse(line), {}));
        EXPECT_EQ(reg->size(), 0u);
    }
    // a duplicate inside the batch: refused whole, as the DOM path refuses it
    std::vector<std::string> items;
    for (uint32_t k = 0; k < 300; ++k) items.push_back(flow(k % 299));
    const auto dup = svc->handle_batch_line(batch_line(items), {});
    ASSERT_TRUE(dup.has_value());
    EXPECT_EQ((*dup)["error"]["code"], "duplicate") << dup->dump();
    EXPECT_EQ(*dup, svc->handle(json::parse(batch_line(items)), {}));
    EXPECT_EQ(reg->size(), 0u);
}

TEST_F(service_fixture, a_good_batch_installs_every_flow_in_order) {
    std::vector<std::string> items;
    for (uint32_t k = 0; k < 1000; ++k) items.push_back(flow(k));
    const auto resp = svc->handle_batch_line(batch_line(items), {});
    ASSERT_TRUE(resp.has_value());
    ASSERT_TRUE((*resp)["ok"].get<bool>()) << resp->dump();
    EXPECT_EQ((*resp)["result"]["added"], 1000);
    EXPECT_EQ(reg->size(), 1000u);
    // each answered slot holds the flow at that position in the request
    const auto& slots = (*resp)["result"]["slots"];
    for (uint32_t k : {0u, 1u, 500u, 999u}) {
        const auto v = reg->get(*api::parse_endpoint("10.0." + std::to_string(k >> 8) + "." + std::to_string(k & 0xff) + ":5004", "m"));
        ASSERT_TRUE(v) << k;
        EXPECT_EQ(v.value().slot, slots[k].get<uint32_t>());
    }
    // the same batch again: every flow is a duplicate, nothing changes
    const auto again = svc->handle_batch_line(batch_line(items), {});
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ((*again)["error"]["code"], "duplicate");
    EXPECT_EQ(reg->size(), 1000u);
}

} // namespace
