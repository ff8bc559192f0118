// The ZID cache file: 0600 files, persistence across opens, and refusal of tampered content or
// wider permissions.
#include <srtpo/cp/zrtp/zid_cache.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace srtpo::cp::zrtp {
namespace {

struct tmpdir {
    std::filesystem::path p;
    tmpdir() {
        std::string t = (std::filesystem::temp_directory_path() / "zrtp-cache-XXXXXX").string();
        p = ::mkdtemp(t.data());
    }
    ~tmpdir() { std::filesystem::remove_all(p); }
};

mode_t mode_of(const std::filesystem::path& f) {
    struct stat st {};
    ::stat(f.c_str(), &st);
    return st.st_mode & 0777;
}

TEST(zrtp_cache, persists_secrets_and_flag_with_0600_files) {
    tmpdir d;
    const auto cf = (d.p / "zrtp.cache").string(), kf = (d.p / "zrtp.key").string();
    zid_t peer;
    peer.fill(0xab);
    zid_t self;
    {
        auto c = zid_cache::open(cf, kf);
        ASSERT_TRUE(c) << c.err().message;
        self = c->self_zid();
        cache_entry e;
        e.rs1 = secret(std::vector<uint8_t>(32, 1));
        ASSERT_TRUE(c->store(peer, e));
        ASSERT_TRUE(c->set_verified(peer, true));
        EXPECT_FALSE(c->set_verified(zid_t{}, true));
    }
    EXPECT_EQ(mode_of(cf), 0600u);
    EXPECT_EQ(mode_of(kf), 0600u);
    auto c = zid_cache::open(cf, kf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->self_zid(), self);
    const auto* e = c->find(peer);
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->rs1.equals(std::vector<uint8_t>(32, 1)));
    EXPECT_TRUE(e->rs2.empty());
    EXPECT_TRUE(e->sas_verified);
}

// srtpo-cp's media path defers the write of a secure exchange's secrets until its flows are in
// (zrtp_keying::pump): the file changes only at flush(), and a flush with nothing new writes nothing.
TEST(zrtp_cache, deferred_store_is_written_by_flush) {
    tmpdir d;
    const auto cf = (d.p / "zrtp.cache").string(), kf = (d.p / "zrtp.key").string();
    zid_t peer;
    peer.fill(0xcd);
    auto c = zid_cache::open(cf, kf);
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->flush()); // nothing deferred yet
    c->defer_saves(true);
    cache_entry e;
    e.rs1 = secret(std::vector<uint8_t>(32, 7));
    ASSERT_TRUE(c->store(peer, e));
    ASSERT_NE(c->find(peer), nullptr) << "the entry is in memory at once";
    {
        auto before = zid_cache::open(cf, kf);
        ASSERT_TRUE(before) << before.err().message;
        EXPECT_EQ(before->find(peer), nullptr) << "a deferred store wrote the file";
    }
    ASSERT_TRUE(c->flush());
    auto after = zid_cache::open(cf, kf);
    ASSERT_TRUE(after) << after.err().message;
    ASSERT_NE(after->find(peer), nullptr);
    EXPECT_TRUE(after->find(peer)->rs1.equals(std::vector<uint8_t>(32, 7)));
    std::filesystem::remove(cf);
    ASSERT_TRUE(c->flush()); // clean: no write
    EXPECT_FALSE(std::filesystem::exists(cf));
}

TEST(zrtp_cache, tampering_and_wide_permissions_are_refused) {
    tmpdir d;
    const auto cf = (d.p / "zrtp.cache").string(), kf = (d.p / "zrtp.key").string();
    {
        auto c = zid_cache::open(cf, kf);
        ASSERT_TRUE(c);
        cache_entry e;
        e.rs1 = secret(std::vector<uint8_t>(32, 9));
        ASSERT_TRUE(c->store(zid_t{1}, e));
    }
    {
        std::fstream f(cf, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(40);
        f.put('\x55');
    }
    auto bad = zid_cache::open(cf, kf);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("integrity"), std::string::npos);
    std::filesystem::remove(cf);
    ASSERT_TRUE(zid_cache::open(cf, kf));
    ::chmod(kf.c_str(), 0644);
    auto wide = zid_cache::open(cf, kf);
    ASSERT_FALSE(wide);
    EXPECT_NE(wide.err().message.find("0600"), std::string::npos);
    ::chmod(kf.c_str(), 0600);
    {
        std::ofstream f(cf, std::ios::binary | std::ios::trunc);
        f << "garbage";
    }
    EXPECT_FALSE(zid_cache::open(cf, kf));
}

} // namespace
} // namespace srtpo::cp::zrtp
