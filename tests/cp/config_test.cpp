// srtpo-cp's TOML configuration: defaults, every key, and precise refusals.
#include "config.hpp"

#include <gtest/gtest.h>

using namespace srtpo::cp;

TEST(Config, EmptyIsTheEmbeddedDefault) {
    auto c = parse_config("", "cp.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->table_name, "srtpo");
    EXPECT_EQ(c->table_capacity, 65536u);
    EXPECT_EQ(c->socket_mode, 0660u);
    EXPECT_EQ(c->rekey_grace_ms, 2000);
}

TEST(Config, ReadsEveryKey) {
    auto c = parse_config(R"([table]
name = "t1"
capacity = 1048576
[control]
socket = "/tmp/x.sock"
group = "srtpo"
mode = "0600"
max_request_bytes = 65536
[flows]
rekey_grace_ms = 100
[log]
level = "debug"
)", "cp.toml");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->table_name, "t1");
    EXPECT_EQ(c->table_capacity, 1048576u);
    EXPECT_EQ(c->socket_path, "/tmp/x.sock");
    EXPECT_EQ(*c->socket_group, "srtpo");
    EXPECT_EQ(c->socket_mode, 0600u);
    EXPECT_EQ(c->max_request_bytes, 65536u);
    EXPECT_EQ(c->rekey_grace_ms, 100);
    EXPECT_EQ(c->level, log_level::debug);
}

TEST(Config, RefusalsNameTheKey) {
    const std::pair<const char*, const char*> cases[] = {
        {"[table]\ncapacity = 0\n", "table.capacity"},
        {"[table]\ncapacity = \"big\"\n", "table.capacity"},
        {"[table]\nsize = 3\n", "table.size: unknown key"},
        {"[tabel]\n", "tabel: unknown key"},
        {"[control]\nmode = \"rw\"\n", "control.mode"},
        {"[control]\nmode = \"0777777\"\n", "control.mode"},
        {"[log]\nlevel = \"loud\"\n", "log.level"},
        {"[flows]\nrekey_grace_ms = -1\n", "flows.rekey_grace_ms"},
        {"table = 3\n", "table: must be a [section]"},
        {"[table\n", "cp.toml:1:"},
    };
    for (auto [text, expect] : cases) {
        auto c = parse_config(text, "cp.toml");
        ASSERT_FALSE(c) << text;
        EXPECT_NE(c.err().message.find(expect), std::string::npos) << c.err().message;
    }
}
