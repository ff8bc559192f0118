// srtpo-pcap end to end: captures protected by libsrtp 2.5 (an independent implementation) are
// unprotected by the tool and must match the original frame for frame; the tool's protected
// output must be accepted by libsrtp; bad arguments give exit code 2 and a clear message.

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include "../common/capture_oracle.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace srtpo;
namespace fs = std::filesystem;

namespace {

const bool env_ = (test::register_libsrtp_environment(), true);

using test::capture_frames;
using test::libsrtp_pass;
using test::tmpdir;

test::command_result run(const std::string& args) {
    const char* tool = std::getenv("SRTPO_PCAP");
    return test::run_command(std::string(tool ? tool : "srtpo-pcap") + " " + args);
}

std::string b64(const std::vector<uint8_t>& k) { return test::sdes_inline(k); }

auto frames(const std::string& path) { return capture_frames(path); }

class tool_vs_libsrtp : public ::testing::TestWithParam<engine::suite> {};

TEST_P(tool_vs_libsrtp, unprotect_libsrtp_capture_and_protect_for_libsrtp) {
    const auto s = GetParam();
    const auto& t = engine::traits(s);
    tmpdir d("srtpo-pcap-test");
    net::rtp_capture_options g;
    g.calls = 5;
    g.packets_per_direction = 120;
    g.rtcp_interval = 20;
    g.initial_seq = 65500; // every stream crosses the ROC rollover
    g.seed = 42;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", g);
    std::mt19937 rng(static_cast<uint32_t>(s));
    std::vector<uint8_t> key(t.key_salt_len());
    for (auto& x : key) x = static_cast<uint8_t>(rng());
    const auto total = sum.rtp_packets + sum.rtcp_packets;

    // libsrtp protects -> srtpo-pcap unprotects -> identical to the original.
    ASSERT_EQ(libsrtp_pass(d / "plain.pcap", d / "libsrtp.pcap", s, key, true), total);
    auto r = run("unprotect --suite " + std::string(t.name) + " --key " + b64(key) + " --in " + (d / "libsrtp.pcap") + " --out " +
                 (d / "out.pcap") + " --json");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"ok\":" + std::to_string(total)), std::string::npos) << r.out;
    EXPECT_EQ(frames(d / "out.pcap"), frames(d / "plain.pcap"));

    // srtpo-pcap protects -> libsrtp unprotects everything -> identical to the original.
    r = run("protect --suite " + std::string(t.name) + " --key " + b64(key) + " --in " + (d / "plain.pcap") + " --out " +
            (d / "ours.pcap"));
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_EQ(libsrtp_pass(d / "ours.pcap", d / "back.pcap", s, key, false), total);
    EXPECT_EQ(frames(d / "back.pcap"), frames(d / "plain.pcap"));
}

INSTANTIATE_TEST_SUITE_P(suites, tool_vs_libsrtp,
                         ::testing::Values(engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32,
                                           engine::suite::aead_aes_128_gcm, engine::suite::aead_aes_256_gcm),
                         [](const auto& i) { return std::string(engine::traits(i.param).name); });

TEST(tool, tampered_and_replayed_packets_are_counted_not_written) {
    tmpdir d("srtpo-pcap-test");
    net::rtp_capture_options g;
    g.calls = 2;
    g.packets_per_direction = 50;
    g.rtcp_interval = 0;
    net::write_rtp_capture(d / "plain.pcap", g);
    std::vector<uint8_t> key(30, 7);
    ASSERT_EQ(libsrtp_pass(d / "plain.pcap", d / "srtp.pcap", engine::suite::aes_cm_128_hmac_sha1_80, key, true), 200u);
    // Tamper with frame 3 and duplicate frame 5.
    {
        net::pcap_reader r(d / "srtp.pcap");
        net::pcap_writer w(d / "bad.pcap", r.dlt());
        int i = 0;
        while (auto rec = r.next()) {
            std::vector<std::byte> b(rec->data.begin(), rec->data.end());
            if (i == 3) b[b.size() - 1] ^= std::byte{1};
            w.write(rec->timestamp, b);
            if (i == 5) w.write(rec->timestamp, b);
            ++i;
        }
    }
    auto r = run("unprotect --key " + b64(key) + " --in " + (d / "bad.pcap") + " --out " + (d / "out.pcap") + " --json");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"packets\":201"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"ok\":199"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"auth_fail\":1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"replay\":1"), std::string::npos) << r.out;
    EXPECT_EQ(frames(d / "out.pcap").size(), 199u);
}

TEST(tool, streams_file_keys_each_flow) {
    tmpdir d("srtpo-pcap-test");
    net::rtp_capture_options g;
    g.calls = 3;
    g.packets_per_direction = 30;
    g.rtcp_interval = 10;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", g);
    // Protect each SSRC with its own key using --streams, then unprotect with the same file.
    std::ofstream js(d / "keys.json");
    js << "[";
    for (std::size_t i = 0; i < sum.streams.size(); ++i) {
        std::vector<uint8_t> k(30, static_cast<uint8_t>(i + 1));
        js << (i ? "," : "") << "{\"ssrc\": " << sum.streams[i].ssrc << ", \"suite\": \"AES_CM_128_HMAC_SHA1_80\", \"key\": \"" << b64(k)
           << "\"}";
    }
    js << "]";
    js.close();
    fs::permissions(d / "keys.json", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    auto r = run("protect --streams " + (d / "keys.json") + " --in " + (d / "plain.pcap") + " --out " + (d / "s.pcap"));
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("chmod 600"), std::string::npos) << "a group-readable key file is flagged: " << r.out;
    fs::permissions(d / "keys.json", fs::perms::owner_read | fs::perms::owner_write);
    r = run("unprotect --streams " + (d / "keys.json") + " --in " + (d / "s.pcap") + " --out " + (d / "p.pcap") + " --json");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(frames(d / "p.pcap"), frames(d / "plain.pcap"));
    // With one stream's key wrong, exactly that stream fails.
    std::vector<uint8_t> k1(30, 1);
    r = run("unprotect --key " + b64(k1) + " --in " + (d / "s.pcap") + " --out " + (d / "q.pcap") + " --json");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto first = sum.streams[0].rtp_packets + sum.streams[0].rtcp_packets;
    EXPECT_NE(r.out.find("\"ok\":" + std::to_string(first) + ","), std::string::npos) << r.out;
}

TEST(tool, bad_arguments_are_named_with_exit_code_2) {
    tmpdir d("srtpo-pcap-test");
    net::rtp_capture_options g;
    net::write_rtp_capture(d / "plain.pcap", g);
    const std::string io = " --in " + (d / "plain.pcap") + " --out " + (d / "o.pcap");
    const std::string good = b64(std::vector<uint8_t>(30, 1));
    struct bad_case {
        std::string args, expect;
    } cases[] = {
        {"unprotect --suite NOPE --key " + good + io, "unknown suite"},
        {"unprotect --key " + b64(std::vector<uint8_t>(29, 1)) + io, "needs 30 octets"},
        {"unprotect --suite AEAD_AES_128_GCM --key " + good + io, "needs 28 octets"},
        {"unprotect --key !!!notbase64" + io, "key"},
        {"unprotect --key " + good + " --in /nonexistent.pcap --out " + (d / "o.pcap"), "nonexistent"},
        {"unprotect --key " + good + io + " --window 10", "window"},
        {"unprotect" + io, "--key"},
        {"frobnicate", "subcommand"},
    };
    for (const auto& c : cases) {
        auto r = run(c.args);
        EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
        EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
    }
    // An unreadable capture that exists is a run-time error (1), not a usage error.
    std::ofstream(d / "junk.pcap") << "not a pcap";
    auto r = run("unprotect --key " + good + " --in " + (d / "junk.pcap") + " --out " + (d / "o.pcap"));
    EXPECT_EQ(r.code, 1) << r.out;
}

} // namespace
