// SP (RFC 3830 §6.10.1) <-> engine suites: every engine suite round-trips through an SP
// payload, defaults apply to absent parameters, and everything the engine cannot run is
// refused with a message naming the parameter.
#include <srtpo/cp/mikey/srtp_policy.hpp>

#include <gtest/gtest.h>

using namespace srtpo::cp::mikey;
using srtpo::engine::suite;

TEST(MikeyPolicy, EverySuiteRoundTrips) {
    for (const auto& t : srtpo::engine::all_suites) {
        for (int flags = 0; flags < 8; ++flags) {
            srtp_policy p{t.id, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0};
            auto sp = sp_from_policy(3, p);
            ASSERT_TRUE(sp);
            EXPECT_EQ(sp->policy_no, 3);
            auto back = policy_from_sp(*sp);
            if (t.aead() && p.unauthenticated_srtp) {
                EXPECT_FALSE(back) << t.name << ": AEAD cannot be unauthenticated";
                continue;
            }
            ASSERT_TRUE(back) << t.name << ": " << back.err().message;
            EXPECT_EQ(*back, p) << t.name;
        }
    }
}

TEST(MikeyPolicy, DefaultsOfSection6101) {
    auto p = policy_from_sp(sp_payload{});
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, default_policy());
    EXPECT_EQ(p->suite, suite::aes_cm_128_hmac_sha1_80);
    sp_payload only_tag;
    only_tag.add(srtp_param::auth_tag_len, 4);
    EXPECT_EQ(policy_from_sp(only_tag)->suite, suite::aes_cm_128_hmac_sha1_32);
    sp_payload gcm;
    gcm.add(srtp_param::encr_alg, 4);
    EXPECT_EQ(policy_from_sp(gcm)->suite, suite::aead_aes_128_gcm);
    gcm.add(srtp_param::encr_key_len, 32);
    EXPECT_EQ(policy_from_sp(gcm)->suite, suite::aead_aes_256_gcm);
}

namespace {
std::string refusal(std::initializer_list<std::pair<srtp_param, uint32_t>> ps, uint8_t len = 1) {
    sp_payload sp;
    for (auto [t, v] : ps) sp.add(t, v, t == srtp_param::kdr ? 4 : len);
    auto r = policy_from_sp(sp);
    return r ? std::string("accepted") : r.err().message;
}
} // namespace

TEST(MikeyPolicy, RefusalsNameTheParameter) {
    EXPECT_NE(refusal({{srtp_param::kdr, 1u << 24}}).find("Key derivation rate"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::fec_order, 1}}).find("FEC order"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::srtp_prefix_len, 4}}).find("prefix length"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::prf, 1}}).find("Pseudo Random"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::encr_alg, 3}}).find("Encryption algorithm = 3"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::auth_alg, 0}}).find("Authentication algorithm = 0"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::auth_key_len, 32}}).find("Auth. key length"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::salt_key_len, 12}}).find("Salt key length"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::srtp_encr, 2}}).find("off/on"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::encr_key_len, 20}}).find("no engine suite"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::encr_alg, 2}, {srtp_param::auth_tag_len, 4}}).find("no engine suite"), std::string::npos)
        << "F8 exists with an 80-bit tag only";
    EXPECT_NE(refusal({{srtp_param::encr_alg, 4}, {srtp_param::auth_alg, 1}}).find("AEAD"), std::string::npos);
    EXPECT_NE(refusal({{srtp_param::encr_alg, 4}, {srtp_param::aead_auth_tag_len, 8}}).find("no engine suite"), std::string::npos);
    sp_payload unknown;
    unknown.params.push_back(sp_param{13, {1}});
    EXPECT_NE(policy_from_sp(unknown).err().message.find("type 13"), std::string::npos);
    sp_payload longv;
    longv.params.push_back(sp_param{0, {0, 0, 0, 0, 1}});
    EXPECT_FALSE(policy_from_sp(longv));
    EXPECT_FALSE(sp_from_policy(0, srtp_policy{static_cast<suite>(0x1234)}));
}
