// Units of control-plane/media without a third-party peer: the media port's RFC 7983 demux and
// counters over real loopback sockets (IPv4 and IPv6), the [dtls]/[zrtp] configuration parser,
// the SDP helpers, and the runtime's long-lived certificate (0600, the same after a restart).
// The datagrams here come from a plain socket of the test: that stands for srtpo-pmd's exception
// path or any sender, since the port only looks at the first octet.

#include "media_fixture.hpp"

#include "harness.hpp" // tests/dtls: temp_dir

#include <srtpo/cp/dtls/stack_choice.hpp>
#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/media/media_config.hpp>
#include <srtpo/cp/media/media_port.hpp>
#include <srtpo/cp/media/remote_sdp.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace srtpo::test::media {
namespace {

using namespace std::chrono;
namespace fs = std::filesystem;

/// A plain UDP socket of the test, bound to an ephemeral port of `local`'s family.
struct sender {
    int fd;
    explicit sender(const table::endpoint& like) {
        sockaddr_storage sa{};
        table::endpoint any = like;
        any.port = 0;
        const auto len = cm::to_sockaddr(any, sa);
        fd = ::socket(sa.ss_family, SOCK_DGRAM, 0);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), len), 0);
    }
    ~sender() { ::close(fd); }
    void send(const table::endpoint& to, std::vector<uint8_t> d) {
        sockaddr_storage sa{};
        const auto len = cm::to_sockaddr(to, sa);
        EXPECT_EQ(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&sa), len), static_cast<ssize_t>(d.size()));
    }
    table::endpoint local() const {
        sockaddr_storage sa{};
        socklen_t l = sizeof sa;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &l);
        return cm::from_sockaddr(sa);
    }
};

void demux_on(const table::endpoint& where) {
    auto loop = make_loop();
    std::vector<std::pair<char, table::endpoint>> seen;
    cm::port_handlers h;
    h.stun = [&](std::span<const std::byte>, const table::endpoint& s) { seen.emplace_back('s', s); };
    h.dtls = [&](std::span<const std::byte>, const table::endpoint& s) { seen.emplace_back('d', s); };
    // no ZRTP handler: counted as no_handler_dropped
    auto port = cm::media_port::open(loop, where, h);
    ASSERT_TRUE(port) << port.err().message;
    sender tx(where);
    const auto to = (*port)->local();
    EXPECT_NE(to.port, 0);
    for (int first : {0, 1, 3, 16, 19, 20, 22, 63, 64, 79, 80, 127, 128, 144, 191, 192, 255})
        tx.send(to, {static_cast<uint8_t>(first), 0, 0, 0});
    tx.send(to, std::vector<uint8_t>(3000, 22)); // larger than the port's buffer
    const auto& c = (*port)->counters();
    ASSERT_TRUE(run_until(loop, [&] { return c.received == 18; }, 2s)) << c.received;
    EXPECT_EQ(c.stun, 3u);
    EXPECT_EQ(c.zrtp, 2u);
    EXPECT_EQ(c.no_handler_dropped, 2u);
    EXPECT_EQ(c.dtls, 3u);
    EXPECT_EQ(c.rtp_rtcp_dropped, 3u);
    EXPECT_EQ(c.other_dropped, 6u); // 64, 79 (TURN channels), 80, 127, 192, 255
    EXPECT_EQ(c.truncated_dropped, 1u);
    ASSERT_EQ(seen.size(), 6u);
    EXPECT_EQ(seen[0].first, 's');
    EXPECT_EQ(seen[5].first, 'd');
    EXPECT_EQ(seen[0].second, tx.local());
    // Replies go back out of the port.
    ASSERT_TRUE((*port)->send_to(std::as_bytes(std::span("x", 1)), tx.local()));
    EXPECT_EQ(c.sent, 1u);
    EXPECT_EQ((*port)->counters_json()["rtp_rtcp_dropped"], 3);
}

TEST(MediaPort, DemuxByFirstOctetIPv4) { demux_on(loopback(32400)); }

TEST(MediaPort, DemuxByFirstOctetIPv6) {
    const auto v6 = cm::parse_endpoint("::1", 32401).value();
    int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_storage sa{};
    const auto len = cm::to_sockaddr(v6, sa);
    const bool have_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&sa), len) == 0;
    if (probe >= 0) ::close(probe);
    if (!have_v6) GTEST_SKIP() << "no IPv6 loopback";
    demux_on(v6);
}

TEST(MediaPort, BindFailureNamesTheAddressAndClosesOnDestruction) {
    auto loop = make_loop();
    {
        auto a = cm::media_port::open(loop, loopback(32402), {});
        ASSERT_TRUE(a);
        auto b = cm::media_port::open(loop, loopback(32402), {});
        ASSERT_FALSE(b);
        EXPECT_NE(b.err().message.find("127.0.0.1:32402"), std::string::npos) << b.err().message;
    }
    auto again = cm::media_port::open(loop, loopback(32402), {});
    EXPECT_TRUE(again) << "the port must be free after its media_port is gone";
}

TEST(MediaAddress, RoundTrips) {
    auto v4 = cm::parse_endpoint("192.0.2.7", 4000).value();
    EXPECT_TRUE(v4.addr.is_v4());
    EXPECT_EQ(cm::to_string(v4), "192.0.2.7:4000");
    auto v6 = cm::parse_endpoint("2001:db8::1", 5000).value();
    EXPECT_EQ(cm::to_string(v6), "[2001:db8::1]:5000");
    sockaddr_storage sa{};
    cm::to_sockaddr(v6, sa);
    EXPECT_EQ(cm::from_sockaddr(sa), v6);
    EXPECT_FALSE(cm::parse_endpoint("example.org", 1));
    const auto t = cm::to_transport_address(v4);
    EXPECT_EQ(t.ip_string(), "192.0.2.7");
}

TEST(MediaConfig, DefaultsAndEveryKey) {
    auto d = cm::parse_media_config("", "cp.toml");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->dtls.mtu, 1200);
    auto c = cm::parse_media_config(R"(
[table]
name = "ignored: config.cpp owns it"
[dtls]
certificate = "/x/c.pem"
private_key = "/x/k.pem"
profiles = ["AES_CM_128_HMAC_SHA1_80", "AEAD_AES_256_GCM"]
profile_selection = "client"
initial_retransmit_ms = 150
backoff = 3
max_retransmit_ms = 3000
handshake_timeout_ms = 9000
mtu = 576
max_handshakes_per_source = 2
max_handshakes = 100
[zrtp]
cache = "/x/z.cache"
cache_key = "/x/z.key"
hashes = ["S384", "S256"]
ciphers = ["AES3"]
auth_tags = ["HS80"]
key_agreements = ["DH3k", "X255"]
sas_types = ["B256"]
t1_initial_ms = 60
t1_cap_ms = 300
t1_max_retransmissions = 15
t2_initial_ms = 200
t2_cap_ms = 1500
t2_max_retransmissions = 8
handshake_timeout_ms = 15000
client_id = "gw"
)", "cp.toml");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->dtls.certificate, "/x/c.pem");
    EXPECT_EQ(c->dtls.profiles, (std::vector<engine::suite>{engine::suite::aes_cm_128_hmac_sha1_80,
                                                            engine::suite::aead_aes_256_gcm}));
    EXPECT_EQ(c->dtls.selection, cp::dtls::profile_selection::client_preference);
    EXPECT_EQ(c->dtls.timers.initial_retransmit, 150ms);
    EXPECT_EQ(c->dtls.timers.backoff, 3u);
    EXPECT_EQ(c->dtls.mtu, 576);
    EXPECT_EQ(c->dtls.max_handshakes_per_source, 2u);
    EXPECT_EQ(c->zrtp.exchange.algorithms.hashes, (std::vector{cp::zrtp::hash_algo::s384, cp::zrtp::hash_algo::s256}));
    EXPECT_EQ(c->zrtp.exchange.algorithms.key_agreements, (std::vector{cp::zrtp::key_agreement::dh3k, cp::zrtp::key_agreement::x255}));
    EXPECT_EQ(c->zrtp.exchange.algorithms.sas_types, (std::vector{cp::zrtp::sas_type::b256}));
    EXPECT_EQ(c->zrtp.exchange.t2_cap, 1500ms);
    EXPECT_EQ(c->zrtp.exchange.client_id, "gw");
}

TEST(MediaConfig, NullProfilesAreAcceptedButNotDefault) {
    // ADR 0014: the NULL profiles run on GnuTLS; they give no confidentiality, so only an
    // explicit list has them.
    auto c = cm::parse_media_config("[dtls]\nprofiles = [\"NULL_HMAC_SHA1_32\", \"AES_CM_128_HMAC_SHA1_80\", "
                                    "\"NULL_HMAC_SHA1_80\"]\n",
                                    "cp.toml");
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->dtls.profiles, (std::vector{engine::suite::null_hmac_sha1_32, engine::suite::aes_cm_128_hmac_sha1_80,
                                             engine::suite::null_hmac_sha1_80}));
    auto d = cm::parse_media_config("", "cp.toml");
    ASSERT_TRUE(d);
    for (auto s : d->dtls.profiles) EXPECT_FALSE(cp::dtls::is_null_profile(s));
}

TEST(MediaConfig, ErrorsNameTheKey) {
    const std::pair<const char*, const char*> cases[] = {
        {"[dtls]\nmtu = 100\n", "dtls.mtu"},
        {"[dtls]\nprofiles = [\"AES_256_CM_HMAC_SHA1_80\"]\n", "dtls.profiles"}, // SDES only, no DTLS-SRTP profile
        {"[dtls]\nprofiles = []\n", "dtls.profiles"},
        {"[dtls]\nprofiles = [\"AEAD_AES_128_GCM\", \"AEAD_AES_128_GCM\"]\n", "listed twice"},
        {"[dtls]\nprofile_selection = \"mine\"\n", "dtls.profile_selection"},
        {"[dtls]\nmtus = 1\n", "dtls.mtus: unknown key"},
        {"[dtls]\ninitial_retransmit_ms = 5000\nmax_retransmit_ms = 1000\n", "max_retransmit_ms"},
        {"[zrtp]\nkey_agreements = [\"Mult\"]\n", "zrtp.key_agreements"},
        {"[zrtp]\nhashes = [\"SHA1\"]\n", "zrtp.hashes"},
        {"[zrtp]\nclient_id = \"this is far too long\"\n", "zrtp.client_id"},
        {"dtls = 3\n", "dtls: must be a [section]"},
        {"[dtls\n", "cp.toml:1"},
    };
    for (const auto& [text, want] : cases) {
        auto r = cm::parse_media_config(text, "cp.toml");
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.err().message.find(want), std::string::npos) << text << " -> " << r.err().message;
    }
}

TEST(RemoteSdp, MediaLevelWinsOverSessionLevelAndHoldHasNoAddress) {
    auto sd = cp::sdp::parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                             "a=fingerprint:sha-256 AA\r\na=ice-ufrag:sess\r\n"
                             "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\na=ice-ufrag:media\r\n"
                             "m=audio 4002 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n")
                  .value();
    EXPECT_EQ(cm::attribute_value(sd, 0, "ice-ufrag"), "media");
    EXPECT_EQ(cm::attribute_value(sd, 1, "ice-ufrag"), "sess");
    EXPECT_EQ(cm::attribute_values(sd, 0, "fingerprint").size(), 1u);
    EXPECT_FALSE(cm::attribute_value(sd, 0, "setup"));
    EXPECT_EQ(cm::signalled_address(sd, 0), cm::parse_endpoint("192.0.2.1", 4000).value());
    EXPECT_FALSE(cm::signalled_address(sd, 1)) << "c=0.0.0.0 is a hold";
    EXPECT_FALSE(cm::check_media_index(sd, 2));
}

TEST(MediaRuntime, CertificateIsCreated0600AndKeptAcrossRestarts) {
    srtpo::test::dtls::temp_dir d;
    const auto cfg = config_in(d.path());
    std::string fp1;
    {
        auto rt = make_runtime(cfg);
        fp1 = rt->dtls_context()->cert().sdp_fingerprint();
    }
    struct stat st {};
    ASSERT_EQ(::stat(cfg.dtls.private_key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(cfg.zrtp.cache_key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto rt2 = make_runtime(cfg);
    EXPECT_EQ(rt2->dtls_context()->cert().sdp_fingerprint(), fp1) << "a stable fingerprint survives restarts";
    EXPECT_EQ(fp1.rfind("sha-256 ", 0), 0u);
    // One ZRTP call state per group; an empty group is always a fresh one.
    auto a = rt2->zrtp_call("call-1/a"), b = rt2->zrtp_call("call-1/a"), c = rt2->zrtp_call("");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    ::chmod(cfg.dtls.private_key.c_str(), 0644);
    EXPECT_FALSE(cm::media_runtime::create(cfg)) << "a key readable by others is refused";
}

} // namespace
} // namespace srtpo::test::media
