// srtpo-pcap end to end: captures protected by libsrtp 2.5 (an independent implementation) are
// unprotected by the tool and must match the original frame for frame; the tool's protected
// output must be accepted by libsrtp; bad arguments give exit code 2 and a clear message.

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

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

struct libsrtp_env : ::testing::Environment {
    void SetUp() override { ASSERT_EQ(srtp_init(), srtp_err_status_ok); }
};
const auto* env_ = ::testing::AddGlobalTestEnvironment(new libsrtp_env);

struct run_result {
    int code;
    std::string out;
};

run_result run(const std::string& args) {
    const char* tool = std::getenv("SRTPO_PCAP");
    std::string cmd = std::string(tool ? tool : "srtpo-pcap") + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    int st = p ? pclose(p) : -1;
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

struct tmpdir {
    fs::path p;
    tmpdir() {
        char t[] = "/tmp/srtpo-pcap-test.XXXXXX";
        p = mkdtemp(t);
    }
    ~tmpdir() { fs::remove_all(p); }
    std::string operator/(const char* n) const { return (p / n).string(); }
};

void set_policy(srtp_policy_t& pol, engine::suite s) {
    using engine::suite;
    switch (s) {
    case suite::aes_cm_128_hmac_sha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
        break;
    case suite::aes_cm_128_hmac_sha1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
        break;
    case suite::aead_aes_128_gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
        break;
    case suite::aead_aes_256_gcm:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
        break;
    default: FAIL() << "suite not used here";
    }
}

/// Applies libsrtp protect or unprotect to every RTP/RTCP frame of a capture, one session with
/// ssrc_any (one stream per SSRC inside). Returns how many packets libsrtp accepted.
std::size_t libsrtp_pass(const std::string& in, const std::string& out, engine::suite s, const std::vector<uint8_t>& key,
                         bool protect) {
    srtp_policy_t pol{};
    set_policy(pol, s);
    pol.ssrc.type = protect ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = const_cast<uint8_t*>(key.data());
    pol.window_size = 1024;
    srtp_t ctx = nullptr;
    EXPECT_EQ(srtp_create(&ctx, &pol), srtp_err_status_ok);
    net::pcap_reader r(in);
    net::pcap_writer w(out, r.dlt());
    std::vector<std::byte> buf;
    std::size_t accepted = 0;
    while (auto rec = r.next()) {
        buf.assign(rec->data.begin(), rec->data.end());
        buf.resize(buf.size() + 64);
        auto f = net::parse_udp_frame({buf.data(), rec->data.size()}, *r.link());
        if (!f.ok()) continue;
        auto* p = reinterpret_cast<uint8_t*>(buf.data() + f.payload_offset);
        int len = static_cast<int>(f.payload_len);
        const bool rtcp = p[1] >= 192 && p[1] <= 223;
        srtp_err_status_t st = protect ? (rtcp ? srtp_protect_rtcp(ctx, p, &len) : srtp_protect(ctx, p, &len))
                                       : (rtcp ? srtp_unprotect_rtcp(ctx, p, &len) : srtp_unprotect(ctx, p, &len));
        if (st != srtp_err_status_ok) continue;
        ++accepted;
        EXPECT_EQ(net::set_udp_payload_len(buf, f, static_cast<std::size_t>(len)), net::rewrite_status::ok);
        w.write(rec->timestamp, {buf.data(), f.frame_len});
    }
    srtp_dealloc(ctx);
    return accepted;
}

/// Frames of two captures, for equality.
std::vector<std::vector<std::byte>> frames(const std::string& path) {
    std::vector<std::vector<std::byte>> v;
    net::pcap_reader r(path);
    while (auto rec = r.next()) v.emplace_back(rec->data.begin(), rec->data.end());
    return v;
}

std::string b64(const std::vector<uint8_t>& k) {
    std::vector<std::byte> b(k.size());
    std::memcpy(b.data(), k.data(), k.size());
    return engine::encode_sdes_inline(b).value();
}

class tool_vs_libsrtp : public ::testing::TestWithParam<engine::suite> {};

TEST_P(tool_vs_libsrtp, unprotect_libsrtp_capture_and_protect_for_libsrtp) {
    const auto s = GetParam();
    const auto& t = engine::traits(s);
    tmpdir d;
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
    tmpdir d;
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
    tmpdir d;
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
    tmpdir d;
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
