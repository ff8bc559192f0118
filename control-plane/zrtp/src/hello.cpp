#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/hello.hpp>

#include "wire.hpp"

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {
constexpr std::size_t hello_fixed_len = 12 + 4 + 16 + 32 + 12 + 4 + 8; // 88 octets (§5.2)

template <class E, class F>
void put_list(std::vector<uint8_t>& m, const std::vector<E>& v) {
    for (E e : v) wire::put(m, F::name(e).data(), 4);
}
struct namer {
    template <class E>
    static std::string_view name(E e) { return zrtp::name(e); }
};
} // namespace

std::vector<uint8_t> build_hello(const hello& h, const algorithm_prefs& p, bool multistream, std::span<const uint8_t> mac_key) {
    const std::size_t nka = p.key_agreements.size() + (multistream ? 1 : 0);
    const std::size_t len = hello_fixed_len + 4 * (p.hashes.size() + p.ciphers.size() + p.auth_tags.size() + nka + p.sas_types.size());
    std::vector<uint8_t> m;
    m.reserve(len);
    put_message_header(m, message_type::hello, len);
    wire::put(m, h.version.data(), 4);
    wire::put(m, h.client_id.data(), 16);
    wire::put(m, h.h3);
    wire::put(m, h.zid);
    m.push_back(static_cast<uint8_t>((h.signature_capable ? 0x40 : 0) | (h.mitm ? 0x20 : 0) | (h.passive ? 0x10 : 0)));
    m.push_back(static_cast<uint8_t>(p.hashes.size()));
    m.push_back(static_cast<uint8_t>(p.ciphers.size() << 4 | p.auth_tags.size()));
    m.push_back(static_cast<uint8_t>(nka << 4 | p.sas_types.size()));
    put_list<hash_algo, namer>(m, p.hashes);
    put_list<cipher_algo, namer>(m, p.ciphers);
    put_list<auth_tag, namer>(m, p.auth_tags);
    put_list<key_agreement, namer>(m, p.key_agreements);
    if (multistream) wire::put(m, "Mult", 4);
    put_list<sas_type, namer>(m, p.sas_types);
    auto mac = message_mac(mac_key, m);
    wire::put(m, mac);
    return m;
}

engine::result<hello> parse_hello(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::hello) return make_error(errc::invalid_argument, "zrtp Hello: wrong type");
    if (msg.size() < hello_fixed_len) return make_error(errc::invalid_argument, "zrtp Hello: shorter than 88 octets");
    hello h;
    std::size_t o = 12;
    std::memcpy(h.version.data(), msg.data() + o, 4), o += 4;
    std::memcpy(h.client_id.data(), msg.data() + o, 16), o += 16;
    std::memcpy(h.h3.data(), msg.data() + o, 32), o += 32;
    std::memcpy(h.zid.data(), msg.data() + o, 12), o += 12;
    const uint8_t f = msg[o];
    h.signature_capable = f & 0x40;
    h.mitm = f & 0x20;
    h.passive = f & 0x10;
    const std::size_t hc = msg[o + 1] & 0x0f, cc = msg[o + 2] >> 4, ac = msg[o + 2] & 0x0f, kc = msg[o + 3] >> 4,
                      sc = msg[o + 3] & 0x0f;
    o += 4;
    if (hc > 7 || cc > 7 || ac > 7 || kc > 7 || sc > 7)
        return make_error(errc::invalid_argument, "zrtp Hello: an algorithm count exceeds 7 (§5.2)");
    if (msg.size() != hello_fixed_len + 4 * (hc + cc + ac + kc + sc))
        return make_error(errc::invalid_argument, "zrtp Hello: algorithm counts do not match the length");
    auto word = [&](std::size_t at) {
        algo_word w;
        std::memcpy(w.data(), msg.data() + at, 4);
        return w;
    };
    auto read = [&](std::size_t n, auto conv, auto& out) {
        for (std::size_t i = 0; i < n; ++i, o += 4)
            if (auto a = conv(word(o))) out.push_back(*a);
    };
    read(hc, hash_from_word, h.algorithms.hashes);
    read(cc, cipher_from_word, h.algorithms.ciphers);
    read(ac, auth_from_word, h.algorithms.auth_tags);
    read(kc, ka_from_word, h.algorithms.key_agreements);
    read(sc, sas_from_word, h.algorithms.sas_types);
    std::memcpy(h.mac.data(), msg.data() + o, 8);
    return h;
}

} // namespace srtpo::cp::zrtp
