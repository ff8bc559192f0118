// Interop with Linphone's bzrtp (a real third-party ZRTP implementation). The bzrtp side is
// tests/interop/zrtp/bzrtp_harness (GPL-3+, a separate process); this test drives our endpoint
// over a loopback UDP socket against it and checks: both roles, every key agreement bzrtp has
// (X255, X448, DH3k, DH2k), S256/S384, AES1/AES3, HS32/HS80, B32/B256; identical SAS; mirrored
// SRTP keys; SRTP media in both directions (libsrtp in the harness, our engine here); retained
// secrets across calls, cache mismatch, Multistream, 30 % loss and a=zrtp-hash binding.
#include "harness_output.hpp" // tests/interop/zrtp: what the bzrtp harness prints

#include <srtpo/cp/zrtp/endpoint.hpp>
#include <srtpo/cp/zrtp/packet.hpp>
#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace srtpo::cp::zrtp {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* harness_path() { return std::getenv("ZRTP_BZRTP_HARNESS"); }

struct tmpdir {
    fs::path p;
    tmpdir() {
        std::string t = (fs::temp_directory_path() / "zrtp-interop-XXXXXX").string();
        p = ::mkdtemp(t.data());
    }
    ~tmpdir() { fs::remove_all(p); }
};

std::string hex(std::span<const std::byte> b) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s.push_back(d[std::to_integer<int>(x) >> 4]);
        s.push_back(d[std::to_integer<int>(x) & 15]);
    }
    return s;
}

/// The bzrtp harness as a child process (under `timeout`), stdout captured in a file.
class harness {
public:
    harness(const fs::path& dir, std::vector<std::string> args) : _out(dir / ("harness-" + std::to_string(++_n) + ".out")) {
        // The harness links the third-party bzrtp/bctoolbox, whose leaks at exit are not ours: in
        // the ASan build LeakSanitizer is off for the harness only (our side keeps it).
        std::vector<std::string> argv{"env", "ASAN_OPTIONS=detect_leaks=0", "timeout", "-s", "KILL", "20", harness_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, _out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, (_out.string() + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        EXPECT_EQ(posix_spawnp(&_pid, "env", &fa, nullptr, cargv.data(), environ), 0);
        posix_spawn_file_actions_destroy(&fa);
    }
    ~harness() {
        if (_pid > 0) {
            ::kill(_pid, SIGKILL);
            ::waitpid(_pid, nullptr, 0);
        }
    }
    /// Waits for exit; returns the exit code and fills output().
    int wait() {
        int st = 0;
        ::waitpid(_pid, &st, 0);
        _pid = -1;
        std::ifstream f(_out);
        std::stringstream ss;
        ss << f.rdbuf();
        _text = ss.str();
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    const std::string& output() const { return _text; }
    /// key=value fields of the first line that starts with `tag` and has stream=`k`.
    std::map<std::string, std::string> line(const std::string& tag, int k) const {
        return srtpo::test::bzrtp::fields(_text, tag, k);
    }

private:
    static inline int _n = 0;
    fs::path _out;
    pid_t _pid = -1;
    std::string _text;
};

/// One of our streams: a UDP socket, an endpoint, and engine sessions once secure.
struct our_stream {
    int fd = -1;
    sockaddr_in peer{};
    std::unique_ptr<endpoint> ep;
    engine::session_ptr tx, rx;
    uint32_t ssrc = 0;
    int sent = 0, ok = 0, bad = 0;
    std::vector<event> events;
    ~our_stream() {
        if (fd >= 0) ::close(fd);
    }
};

int udp_socket(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << "port " << port;
    return fd;
}

struct run_options {
    int srtp_packets = 20;
    double drop = 0.0;                  ///< our side drops this share of ZRTP packets, both ways
    std::chrono::milliseconds limit = 12s;
};

void make_sessions(our_stream& s) {
    auto k = s.ep->keying();
    ASSERT_TRUE(k) << k.err().message;
    const auto& t = engine::traits(k->suite);
    for (bool out : {true, false}) {
        const auto& ks = out ? k->local.key_salt : k->remote.key_salt;
        engine::session_config c;
        c.s = k->suite;
        c.dir = out ? engine::direction::protect : engine::direction::unprotect;
        c.replay_window = 1024;
        c.keys.push_back({ks.bytes().first(t.master_key_len), ks.bytes().subspan(t.master_key_len), {}});
        auto sess = engine::make_session(c);
        ASSERT_TRUE(sess) << sess.err().message;
        (out ? s.tx : s.rx) = std::move(*sess);
    }
}

/// Drives our streams until each is secure, has sent its SRTP and authenticated >= 1 packet of
/// the peer's, or the limit passes.
void drive(std::vector<our_stream*> ss, const run_options& o) {
    auto w = engine::worker_ctx::create();
    ASSERT_TRUE(w);
    std::mt19937 rng(12345);
    std::bernoulli_distribution lose(o.drop);
    const auto start = clock::now();
    for (auto* s : ss) s->ep->start(clock::now());
    std::array<std::byte, 2048> buf;
    for (;;) {
        const auto now = clock::now();
        if (now - start > o.limit) return;
        bool all_done = true;
        for (auto* s : ss) {
            const auto st = s->ep->current_state();
            if (st == state::failed) continue;
            all_done &= st == state::secure && s->sent >= o.srtp_packets && (o.srtp_packets == 0 || s->ok > 0);
        }
        if (all_done) return;
        std::vector<pollfd> pf;
        for (auto* s : ss) pf.push_back({s->fd, POLLIN, 0});
        ::poll(pf.data(), pf.size(), 5);
        for (std::size_t i = 0; i < ss.size(); ++i) {
            auto& s = *ss[i];
            if (pf[i].revents & POLLIN) {
                auto n = ::recv(s.fd, buf.data(), buf.size(), 0);
                if (n <= 0) continue;
                std::span<const uint8_t> pkt(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<std::size_t>(n));
                if (looks_like_zrtp(pkt)) {
                    if (!lose(rng)) s.ep->receive(pkt, clock::now());
                } else if (s.rx) {
                    engine::op op{s.rx.get(), {buf.data(), static_cast<uint16_t>(n), static_cast<uint16_t>(buf.size())}};
                    if (engine::unprotect_rtp(**w, std::span(&op, 1)) == 1) ++s.ok;
                    else ++s.bad;
                }
            }
            if (auto d = s.ep->next_timeout(); d && *d <= clock::now()) s.ep->on_timer(clock::now());
            for (auto& p : s.ep->take_outgoing())
                if (!lose(rng)) ::sendto(s.fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&s.peer), sizeof s.peer);
            auto ev = s.ep->take_events();
            s.events.insert(s.events.end(), ev.begin(), ev.end());
            if (s.ep->current_state() == state::secure && !s.tx) make_sessions(s);
            if (s.tx && s.sent < o.srtp_packets) {
                std::array<std::byte, 256> rtp{};
                rtp[0] = std::byte{0x80};
                const auto seq = static_cast<uint16_t>(2000 + s.sent);
                rtp[2] = std::byte(seq >> 8);
                rtp[3] = std::byte(seq & 0xff);
                for (int b = 0; b < 4; ++b) rtp[8 + static_cast<std::size_t>(b)] = std::byte((s.ssrc >> (24 - 8 * b)) & 0xff);
                std::fill(rtp.begin() + 12, rtp.begin() + 172, std::byte{0xd5});
                engine::op op{s.tx.get(), {rtp.data(), 172, static_cast<uint16_t>(rtp.size())}};
                if (engine::protect_rtp(**w, std::span(&op, 1)) == 1) {
                    ::sendto(s.fd, rtp.data(), op.pkt.len, 0, reinterpret_cast<sockaddr*>(&s.peer), sizeof s.peer);
                    ++s.sent;
                }
            }
        }
    }
}

struct params {
    bool we_initiate;
    key_agreement ka;
    hash_algo h;
    cipher_algo c;
    auth_tag t;
    sas_type s;
};

std::string pname(const params& p) {
    std::string n = std::string(p.we_initiate ? "we_initiate_" : "bzrtp_initiates_") + std::string(name(p.ka)) + "_" +
                    std::string(name(p.h)) + "_" + std::string(name(p.c)) + "_" + std::string(name(p.t)) + "_" +
                    std::string(name(p.s));
    n.erase(std::remove(n.begin(), n.end(), ' '), n.end());
    return n;
}

class zrtp_interop : public ::testing::Test {
protected:
    void SetUp() override {
        if (!harness_path()) GTEST_SKIP() << "ZRTP_BZRTP_HARNESS not set (libbzrtp not installed)";
    }
    static uint16_t next_port() {
        static uint16_t p = 51010;
        p = static_cast<uint16_t>(p + 4);
        return p;
    }
    tmpdir dir;
};

std::unique_ptr<our_stream> open_stream(std::shared_ptr<call> c, endpoint_config cfg, uint16_t port, uint16_t peer_port) {
    auto s = std::make_unique<our_stream>();
    s->fd = udp_socket(port);
    s->peer.sin_family = AF_INET;
    s->peer.sin_port = htons(peer_port);
    s->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->ssrc = cfg.ssrc;
    auto e = endpoint::create(std::move(c), std::move(cfg));
    EXPECT_TRUE(e) << (e ? "" : e.err().message);
    if (e) s->ep = std::move(*e);
    return s;
}

/// One call leg of ours on fresh ports, with an in-memory ZID cache.
struct leg {
    zid_cache cache = zid_cache::in_memory();
    std::shared_ptr<call> c = std::make_shared<call>(cache);
    uint16_t port, peer;
    std::unique_ptr<our_stream> s;
    leg(uint16_t base, const endpoint_config& cfg)
        : port(base), peer(static_cast<uint16_t>(base + 1)), s(open_stream(c, cfg, port, peer)) {}
};

endpoint_config config_for(const params& p) {
    endpoint_config c;
    c.ssrc = 0x0a0a0a0a;
    c.passive = !p.we_initiate;
    c.algorithms.key_agreements = {p.ka};
    c.algorithms.hashes = {p.h};
    c.algorithms.ciphers = {p.c};
    c.algorithms.auth_tags = {p.t};
    c.algorithms.sas_types = {p.s};
    return c;
}

std::vector<std::string> harness_args(const params& p, uint16_t port, uint16_t peer_port) {
    return {"--local", std::to_string(port), "--remote", std::to_string(peer_port), "--ka", std::string(name(p.ka)),
            "--hash", std::string(name(p.h)), "--cipher", std::string(name(p.c)), "--auth", std::string(name(p.t)),
            "--sas", p.s == sas_type::b32 ? "B32" : "B256", "--srtp", "20", "--timeout-ms", "8000"};
}

/// The checks every successful run makes: SAS equal, keys mirrored, media both ways.
void expect_interop(const harness& h, int rc, our_stream& s, int k, const params* p) {
    EXPECT_EQ(rc, 0) << h.output();
    ASSERT_EQ(s.ep->current_state(), state::secure) << s.ep->info().failure << "\n" << h.output();
    auto sec = h.line("SECURE", k);
    auto keys = h.line("KEYS", k);
    auto srtp = h.line("SRTP", k);
    const auto info = s.ep->info();
    if (!info.multistream) {
        EXPECT_EQ(sec["sas"], info.sas);
    }
    if (p) {
        EXPECT_EQ(sec["ka"], std::string(name(p->ka)));
        EXPECT_EQ(sec["hash"], std::string(name(p->h)));
        EXPECT_EQ(sec["cipher"], std::string(name(p->c)));
        EXPECT_EQ(sec["auth"], std::string(name(p->t)));
        EXPECT_EQ(info.r, p->we_initiate ? role::initiator : role::responder);
        EXPECT_EQ(info.algorithms.ka, p->ka);
        EXPECT_EQ(info.sas.size() == 4, p->s == sas_type::b32);
    }
    auto ours = s.ep->keying();
    ASSERT_TRUE(ours);
    EXPECT_EQ(keys["tx"], hex(ours->remote.key_salt.bytes())); // bzrtp's write key = our read key
    EXPECT_EQ(keys["rx"], hex(ours->local.key_salt.bytes()));
    EXPECT_GT(std::stoi(srtp["ok"].empty() ? "0" : srtp["ok"]), 0) << "bzrtp authenticated none of our SRTP";
    EXPECT_EQ(srtp["bad"], "0");
    EXPECT_GT(s.ok, 0) << "we authenticated none of bzrtp's SRTP";
    EXPECT_EQ(s.bad, 0);
}

class zrtp_interop_algorithms : public zrtp_interop, public ::testing::WithParamInterface<params> {};

TEST_P(zrtp_interop_algorithms, sas_keys_and_media_agree) {
    const auto p = GetParam();
    leg l(next_port(), config_for(p));
    harness h(dir.p, harness_args(p, l.peer, l.port));
    drive({l.s.get()}, {});
    expect_interop(h, h.wait(), *l.s, 0, &p);
}

INSTANTIATE_TEST_SUITE_P(
    bzrtp, zrtp_interop_algorithms,
    ::testing::Values(params{true, key_agreement::x255, hash_algo::s256, cipher_algo::aes1, auth_tag::hs80, sas_type::b32},
                      params{false, key_agreement::x255, hash_algo::s384, cipher_algo::aes3, auth_tag::hs32, sas_type::b256},
                      params{true, key_agreement::dh3k, hash_algo::s384, cipher_algo::aes3, auth_tag::hs80, sas_type::b256},
                      params{false, key_agreement::dh3k, hash_algo::s256, cipher_algo::aes1, auth_tag::hs32, sas_type::b32},
                      params{true, key_agreement::dh2k, hash_algo::s256, cipher_algo::aes3, auth_tag::hs32, sas_type::b32},
                      params{false, key_agreement::dh2k, hash_algo::s384, cipher_algo::aes1, auth_tag::hs80, sas_type::b256},
                      params{true, key_agreement::x448, hash_algo::s384, cipher_algo::aes1, auth_tag::hs32, sas_type::b256},
                      params{false, key_agreement::x448, hash_algo::s256, cipher_algo::aes3, auth_tag::hs80, sas_type::b32}),
    [](const auto& i) { return pname(i.param); });

TEST_F(zrtp_interop, retained_secret_second_call_then_cache_mismatch) {
    const params p{true, key_agreement::x255, hash_algo::s256, cipher_algo::aes1, auth_tag::hs80, sas_type::b32};
    const auto cf = (dir.p / "ours.cache").string(), kf = (dir.p / "ours.key").string();
    const auto bz = (dir.p / "bzrtp.sqlite").string();
    // One call; both sides then mark the SAS verified when `verify` (the users compared it).
    auto once = [&](cache_status expect_ours, const char* expect_bzrtp_mismatch, const char* expect_bzrtp_verified,
                    bool expect_peer_v, bool verify) {
        auto cache = zid_cache::open(cf, kf);
        ASSERT_TRUE(cache) << cache.err().message;
        auto c = std::make_shared<call>(*cache);
        const uint16_t port = next_port(), peer = static_cast<uint16_t>(port + 1);
        auto s = open_stream(c, config_for(p), port, peer);
        auto args = harness_args(p, peer, port);
        args.insert(args.end(), {"--cache", bz, "--verify-sas", verify ? "1" : "0"});
        harness h(dir.p, args);
        drive({s.get()}, {});
        if (verify && s->ep->current_state() == state::secure) {
            ASSERT_TRUE(s->ep->verify_sas());
        }
        expect_interop(h, h.wait(), *s, 0, &p);
        EXPECT_EQ(s->ep->info().cache, expect_ours);
        EXPECT_EQ(s->ep->info().peer_sas_verified, expect_peer_v); // bzrtp's V flag in its Confirm (§5.7)
        EXPECT_EQ(h.line("SECURE", 0)["cache_mismatch"], expect_bzrtp_mismatch);
        EXPECT_EQ(h.line("SECURE", 0)["verified"], expect_bzrtp_verified); // our V flag, as bzrtp read it
    };
    once(cache_status::new_peer, "0", "0", false, true);
    // Both sides used rs1 (otherwise s0 and the Confirm MACs would differ), and each saw the
    // other's SAS-verified flag from the first call.
    once(cache_status::match, "0", "1", true, false);
    {
        // Corrupt our retained secrets for bzrtp's ZID: both sides must now see a mismatch.
        auto cache = zid_cache::open(cf, kf);
        ASSERT_TRUE(cache);
        std::optional<zid_t> peer;
        // The only peer in the cache is bzrtp.
        auto raw = std::ifstream(cf, std::ios::binary);
        std::vector<char> b((std::istreambuf_iterator<char>(raw)), {});
        ASSERT_GE(b.size(), 32u + 12u);
        zid_t z;
        std::memcpy(z.data(), b.data() + 32, 12);
        ASSERT_NE(cache->find(z), nullptr);
        cache_entry e;
        e.rs1 = secret(std::vector<uint8_t>(32, 0x77));
        e.rs2 = secret(std::vector<uint8_t>(32, 0x78));
        e.sas_verified = true;
        ASSERT_TRUE(cache->store(z, e));
    }
    // A mismatch clears the verified state on both sides (§4.6.1.1).
    once(cache_status::mismatch, "1", "0", false, false);
}

TEST_F(zrtp_interop, multistream_second_stream_both_roles) {
    for (bool we : {false, true}) {
        SCOPED_TRACE(we ? "we initiate" : "bzrtp initiates");
        const params p{we, we ? key_agreement::x255 : key_agreement::dh3k, hash_algo::s256, cipher_algo::aes1,
                       auth_tag::hs80, sas_type::b32};
        auto cache = zid_cache::in_memory();
        auto c = std::make_shared<call>(cache);
        const uint16_t port = next_port(), peer = static_cast<uint16_t>(port + 1);
        auto s0 = open_stream(c, config_for(p), port, peer);
        auto cfg1 = config_for(p);
        cfg1.ssrc = 0x0a0a0a0b;
        auto s1 = open_stream(c, cfg1, static_cast<uint16_t>(port + 2), static_cast<uint16_t>(peer + 2));
        auto args = harness_args(p, peer, port);
        args.insert(args.end(), {"--streams", "2"});
        harness h(dir.p, args);
        // Our second endpoint must not start before the first is secure: ZRTPSess comes from it.
        drive({s0.get()}, {});
        ASSERT_EQ(s0->ep->current_state(), state::secure);
        drive({s1.get()}, {});
        const int rc = h.wait();
        expect_interop(h, rc, *s0, 0, &p);
        expect_interop(h, rc, *s1, 1, nullptr);
        EXPECT_TRUE(s1->ep->info().multistream);
        EXPECT_EQ(h.line("SECURE", 1)["ka"], "Mult");
        EXPECT_EQ(s1->ep->info().sas, s0->ep->info().sas);
        EXPECT_EQ(s1->ep->info().r, we ? role::initiator : role::responder);
    }
}

TEST_F(zrtp_interop, completes_with_30_percent_loss_both_roles) {
    for (bool we : {true, false}) {
        const params p{we, we ? key_agreement::x255 : key_agreement::dh3k, hash_algo::s256, cipher_algo::aes1, auth_tag::hs80,
                       sas_type::b32};
        leg l(next_port(), config_for(p));
        auto& s = l.s;
        const uint16_t port = l.port, peer = l.peer;
        auto args = harness_args(p, peer, port);
        args[args.size() - 1] = "15000";
        harness h(dir.p, args);
        run_options o;
        o.drop = 0.3;
        o.limit = 16s;
        drive({s.get()}, o);
        expect_interop(h, h.wait(), *s, 0, &p);
    }
}

TEST_F(zrtp_interop, zrtp_hash_binding) {
    const params p{true, key_agreement::x255, hash_algo::s256, cipher_algo::aes1, auth_tag::hs80, sas_type::b32};
    {
        // Both sides bound to the other's Hello hash (§8.1): completes.
        leg l(next_port(), config_for(p));
        auto& s = l.s;
        const uint16_t port = l.port, peer = l.peer;
        const auto hf = dir.p / "bzrtp.hash";
        auto args = harness_args(p, peer, port);
        args.insert(args.end(), {"--peer-hello-hash", s->ep->zrtp_hash(), "--self-hash-file", hf.string()});
        harness h(dir.p, args);
        for (int i = 0; i < 200 && !fs::exists(hf); ++i) std::this_thread::sleep_for(10ms);
        std::ifstream f(hf);
        std::string v;
        std::getline(f, v);
        ASSERT_TRUE(s->ep->set_peer_zrtp_hash(v)) << v;
        drive({s.get()}, {});
        expect_interop(h, h.wait(), *s, 0, &p);
    }
    {
        // bzrtp told a wrong hash for us: it rejects our Hello; nobody goes secure.
        leg l(next_port(), config_for(p));
        auto& s = l.s;
        const uint16_t port = l.port, peer = l.peer;
        auto args = harness_args(p, peer, port);
        args[args.size() - 1] = "2000";
        args.insert(args.end(), {"--peer-hello-hash", "1.10 " + std::string(64, '0')});
        harness h(dir.p, args);
        run_options o;
        o.limit = 3s;
        drive({s.get()}, o);
        EXPECT_NE(h.wait(), 0);
        EXPECT_EQ(h.line("SECURE", 0).size(), 0u);
        EXPECT_NE(s->ep->current_state(), state::secure);
    }
    {
        // We are told a wrong hash for bzrtp: we refuse its Hello and fail.
        auto cfg = config_for(p);
        cfg.peer_zrtp_hash = "1.10 " + std::string(64, 'f');
        leg l(next_port(), cfg);
        auto& s = l.s;
        const uint16_t port = l.port, peer = l.peer;
        auto args = harness_args(p, peer, port);
        args[args.size() - 1] = "2000";
        harness h(dir.p, args);
        run_options o;
        o.limit = 3s;
        drive({s.get()}, o);
        EXPECT_NE(h.wait(), 0);
        EXPECT_EQ(s->ep->current_state(), state::failed);
        EXPECT_NE(s->ep->info().failure.find("zrtp-hash"), std::string::npos);
    }
}

} // namespace
} // namespace srtpo::cp::zrtp
