// hmac_sha1_mb (engine/src/backend/hmac_sha1_mb.cpp): the 16-lane AVX-512 HMAC-SHA1 the IPsec-MB
// backend uses for voice-sized packets (ADR 0022), against OpenSSL's HMAC on the same inputs:
// every length across the padding boundaries, runs of every size with mixed lengths and keys,
// unaligned messages, a tag over its message's last octets (the SRTP ROC), messages that end at
// an unmapped page, and RFC 2202's first vector as a fixed answer.

#include "backend/hmac_sha1_mb.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <intel-ipsec-mb.h>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace srtpo::engine::detail {
namespace {

/// A key as hmac_sha1_mb takes it: the SHA-1 chaining values after K ⊕ ipad and K ⊕ opad,
/// computed with IPsec-MB's one-block SHA-1 as the backend does at install.
struct pads {
    alignas(16) std::array<uint8_t, 24> ipad{}, opad{};
    std::vector<uint8_t> key;
};

class HmacSha1Mb : public ::testing::Test {
protected:
    void SetUp() override {
        if (!hmac_sha1_mb_usable()) GTEST_SKIP() << "this CPU lacks AVX-512 F/BW: the backend uses IPsec-MB's HMAC";
        mgr_ = alloc_mb_mgr(0);
        ASSERT_NE(mgr_, nullptr);
        init_mb_mgr_auto(mgr_, nullptr);
    }
    void TearDown() override {
        if (mgr_) free_mb_mgr(mgr_);
    }

    pads make_pads(std::vector<uint8_t> key) {
        pads p;
        p.key = std::move(key);
        std::array<uint8_t, 64> block{};
        for (uint8_t x : {uint8_t{0x36}, uint8_t{0x5c}}) {
            for (std::size_t i = 0; i < 64; ++i) block[i] = static_cast<uint8_t>((i < p.key.size() ? p.key[i] : 0) ^ x);
            IMB_SHA1_ONE_BLOCK(mgr_, block.data(), x == 0x36 ? p.ipad.data() : p.opad.data());
        }
        return p;
    }

    static std::array<uint8_t, 20> reference(const pads& k, const std::byte* msg, std::size_t len) {
        std::array<uint8_t, 20> out{};
        unsigned n = 0;
        static const uint8_t empty = 0;
        HMAC(EVP_sha1(), k.key.data(), static_cast<int>(k.key.size()), len ? reinterpret_cast<const uint8_t*>(msg) : &empty,
             len, out.data(), &n);
        EXPECT_EQ(n, 20u);
        return out;
    }

    IMB_MGR* mgr_ = nullptr;
};

TEST_F(HmacSha1Mb, Rfc2202Case1) {
    // RFC 2202 §3 test case 1: key 0x0b × 20, data "Hi There".
    const pads k = make_pads(std::vector<uint8_t>(20, 0x0b));
    const char* data = "Hi There";
    std::array<std::byte, hmac_sha1_mb_tag_len> tag{};
    const hmac_sha1_msg m{k.ipad.data(), k.opad.data(), reinterpret_cast<const std::byte*>(data), 8, tag.data()};
    hmac_sha1_mb({&m, 1});
    static constexpr uint8_t expect[12] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6};
    EXPECT_EQ(std::memcmp(tag.data(), expect, sizeof expect), 0);
}

TEST_F(HmacSha1Mb, EveryLengthAcrossThePaddingBoundaries) {
    // Lengths 0 … 300 in one call: one or two padding blocks (55/56 octets past a block
    // boundary), and passes whose lanes differ in block count.
    std::mt19937 rng(1);
    const pads k = make_pads({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
    std::vector<std::byte> buf(301);
    for (auto& b : buf) b = static_cast<std::byte>(rng());
    std::vector<std::array<std::byte, hmac_sha1_mb_tag_len>> tags(301);
    std::vector<hmac_sha1_msg> msgs;
    for (uint32_t len = 0; len <= 300; ++len) msgs.push_back({k.ipad.data(), k.opad.data(), buf.data(), len, tags[len].data()});
    hmac_sha1_mb(msgs);
    for (uint32_t len = 0; len <= 300; ++len) {
        const auto ref = reference(k, buf.data(), len);
        EXPECT_EQ(std::memcmp(tags[len].data(), ref.data(), hmac_sha1_mb_tag_len), 0) << "length " << len;
    }
}

TEST_F(HmacSha1Mb, RandomRunsOfMixedLengthsKeysAndAlignment) {
    std::mt19937 rng(2);
    std::vector<pads> keys;
    for (int i = 0; i < 5; ++i) {
        std::vector<uint8_t> key(20);
        for (auto& b : key) b = static_cast<uint8_t>(rng());
        keys.push_back(make_pads(key));
    }
    for (int trial = 0; trial < 300; ++trial) {
        const std::size_t n = 1 + rng() % 80; // more than one run of 64, partial passes
        const bool one_length = trial % 3 == 0;
        const auto common = static_cast<uint32_t>(rng() % 1500);
        std::vector<std::vector<std::byte>> data(n);
        std::vector<std::array<std::byte, hmac_sha1_mb_tag_len>> tags(n);
        std::vector<hmac_sha1_msg> msgs(n);
        std::vector<std::size_t> key_of(n), off(n);
        for (std::size_t i = 0; i < n; ++i) {
            const uint32_t len = one_length ? common : static_cast<uint32_t>(rng() % (trial % 2 ? 300 : 1500));
            off[i] = rng() % 8; // unaligned starts
            data[i].resize(off[i] + len);
            for (auto& b : data[i]) b = static_cast<std::byte>(rng());
            key_of[i] = rng() % keys.size();
            msgs[i] = {keys[key_of[i]].ipad.data(), keys[key_of[i]].opad.data(), data[i].data() + off[i], len, tags[i].data()};
        }
        hmac_sha1_mb(msgs);
        for (std::size_t i = 0; i < n; ++i) {
            const auto ref = reference(keys[key_of[i]], msgs[i].data, msgs[i].len);
            ASSERT_EQ(std::memcmp(tags[i].data(), ref.data(), hmac_sha1_mb_tag_len), 0)
                << "trial " << trial << " message " << i << " of " << n << " length " << msgs[i].len;
        }
    }
}

TEST_F(HmacSha1Mb, TagOverTheEndOfItsMessage) {
    // SRTP writes the ROC after the packet, hashes packet ‖ ROC and puts the tag where the ROC
    // was (RFC 3711 §4.2): the tag overlaps the message's last 4 octets.
    std::mt19937 rng(3);
    const pads k = make_pads(std::vector<uint8_t>(20, 0x42));
    for (uint32_t len : {4u, 60u, 64u, 176u, 247u, 1216u}) {
        std::vector<std::vector<std::byte>> pkts(16);
        std::vector<std::array<uint8_t, 20>> refs(16);
        std::vector<hmac_sha1_msg> msgs(16);
        for (std::size_t i = 0; i < 16; ++i) {
            pkts[i].resize(len + 12);
            for (auto& b : pkts[i]) b = static_cast<std::byte>(rng());
            refs[i] = reference(k, pkts[i].data(), len);
            msgs[i] = {k.ipad.data(), k.opad.data(), pkts[i].data(), len, pkts[i].data() + len - 4};
        }
        hmac_sha1_mb(msgs);
        for (std::size_t i = 0; i < 16; ++i)
            EXPECT_EQ(std::memcmp(pkts[i].data() + len - 4, refs[i].data(), hmac_sha1_mb_tag_len), 0) << len << " " << i;
    }
}

TEST_F(HmacSha1Mb, ReadsNothingPastAMessage) {
    // Messages ending at the last octet before an unmapped page: the partial block is read with
    // a masked load, so no octet past the message is touched (a fault would end the test).
    const long page = sysconf(_SC_PAGESIZE);
    auto* mem = static_cast<std::byte*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem, MAP_FAILED);
    ASSERT_EQ(mprotect(mem + page, page, PROT_NONE), 0);
    for (long i = 0; i < page; ++i) mem[i] = static_cast<std::byte>(i * 7);
    const pads k = make_pads(std::vector<uint8_t>(20, 0x17));
    std::vector<std::array<std::byte, hmac_sha1_mb_tag_len>> tags(131);
    std::vector<hmac_sha1_msg> msgs;
    for (uint32_t len = 0; len <= 130; ++len) msgs.push_back({k.ipad.data(), k.opad.data(), mem + page - len, len, tags[len].data()});
    hmac_sha1_mb(msgs);
    for (uint32_t len = 0; len <= 130; ++len) {
        const auto ref = reference(k, mem + page - len, len);
        EXPECT_EQ(std::memcmp(tags[len].data(), ref.data(), hmac_sha1_mb_tag_len), 0) << len;
    }
    munmap(mem, 2 * page);
}

} // namespace
} // namespace srtpo::engine::detail
