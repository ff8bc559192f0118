#include "capture_oracle.hpp"

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace srtpo::test {
namespace fs = std::filesystem;

tmpdir::tmpdir(const char* prefix) {
    std::string t = std::string("/tmp/") + prefix + ".XXXXXX";
    if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    p = t;
}
tmpdir::~tmpdir() {
    std::error_code ec;
    fs::remove_all(p, ec);
}

namespace {
struct libsrtp_env : ::testing::Environment {
    void SetUp() override { ASSERT_EQ(srtp_init(), srtp_err_status_ok); }
};

} // namespace

void libsrtp_set_policy(srtp_policy_t& pol, engine::suite s) {
    using engine::suite;
    switch (s) {
    case suite::aes_cm_128_hmac_sha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
        break;
    case suite::aes_cm_128_hmac_sha1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp); // the _32 suites: 80-bit SRTCP tag
        break;
    case suite::aead_aes_128_gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
        break;
    case suite::aead_aes_256_gcm:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
        break;
    default: FAIL() << "suite not supported by this helper";
    }
}

void register_libsrtp_environment() {
    static const bool once = (::testing::AddGlobalTestEnvironment(new libsrtp_env), true);
    (void)once;
}

std::size_t libsrtp_pass(const std::string& in, const std::string& out, engine::suite s, const std::vector<uint8_t>& key,
                         bool protect) {
    srtp_policy_t pol{};
    libsrtp_set_policy(pol, s);
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
        const bool rtcp = p[1] >= 192 && p[1] <= 223; // RFC 5761 §4
        const srtp_err_status_t st = protect ? (rtcp ? srtp_protect_rtcp(ctx, p, &len) : srtp_protect(ctx, p, &len))
                                             : (rtcp ? srtp_unprotect_rtcp(ctx, p, &len) : srtp_unprotect(ctx, p, &len));
        if (st != srtp_err_status_ok) continue;
        ++accepted;
        EXPECT_EQ(net::set_udp_payload_len(buf, f, static_cast<std::size_t>(len)), net::rewrite_status::ok);
        w.write(rec->timestamp, {buf.data(), f.frame_len});
    }
    srtp_dealloc(ctx);
    return accepted;
}

frame_list capture_frames(const std::string& path) {
    frame_list v;
    net::pcap_reader r(path);
    while (auto rec = r.next()) v.emplace_back(rec->data.begin(), rec->data.end());
    return v;
}

std::string sdes_inline(const std::vector<uint8_t>& k) {
    std::vector<std::byte> b(k.size());
    std::memcpy(b.data(), k.data(), k.size());
    return engine::encode_sdes_inline(b).value();
}

command_result run_command(const std::string& cmd) {
    command_result r;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    char buf[4096];
    while (p && fgets(buf, sizeof buf, p)) r.out += buf;
    const int st = p ? pclose(p) : -1;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

} // namespace srtpo::test
