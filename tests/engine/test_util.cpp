#include "test_util.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace srtpo::test {

bytes from_hex(std::string_view hex) {
    bytes out;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    int hi = -1;
    for (char c : hex) {
        int v = nib(c);
        if (v < 0) continue; // allow spaces and separators
        if (hi < 0) hi = v;
        else {
            out.push_back(std::byte(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd hex length");
    return out;
}

std::string to_hex(std::span<const std::byte> b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s += d[static_cast<uint8_t>(x) >> 4];
        s += d[static_cast<uint8_t>(x) & 15];
    }
    return s;
}

bytes random_bytes(std::mt19937& rng, std::size_t n) {
    bytes b(n);
    for (auto& x : b) x = std::byte(rng() & 0xff);
    return b;
}

static void put32(bytes& b, uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(std::byte((v >> (8 * i)) & 0xff));
}

bytes make_rtp(const rtp_spec& s) {
    bytes b;
    const bool x = !s.ext_elements.empty();
    b.push_back(std::byte(0x80 | (x ? 0x10 : 0) | (s.csrcs.size() & 0x0f)));
    b.push_back(std::byte((s.marker ? 0x80 : 0) | (s.pt & 0x7f)));
    b.push_back(std::byte(s.seq >> 8));
    b.push_back(std::byte(s.seq & 0xff));
    put32(b, s.ts);
    put32(b, s.ssrc);
    for (auto c : s.csrcs) put32(b, c);
    if (x) {
        bytes data;
        uint8_t v = 0xa0;
        for (auto [id, len] : s.ext_elements) {
            data.push_back(std::byte((id << 4) | ((len - 1) & 0x0f)));
            for (int i = 0; i < len; ++i) data.push_back(std::byte(v++));
        }
        while (data.size() % 4) data.push_back(std::byte{0});
        b.push_back(std::byte{0xBE});
        b.push_back(std::byte{0xDE});
        b.push_back(std::byte((data.size() / 4) >> 8));
        b.push_back(std::byte((data.size() / 4) & 0xff));
        b.insert(b.end(), data.begin(), data.end());
    }
    std::mt19937 rng(s.fill_seed);
    auto p = random_bytes(rng, s.payload_len);
    b.insert(b.end(), p.begin(), p.end());
    return b;
}

bytes make_rtcp(uint32_t ssrc, std::size_t extra, uint32_t fill_seed) {
    bytes b;
    const std::size_t len = 8 + 20 + extra; // header + sender info + extra
    b.push_back(std::byte{0x80});
    b.push_back(std::byte{200});
    const auto words = static_cast<uint16_t>(len / 4 - 1);
    b.push_back(std::byte(words >> 8));
    b.push_back(std::byte(words & 0xff));
    put32(b, ssrc);
    std::mt19937 rng(fill_seed);
    auto p = random_bytes(rng, len - 8);
    b.insert(b.end(), p.begin(), p.end());
    return b;
}

pkt_buf::pkt_buf(const bytes& pkt, std::size_t tailroom) : storage(pkt.size() + tailroom) {
    std::copy(pkt.begin(), pkt.end(), storage.begin());
    ref.data = storage.data();
    ref.len = static_cast<uint16_t>(pkt.size());
    ref.capacity = static_cast<uint16_t>(storage.size());
}

engine::session_ptr make(engine::suite s, engine::direction d, const std::vector<simple_key>& keys, engine::backend_kind b,
                         void (*tweak)(engine::session_config&)) {
    engine::session_config c;
    c.s = s;
    c.dir = d;
    c.backend = b;
    for (const auto& k : keys) c.keys.push_back({k.key, k.salt, k.mki, k.lifetime});
    if (tweak) tweak(c);
    auto r = engine::make_session(c);
    if (!r) {
        ADD_FAILURE() << "make_session: " << r.err().message;
        return nullptr;
    }
    return std::move(r.value());
}

static engine::status one(engine::worker_ctx& w, engine::session_rt* s, pkt_buf& p,
                          std::size_t (*fn)(engine::worker_ctx&, std::span<engine::op>) noexcept) {
    engine::op o{s, p.ref, engine::status::ok};
    fn(w, {&o, 1});
    p.ref = o.pkt;
    return o.st;
}

engine::status protect_one(engine::worker_ctx& w, engine::session_rt* s, pkt_buf& p, bool rtcp) {
    return one(w, s, p, rtcp ? engine::protect_rtcp : engine::protect_rtp);
}
engine::status unprotect_one(engine::worker_ctx& w, engine::session_rt* s, pkt_buf& p, bool rtcp) {
    return one(w, s, p, rtcp ? engine::unprotect_rtcp : engine::unprotect_rtp);
}

std::unique_ptr<engine::worker_ctx> make_worker() {
    auto r = engine::worker_ctx::create();
    if (!r) throw std::runtime_error(r.err().message);
    return std::move(r.value());
}

} // namespace srtpo::test
