// ICE-lite and STUN: the RFC 5769 sample messages (an independent check of the HMAC-SHA1
// MESSAGE-INTEGRITY, the CRC-32 FINGERPRINT and XOR-MAPPED-ADDRESS for IPv4 and IPv6), the
// responder's answers to good and bad requests, parser error paths and the SDP lines.

#include <srtpo/cp/ice/ice_lite_agent.hpp>
#include <srtpo/cp/ice/ice_sdp.hpp>
#include <srtpo/cp/ice/stun_integrity.hpp>
#include <srtpo/cp/ice/stun_message.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>

namespace srtpo::test::ice {
namespace {

namespace ci = srtpo::cp::ice;
using bytes = std::vector<std::byte>;

bytes hex(std::string_view s) {
    bytes out;
    int hi = -1;
    for (char c : s) {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) continue;
        if (hi < 0) hi = v;
        else {
            out.push_back(static_cast<std::byte>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}

std::span<const std::byte> key_of(const std::string& s) { return std::as_bytes(std::span<const char>(s.data(), s.size())); }

const nlohmann::json& vectors() {
    static const nlohmann::json j = [] {
        const char* dir = std::getenv("SRTPO_ICE_VECTORS");
        std::ifstream f(std::string(dir ? dir : ".") + "/rfc5769.json");
        return nlohmann::json::parse(f);
    }();
    return j;
}

const nlohmann::json& vec(const std::string& name) {
    for (const auto& t : vectors()["tests"])
        if (t["name"] == name) return t;
    throw std::runtime_error("no vector " + name);
}

std::string password() { return vectors()["password"]; }

// ---- RFC 5769 -----------------------------------------------------------------------------------

TEST(Rfc5769, SampleRequestParsesAndVerifies) {
    const auto& v = vec("sample_request");
    const auto raw = hex(v["hex"].get<std::string>());
    ASSERT_TRUE(ci::looks_like_stun(raw));
    auto m = ci::parse_stun(raw);
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_EQ(m->method(), ci::method_binding);
    EXPECT_EQ(m->cls(), ci::stun_class::request);
    const auto* user = m->find(ci::attr::username);
    ASSERT_TRUE(user);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(user->value.data()), user->value.size()), v["username"]);
    const auto* sw = m->find(ci::attr::software);
    ASSERT_TRUE(sw);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(sw->value.data()), sw->value.size()), v["software"]);
    EXPECT_EQ(ci::check_message_integrity(*m, key_of(password())), ci::integrity_status::ok);
    EXPECT_EQ(ci::check_fingerprint(*m), ci::integrity_status::ok);
    EXPECT_EQ(ci::check_message_integrity(*m, key_of("VOkJxbRl1RmTxUk/WvJxBT")), ci::integrity_status::mismatch);
}

class Rfc5769Response : public ::testing::TestWithParam<const char*> {};

TEST_P(Rfc5769Response, ParsesVerifiesAndXorAddressRoundTrips) {
    const auto& v = vec(GetParam());
    const auto raw = hex(v["hex"].get<std::string>());
    auto m = ci::parse_stun(raw);
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_EQ(m->cls(), ci::stun_class::success_response);
    EXPECT_EQ(ci::check_message_integrity(*m, key_of(password())), ci::integrity_status::ok);
    EXPECT_EQ(ci::check_fingerprint(*m), ci::integrity_status::ok);
    const auto* x = m->find(ci::attr::xor_mapped_address);
    ASSERT_TRUE(x);
    auto a = ci::decode_xor_address(x->value, m->tid);
    ASSERT_TRUE(a) << a.err().message;
    const auto want = ci::transport_address::from_string(v["address"].get<std::string>(), v["port"].get<uint16_t>()).value();
    EXPECT_EQ(*a, want);
    EXPECT_EQ(a->ip_string(), v["address"].get<std::string>());
    EXPECT_EQ(ci::encode_xor_address(want, m->tid), hex(v["xor_mapped_address"].get<std::string>()));
    // Our builder, given the same attributes, writes the same XOR-MAPPED-ADDRESS value and a
    // MESSAGE-INTEGRITY / FINGERPRINT that our checker (verified above on the RFC's bytes) accepts.
    const std::string pw = password();
    auto built = ci::stun_builder(m->type, m->tid).add_xor_mapped_address(want).finish(key_of(pw), true);
    ASSERT_TRUE(built);
    auto bm = ci::parse_stun(*built).value();
    EXPECT_EQ(ci::check_message_integrity(bm, key_of(pw)), ci::integrity_status::ok);
    EXPECT_EQ(ci::check_fingerprint(bm), ci::integrity_status::ok);
    EXPECT_EQ(bm.find(ci::attr::xor_mapped_address)->value.size(), x->value.size());
}

INSTANTIATE_TEST_SUITE_P(Both, Rfc5769Response, ::testing::Values("sample_ipv4_response", "sample_ipv6_response"));

TEST(Rfc5769, EveryBitFlipIsCaught) {
    const auto raw = hex(vec("sample_request")["hex"].get<std::string>());
    // Flip each bit after the header: either parsing fails, or FINGERPRINT / MESSAGE-INTEGRITY
    // no longer verify. Nothing slips through.
    for (std::size_t i = ci::header_len * 8; i < raw.size() * 8; ++i) {
        auto d = raw;
        d[i / 8] ^= static_cast<std::byte>(1u << (i % 8));
        auto m = ci::parse_stun(d);
        if (!m) continue;
        const bool ok = ci::check_fingerprint(*m) == ci::integrity_status::ok &&
                        ci::check_message_integrity(*m, key_of(password())) == ci::integrity_status::ok;
        EXPECT_FALSE(ok) << "bit " << i;
    }
}

TEST(Crc32, KnownAnswers) {
    const std::string s = "123456789";
    EXPECT_EQ(ci::crc32(std::as_bytes(std::span<const char>(s.data(), s.size()))), 0xCBF43926u); // the CRC-32 check value
    EXPECT_EQ(ci::crc32({}), 0u);
}

// ---- the ICE-lite responder ---------------------------------------------------------------------

struct agent_fixture {
    // RFC 5769's request was sent by agent "h6vY" to agent "evtj" with evtj's password.
    ci::ice_credentials ours{"evtj", password()};
    ci::ice_credentials theirs{"h6vY", "remote-password-is-unused-here"};
    ci::transport_address src = ci::transport_address::from_string("192.0.2.1", 32853).value();
};

TEST(IceLite, AnswersTheRfcSampleRequest) {
    agent_fixture f;
    ci::ice_lite_agent agent(f.ours, f.theirs, /*tie_breaker=*/0); // smaller than the request's
    const auto req = hex(vec("sample_request")["hex"].get<std::string>());
    auto r = agent.handle(req, f.src);
    ASSERT_EQ(r.k, ci::binding_result::kind::success) << r.reason;
    EXPECT_EQ(r.priority, vec("sample_request")["priority"].get<uint32_t>());
    EXPECT_FALSE(r.use_candidate);
    auto m = ci::parse_stun(r.response).value();
    EXPECT_EQ(m.cls(), ci::stun_class::success_response);
    EXPECT_EQ(m.method(), ci::method_binding);
    auto reqm = ci::parse_stun(req).value();
    EXPECT_EQ(m.tid, reqm.tid);
    EXPECT_EQ(ci::check_message_integrity(m, key_of(f.ours.pwd)), ci::integrity_status::ok);
    EXPECT_EQ(ci::check_fingerprint(m), ci::integrity_status::ok);
    EXPECT_EQ(ci::decode_xor_address(m.find(ci::attr::xor_mapped_address)->value, m.tid).value(), f.src);
    // Same transaction and address as RFC 5769 §2.2, so the XOR-MAPPED-ADDRESS value matches the RFC's.
    EXPECT_EQ(bytes(m.find(ci::attr::xor_mapped_address)->value.begin(), m.find(ci::attr::xor_mapped_address)->value.end()),
              hex(vec("sample_ipv4_response")["xor_mapped_address"].get<std::string>()));
}

TEST(IceLite, RoleConflictWhenBothControlled) {
    agent_fixture f;
    ci::ice_lite_agent agent(f.ours, f.theirs, ~uint64_t{0}); // >= the request's ICE-CONTROLLED
    auto r = agent.handle(hex(vec("sample_request")["hex"].get<std::string>()), f.src);
    ASSERT_EQ(r.k, ci::binding_result::kind::error);
    EXPECT_EQ(r.error_code, 487);
    auto m = ci::parse_stun(r.response).value();
    EXPECT_EQ(m.cls(), ci::stun_class::error_response);
    EXPECT_EQ(ci::check_message_integrity(m, key_of(f.ours.pwd)), ci::integrity_status::ok);
    const auto* ec = m.find(ci::attr::error_code);
    ASSERT_TRUE(ec);
    EXPECT_EQ(static_cast<int>(ec->value[2]) * 100 + static_cast<int>(ec->value[3]), 487);
}

bytes request(const std::string& username, const std::optional<std::string>& pwd, bool with_username = true,
              std::vector<uint16_t> extra_attrs = {}, bool controlling = true, bool fingerprint = true) {
    ci::transaction_id tid{};
    for (std::size_t i = 0; i < tid.size(); ++i) tid[i] = static_cast<std::byte>(i * 7 + 1);
    ci::stun_builder b(ci::message_type(ci::method_binding, ci::stun_class::request), tid);
    if (with_username) b.add(ci::attr::username, username);
    b.add_u32(ci::attr::priority, 0x6e0001ff);
    if (controlling) b.add_u64(ci::attr::ice_controlling, 42);
    b.add(ci::attr::use_candidate, bytes{});
    for (auto t : extra_attrs) b.add(t, bytes{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}});
    std::optional<std::span<const std::byte>> key;
    if (pwd) key = key_of(*pwd);
    return b.finish(key, fingerprint).value();
}

TEST(IceLite, RejectsWhatItMust) {
    agent_fixture f;
    ci::ice_lite_agent agent(f.ours, f.theirs, 0);
    auto code = [&](const bytes& d) {
        auto r = agent.handle(d, f.src);
        if (r.k == ci::binding_result::kind::error) {
            auto m = ci::parse_stun(r.response).value();
            EXPECT_EQ(m.cls(), ci::stun_class::error_response);
            EXPECT_EQ(ci::check_fingerprint(m), ci::integrity_status::ok);
            // 400/401 answer unauthenticated requests: no MESSAGE-INTEGRITY (RFC 8489 §9.1.3).
            EXPECT_EQ(m.find(ci::attr::message_integrity) != nullptr, r.error_code >= 420) << r.error_code;
        }
        return r;
    };
    auto ok = code(request("evtj:h6vY", f.ours.pwd));
    EXPECT_EQ(ok.k, ci::binding_result::kind::success) << ok.reason;
    EXPECT_TRUE(ok.use_candidate);
    EXPECT_EQ(code(request("evtj:h6vY", "wrong-password-0123456789")).error_code, 401);
    EXPECT_EQ(code(request("evtj:h6vY", std::nullopt)).error_code, 400);        // no MESSAGE-INTEGRITY
    EXPECT_EQ(code(request("", f.ours.pwd, false)).error_code, 400);            // no USERNAME
    EXPECT_EQ(code(request("xxxx:h6vY", f.ours.pwd)).error_code, 401);          // not our ufrag
    EXPECT_EQ(code(request("evtj:zzzz", f.ours.pwd)).error_code, 401);          // not the peer's ufrag
    EXPECT_EQ(code(request("evtj", f.ours.pwd)).error_code, 401);               // no colon
    EXPECT_EQ(code(request("evtj:", f.ours.pwd)).error_code, 401);              // empty RFRAG
    auto unknown = code(request("evtj:h6vY", f.ours.pwd, true, {0x0042}));
    EXPECT_EQ(unknown.error_code, 420);
    auto um = ci::parse_stun(unknown.response).value();
    ASSERT_TRUE(um.find(ci::attr::unknown_attributes));
    EXPECT_EQ(static_cast<int>(um.find(ci::attr::unknown_attributes)->value[1]), 0x42);
    // Comprehension-optional unknown attributes are fine.
    EXPECT_EQ(code(request("evtj:h6vY", f.ours.pwd, true, {0xC001})).k, ci::binding_result::kind::success);
    // A corrupted FINGERPRINT: not STUN after all, dropped without an answer.
    auto bad_fp = request("evtj:h6vY", f.ours.pwd);
    bad_fp.back() ^= std::byte{1};
    auto r = code(bad_fp);
    EXPECT_EQ(r.k, ci::binding_result::kind::ignored);
    EXPECT_TRUE(r.response.empty());
    // A flipped bit under MESSAGE-INTEGRITY with the FINGERPRINT recomputed: 401.
    auto tampered = request("evtj:h6vY", f.ours.pwd, true, {}, true, false);
    tampered[30] ^= std::byte{0x01}; // inside PRIORITY/USERNAME area
    auto tm = ci::parse_stun(tampered);
    ASSERT_TRUE(tm);
    EXPECT_EQ(code(tampered).error_code, 401);
}

TEST(IceLite, IgnoresIndicationsResponsesAndNonStun) {
    agent_fixture f;
    ci::ice_lite_agent agent(f.ours, std::nullopt, 0);
    ci::transaction_id tid{};
    auto ind = ci::stun_builder(ci::message_type(ci::method_binding, ci::stun_class::indication), tid).finish(std::nullopt, true).value();
    EXPECT_EQ(agent.handle(ind, f.src).k, ci::binding_result::kind::ignored);
    EXPECT_EQ(agent.handle(hex(vec("sample_ipv4_response")["hex"].get<std::string>()), f.src).k,
              ci::binding_result::kind::ignored);
    const bytes rtp = hex("80000001000000a011223344");
    EXPECT_EQ(agent.handle(rtp, f.src).k, ci::binding_result::kind::not_stun);
    EXPECT_EQ(agent.handle({}, f.src).k, ci::binding_result::kind::not_stun);
    // Without remote credentials any RFRAG is accepted, as long as ours is named.
    auto r = agent.handle(request("evtj:anyone", f.ours.pwd), f.src);
    EXPECT_EQ(r.k, ci::binding_result::kind::success) << r.reason;
    // Other methods are refused.
    auto alloc = ci::stun_builder(ci::message_type(0x003, ci::stun_class::request), tid).finish(std::nullopt, true).value();
    EXPECT_EQ(agent.handle(alloc, f.src).error_code, 400);
}

TEST(IceLite, AnswersIpv6Sources) {
    agent_fixture f;
    ci::ice_lite_agent agent(f.ours, f.theirs, 0);
    auto src6 = ci::transport_address::from_string("2001:db8::7", 40000).value();
    auto r = agent.handle(request("evtj:h6vY", f.ours.pwd), src6);
    ASSERT_EQ(r.k, ci::binding_result::kind::success);
    auto m = ci::parse_stun(r.response).value();
    EXPECT_EQ(ci::decode_xor_address(m.find(ci::attr::xor_mapped_address)->value, m.tid).value(), src6);
}

// ---- parser error paths -----------------------------------------------------------------------------

TEST(StunParser, PreciseErrors) {
    const auto good = hex(vec("sample_request")["hex"].get<std::string>());
    auto err = [](bytes d) {
        auto m = ci::parse_stun(d);
        return m ? std::string("ok") : m.err().message;
    };
    EXPECT_NE(err(bytes(19)).find("shorter"), std::string::npos);
    auto d = good;
    d[0] |= std::byte{0x80};
    EXPECT_NE(err(d).find("most significant"), std::string::npos);
    d = good;
    d[3] = std::byte{0x57};
    EXPECT_NE(err(d).find("multiple of 4"), std::string::npos);
    d = good;
    d.resize(d.size() - 4);
    EXPECT_NE(err(d).find("does not match"), std::string::npos);
    d = good;
    d[4] = std::byte{0};
    EXPECT_NE(err(d).find("cookie"), std::string::npos);
    d = good;
    d[22] = std::byte{0xff}; // SOFTWARE length 0xff10: runs past the end
    EXPECT_NE(err(d).find("past the end"), std::string::npos);
    // FINGERPRINT not last
    ci::transaction_id tid{};
    auto fp_then = ci::stun_builder(0x0001, tid).finish(std::nullopt, true).value();
    fp_then.insert(fp_then.end(), {std::byte{0x80}, std::byte{0x22}, std::byte{0}, std::byte{0}});
    fp_then[3] = static_cast<std::byte>(fp_then.size() - 20);
    EXPECT_NE(err(fp_then).find("after FINGERPRINT"), std::string::npos);
    // too many attributes
    ci::stun_builder many(0x0001, tid);
    for (std::size_t i = 0; i <= ci::max_attributes; ++i) many.add(0x8050, bytes{});
    EXPECT_NE(err(many.finish(std::nullopt, false).value()).find("too many"), std::string::npos);
    // attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored
    auto after = ci::stun_builder(0x0001, tid).add(ci::attr::username, "a:b").finish(key_of("k"), false).value();
    const std::size_t before = after.size();
    after.insert(after.end(), {std::byte{0x80}, std::byte{0x22}, std::byte{0}, std::byte{0}});
    after[3] = static_cast<std::byte>(after.size() - 20);
    auto am = ci::parse_stun(after).value();
    EXPECT_EQ(am.find(ci::attr::software), nullptr);
    EXPECT_GT(after.size(), before);
    EXPECT_FALSE(ci::decode_xor_address(hex("0003a147e112a643"), tid));
    EXPECT_FALSE(ci::decode_xor_address(hex("0001a147e112a6"), tid));
}

TEST(StunParser, RandomInputNeverCrashes) {
    std::mt19937 rng(11);
    ci::ice_lite_agent agent({"evtj", password()}, std::nullopt, 0);
    const auto src = ci::transport_address::from_string("127.0.0.1", 1).value();
    auto base = hex(vec("sample_request")["hex"].get<std::string>());
    for (int i = 0; i < 20000; ++i) {
        auto d = base;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) d[rng() % d.size()] = static_cast<std::byte>(rng());
        if (rng() % 4 == 0) d.resize(rng() % (d.size() + 1));
        auto r = agent.handle(d, src);
        // Unchanged up to the end of MESSAGE-INTEGRITY (octet 100): what follows is FINGERPRINT,
        // and turning its type into another attribute after MESSAGE-INTEGRITY merely makes it
        // ignored (RFC 8489 §14.5), so such a request still authenticates, rightly.
        if (d.size() == base.size() && std::equal(d.begin(), d.begin() + 100, base.begin())) continue;
        EXPECT_NE(r.k, ci::binding_result::kind::success) << "a mutated request must not authenticate";
    }
}

// ---- SDP -------------------------------------------------------------------------------------------

TEST(IceSdp, CredentialsAndLines) {
    auto a = ci::generate_credentials().value(), b = ci::generate_credentials().value();
    EXPECT_TRUE(ci::valid_ufrag(a.ufrag));
    EXPECT_TRUE(ci::valid_pwd(a.pwd));
    EXPECT_GE(a.pwd.size(), 22u);
    EXPECT_NE(a.pwd, b.pwd);
    EXPECT_FALSE(ci::valid_ufrag("abc"));
    EXPECT_FALSE(ci::valid_pwd("short"));
    EXPECT_FALSE(ci::valid_ufrag("ab:cd"));
    EXPECT_EQ(ci::candidate_priority(1), 2130706431u); // RFC 8445 §5.1.2.1 host, component 1
    EXPECT_EQ(ci::candidate_priority(2), 2130706430u);
    EXPECT_EQ(ci::ice_lite_session_line(), "a=ice-lite");
    const ci::host_candidate c[] = {{"192.0.2.10", 40000}, {"2001:db8::1", 40000, 1, "2"}};
    auto lines = ci::ice_media_lines({"abcd", "0123456789abcdefghijkl"}, c).value();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "a=ice-ufrag:abcd");
    EXPECT_EQ(lines[1], "a=ice-pwd:0123456789abcdefghijkl");
    EXPECT_EQ(lines[2], "a=candidate:1 1 UDP 2130706431 192.0.2.10 40000 typ host");
    EXPECT_EQ(lines[3], "a=candidate:2 1 UDP 2130706431 2001:db8::1 40000 typ host");
    const ci::host_candidate bad_addr[] = {{"media.example", 40000}};
    EXPECT_FALSE(ci::ice_media_lines(a, bad_addr));
    const ci::host_candidate bad_port[] = {{"192.0.2.10", 0}};
    EXPECT_FALSE(ci::ice_media_lines(a, bad_port));
    EXPECT_FALSE(ci::ice_media_lines({"abc", a.pwd}, c));
}

} // namespace
} // namespace srtpo::test::ice
