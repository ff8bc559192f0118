#include "media_fixture.hpp"

#include <srtpo/cp/media/address.hpp>

#include <stdexcept>

namespace srtpo::test::media {

bool run_until(cp::event_loop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::function<void()> check;
    check = [&] {
        if (done() || std::chrono::steady_clock::now() >= deadline) {
            loop.stop();
            return;
        }
        loop.after(std::chrono::milliseconds{5}, check);
    };
    const auto id = loop.after(std::chrono::milliseconds{0}, check);
    (void)id;
    if (auto r = loop.run(); !r) throw std::runtime_error(r.err().message);
    return done();
}

cp::event_loop make_loop() {
    auto l = cp::event_loop::create({});
    if (!l) throw std::runtime_error(l.err().message);
    return std::move(*l);
}

cm::media_config config_in(const std::filesystem::path& dir) {
    cm::media_config c;
    c.dtls.certificate = (dir / "dtls-cert.pem").string();
    c.dtls.private_key = (dir / "dtls-key.pem").string();
    c.dtls.timers.initial_retransmit = std::chrono::milliseconds{200};
    c.dtls.timers.handshake_timeout = std::chrono::milliseconds{8000};
    c.zrtp.cache = (dir / "zrtp.cache").string();
    c.zrtp.cache_key = (dir / "zrtp.key").string();
    c.zrtp.exchange.handshake_timeout = std::chrono::milliseconds{10000};
    return c;
}

std::unique_ptr<cm::media_runtime> make_runtime(const cm::media_config& cfg) {
    auto r = cm::media_runtime::create(cfg);
    if (!r) throw std::runtime_error(r.err().message);
    return std::move(*r);
}

table::endpoint loopback(uint16_t port) { return cm::parse_endpoint("127.0.0.1", port).value(); }

cp::sdp::session_description peer_sdp(uint16_t port, const std::vector<std::string>& attrs, const std::string& proto) {
    std::string s = "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
    s += "m=audio " + std::to_string(port) + " " + proto + " 0\r\n";
    for (const auto& a : attrs) s += "a=" + a + "\r\n";
    auto sd = cp::sdp::parse(s);
    if (!sd) throw std::runtime_error("test SDP: " + sd.err().message);
    return std::move(*sd);
}

std::string local_attr(const cp::call::media_path_keying& k, const std::string& name) {
    for (const auto& [n, v] : k.local_attributes())
        if (n == name) return v;
    return "";
}

std::string hex(std::span<const std::byte> b) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s.push_back(d[std::to_integer<int>(x) >> 4]);
        s.push_back(d[std::to_integer<int>(x) & 15]);
    }
    return s;
}

} // namespace srtpo::test::media
