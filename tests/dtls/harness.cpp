#include "harness.hpp"

#include <srtpo/cp/dtls/srtp_profile.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace srtpo::test::dtls {

using namespace std::chrono;

temp_dir::temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "srtpo-dtls-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    _p = tmpl;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(_p, ec);
}

bool have_program(const std::string& prog) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':'))
        if (::access((std::filesystem::path(dir) / prog).c_str(), X_OK) == 0) return true;
    return false;
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log, int stdin_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawnp " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

} // namespace

std::string run_capture(const std::vector<std::string>& argv, int* rc) {
    temp_dir d;
    std::vector<std::string> a{"timeout", "20"};
    a.insert(a.end(), argv.begin(), argv.end());
    const auto log = d / "out";
    const pid_t pid = spawn(a, log, -1);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (rc) *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return slurp(log);
}

peer_process::peer_process(std::vector<std::string> argv, std::filesystem::path log, int timeout_s, bool keep_stdin)
    : _log(std::move(log)) {
    std::vector<std::string> a{"timeout", std::to_string(timeout_s)};
    a.insert(a.end(), argv.begin(), argv.end());
    int p[2] = {-1, -1};
    if (keep_stdin && ::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    _pid = spawn(a, _log, keep_stdin ? p[0] : -1);
    if (keep_stdin) {
        ::close(p[0]);
        _stdin_fd = p[1];
    }
}

peer_process::~peer_process() { stop(); }

std::optional<int> peer_process::wait_exit(milliseconds limit) {
    if (_status) return _status;
    const auto end = steady_clock::now() + limit;
    for (;;) {
        int st = 0;
        const pid_t r = ::waitpid(_pid, &st, WNOHANG);
        if (r == _pid) {
            _status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return _status;
        }
        if (steady_clock::now() >= end) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

bool peer_process::wait_for_output(const std::string& needle, milliseconds limit) {
    const auto end = steady_clock::now() + limit;
    while (steady_clock::now() < end) {
        if (output().find(needle) != std::string::npos) return true;
        if (wait_exit(0ms)) return output().find(needle) != std::string::npos;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

void peer_process::stop() {
    if (_stdin_fd >= 0) {
        ::close(_stdin_fd);
        _stdin_fd = -1;
    }
    if (_pid <= 0 || _status) return;
    ::kill(_pid, SIGTERM);
    if (!wait_exit(2000ms)) {
        ::kill(_pid, SIGKILL);
        wait_exit(2000ms);
    }
}

std::string peer_process::output() const { return slurp(_log); }

peer_cert make_peer_cert(const temp_dir& dir, const std::string& name, const std::string& digest) {
    peer_cert pc{dir / (name + ".crt"), dir / (name + ".key"), {}};
    int rc = 0;
    auto out = run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", pc.key.string(), "-out", pc.cert.string(), "-days", "30", "-subj",
                            "/CN=" + name},
                           &rc);
    if (rc != 0) throw std::runtime_error("openssl req failed: " + out);
    out = run_capture({"openssl", "x509", "-in", pc.cert.string(), "-noout", "-fingerprint", "-" + digest}, &rc);
    const auto eq = out.find("Fingerprint=");
    if (rc != 0 || eq == std::string::npos) throw std::runtime_error("openssl x509 -fingerprint failed: " + out);
    // "SHA256 Fingerprint=AB:CD:..." -> "SHA-256 AB:CD:..." (upper-case token, as baresip sends)
    std::string alg = out.substr(0, eq);
    while (!alg.empty() && std::isspace(static_cast<unsigned char>(alg.back()))) alg.pop_back();
    for (auto& c : alg) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    alg.insert(3, "-");
    std::string hex = out.substr(eq + 12);
    while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
    pc.sdp_fingerprint = alg + " " + hex;
    return pc;
}

// ---- UDP pump --------------------------------------------------------------------------------

udp_pump::udp_pump(uint16_t local_port, uint16_t remote_port) {
    _fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (_fd < 0) throw std::runtime_error("socket");
    const int one = 1;
    ::setsockopt(_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(local_port);
    if (::bind(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("bind 127.0.0.1:" + std::to_string(local_port) + ": " + std::strerror(errno));
    if (remote_port) {
        _peer = a;
        _peer.sin_port = htons(remote_port);
        _have_peer = true;
    }
}

udp_pump::~udp_pump() {
    if (_fd >= 0) ::close(_fd);
}

void udp_pump::send(const bytes& d) {
    if (!_have_peer) return;
    ::sendto(_fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&_peer), sizeof _peer);
}

std::optional<bytes> udp_pump::receive(milliseconds limit) {
    pollfd p{_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    bytes buf(65536);
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    const ssize_t n = ::recvfrom(_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < 0) return std::nullopt;
    if (!_have_peer) {
        _peer = from;
        _have_peer = true;
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

void udp_pump::serve_until_exit(cd::endpoint& ep, peer_process& p, milliseconds limit) {
    const auto end = steady_clock::now() + limit;
    while (steady_clock::now() < end && !p.wait_exit(0ms)) {
        if (auto d = receive(20ms); d && !d->empty() && static_cast<uint8_t>((*d)[0]) >= 20 &&
                                    static_cast<uint8_t>((*d)[0]) <= 63)
            ep.receive(*d, steady_clock::now());
        flush(ep);
        while (ep.poll_event()) {
        }
    }
}

void udp_pump::flush(cd::endpoint& ep) {
    while (auto d = ep.poll_datagram()) send(*d);
}

pump_result udp_pump::run_handshake(cd::endpoint& ep, milliseconds limit, const std::function<void(const bytes&)>& other,
                                    unsigned drop_every) {
    pump_result r;
    const auto end = steady_clock::now() + limit;
    unsigned n_out = 0;
    for (;;) {
        while (auto d = ep.poll_datagram()) {
            ++n_out;
            r.largest_sent = std::max(r.largest_sent, d->size());
            if (drop_every && n_out % drop_every == 0) continue;
            ++r.datagrams_sent;
            send(*d);
        }
        while (auto e = ep.poll_event()) {
            if (auto* hd = std::get_if<cd::handshake_done>(&*e)) r.done = std::move(*hd);
            else {
                if (auto* hf = std::get_if<cd::handshake_failed>(&*e)) r.failed = *hf;
                r.events.push_back(std::move(*e));
            }
        }
        if (r.done || r.failed) return r;
        auto now = steady_clock::now();
        if (now >= end) return r;
        auto until = end;
        if (auto t = ep.next_timeout()) until = std::min(until, *t);
        const auto wait = std::clamp(duration_cast<milliseconds>(until - now), 0ms, 50ms);
        if (auto d = receive(wait)) {
            ++r.datagrams_received;
            if (!d->empty() && static_cast<uint8_t>((*d)[0]) >= 20 && static_cast<uint8_t>((*d)[0]) <= 63)
                ep.receive(*d, steady_clock::now());
            else if (other)
                other(*d);
        }
        now = steady_clock::now();
        if (auto t = ep.next_timeout(); t && now >= *t) ep.on_timer(now);
    }
}

// ---- parsing and checking --------------------------------------------------------------------

std::optional<bytes> parse_keying_material(const std::string& out) {
    for (const char* tag : {"Keying material: ", "- Key material: ", "keying-material: "}) {
        const auto at = out.find(tag);
        if (at == std::string::npos) continue;
        bytes b;
        int hi = -1;
        for (std::size_t i = at + std::strlen(tag); i < out.size() && std::isxdigit(static_cast<unsigned char>(out[i])); ++i) {
            const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
            const int v = c <= '9' ? c - '0' : c - 'a' + 10;
            if (hi < 0) hi = v;
            else {
                b.push_back(static_cast<std::byte>(hi << 4 | v));
                hi = -1;
            }
        }
        if (!b.empty()) return b;
    }
    return std::nullopt;
}

std::string parse_openssl_profile(const std::string& out) {
    const std::string tag = "SRTP Extension negotiated, profile=";
    const auto at = out.find(tag);
    if (at == std::string::npos) return {};
    const auto end = out.find_first_of("\r\n", at);
    return out.substr(at + tag.size(), end - at - tag.size());
}

std::string compare_keying(const cp::srtp_keying& k, const bytes& m, bool we_are_client) {
    const auto& t = engine::traits(k.suite);
    const std::size_t kl = t.master_key_len, sl = t.master_salt_len;
    if (m.size() != 2 * (kl + sl)) return "peer exported " + std::to_string(m.size()) + " octets, suite needs " +
                                          std::to_string(2 * (kl + sl));
    auto pick = [&](std::size_t key_at, std::size_t salt_at) {
        bytes ks(m.begin() + static_cast<std::ptrdiff_t>(key_at), m.begin() + static_cast<std::ptrdiff_t>(key_at + kl));
        ks.insert(ks.end(), m.begin() + static_cast<std::ptrdiff_t>(salt_at),
                  m.begin() + static_cast<std::ptrdiff_t>(salt_at + sl));
        return ks;
    };
    const bytes client = pick(0, 2 * kl), server = pick(kl, 2 * kl + sl);
    std::string diff;
    if (!k.local.key_salt.equals(we_are_client ? client : server)) diff += "local (our write) key/salt differs; ";
    if (!k.remote.key_salt.equals(we_are_client ? server : client)) diff += "remote (peer write) key/salt differs; ";
    if (k.protocol != "dtls-srtp") diff += "protocol is not dtls-srtp; ";
    return diff;
}

std::shared_ptr<const cd::context> make_our_context(const temp_dir& dir) {
    auto cert = cd::certificate::generate("srtpo-test");
    if (!cert) throw std::runtime_error(cert.err().message);
    if (auto r = cert->save(dir / "ours.crt", dir / "ours.key"); !r) throw std::runtime_error(r.err().message);
    auto ctx = cd::context::create(*cert);
    if (!ctx) throw std::runtime_error(ctx.err().message);
    return *ctx;
}

std::vector<cd::fingerprint> fingerprints(const std::string& sdp_value) {
    auto fp = cd::parse_fingerprint(sdp_value);
    if (!fp) throw std::runtime_error("bad fingerprint '" + sdp_value + "': " + fp.err().message);
    return {*fp};
}

} // namespace srtpo::test::dtls

namespace srtpo::test::dtls {
bytes random_bytes(std::mt19937& rng, std::size_t n) {
    bytes b(n);
    for (auto& x : b) x = static_cast<std::byte>(rng() & 0xff);
    return b;
}
} // namespace srtpo::test::dtls

#include <gtest/gtest.h>

namespace srtpo::test::dtls {

srtp_pair make_srtp(const cp::srtp_keying& k) {
    srtp_pair p;
    const auto& t = engine::traits(k.suite);
    auto build = [&](const engine::key_salt_buffer& ks, engine::direction d) -> engine::session_ptr {
        engine::session_config c;
        c.s = k.suite;
        c.dir = d;
        c.backend = engine::backend_kind::openssl;
        engine::master_key_config m;
        m.key = ks.bytes().first(t.master_key_len);
        m.salt = ks.bytes().subspan(t.master_key_len, t.master_salt_len);
        c.keys.push_back(m);
        auto s = engine::make_session(c);
        if (!s) throw std::runtime_error("make_session: " + s.err().message);
        return std::move(*s);
    };
    p.tx = build(k.local.key_salt, engine::direction::protect);
    p.rx = build(k.remote.key_salt, engine::direction::unprotect);
    auto w = engine::worker_ctx::create();
    if (!w) throw std::runtime_error("worker_ctx: " + w.err().message);
    p.worker = std::move(*w);
    return p;
}

namespace {
constexpr std::size_t rtp_payload_len = 160;
uint8_t pattern(uint16_t seq, std::size_t j) { return static_cast<uint8_t>((seq - 1) * 7 + j); }
} // namespace

bytes protect_rtp_packet(srtp_pair& p, uint16_t seq, uint32_t ssrc) {
    bytes b(12 + rtp_payload_len + 64);
    b[0] = std::byte{0x80};
    b[1] = std::byte{0};
    b[2] = static_cast<std::byte>(seq >> 8);
    b[3] = static_cast<std::byte>(seq & 0xff);
    const uint32_t ts = uint32_t{seq} * 160;
    for (int i = 0; i < 4; ++i) {
        b[4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(ts >> (24 - 8 * i));
        b[8 + static_cast<std::size_t>(i)] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
    }
    for (std::size_t j = 0; j < rtp_payload_len; ++j) b[12 + j] = static_cast<std::byte>(pattern(seq, j));
    engine::op o{p.tx.get(), {b.data(), static_cast<uint16_t>(12 + rtp_payload_len), static_cast<uint16_t>(b.size())}};
    if (engine::protect_rtp(*p.worker, std::span<engine::op>(&o, 1)) != 1) return {};
    b.resize(o.pkt.len);
    return b;
}

bool unprotect_and_check(srtp_pair& p, bytes pkt) {
    if (pkt.size() > 0xffff) return false;
    engine::op o{p.rx.get(), {pkt.data(), static_cast<uint16_t>(pkt.size()), static_cast<uint16_t>(pkt.size())}};
    if (engine::unprotect_rtp(*p.worker, std::span<engine::op>(&o, 1)) != 1 || o.pkt.len < 12) return false;
    const auto seq = static_cast<uint16_t>(static_cast<unsigned>(pkt[2]) << 8 | static_cast<unsigned>(pkt[3]));
    const std::size_t hdr = 12 + 4 * (static_cast<unsigned>(pkt[0]) & 0x0f);
    if (o.pkt.len <= hdr) return false;
    for (std::size_t j = 0; j < o.pkt.len - hdr; ++j)
        if (static_cast<uint8_t>(pkt[hdr + j]) != pattern(seq, j)) return false;
    return true;
}

int run_if_present(int argc, char** argv, const std::vector<std::string>& programs) {
    for (const auto& p : programs) {
        if (p.empty() || (p.find('/') == std::string::npos ? !have_program(p) : ::access(p.c_str(), X_OK) != 0)) {
            std::printf("SKIP: peer program '%s' is not installed (scripts/install-deps.sh installs it)\n", p.c_str());
            return 77;
        }
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

} // namespace srtpo::test::dtls
