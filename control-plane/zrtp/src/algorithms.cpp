// Algorithm names, sizes and the §4.1.2 negotiation.
#include <srtpo/cp/zrtp/algorithms.hpp>

#include <algorithm>
#include <cstring>

namespace srtpo::cp::zrtp {
namespace {

constexpr std::array<std::string_view, 2> hash_names{"S256", "S384"};
constexpr std::array<std::string_view, 2> cipher_names{"AES1", "AES3"};
constexpr std::array<std::string_view, 2> auth_names{"HS32", "HS80"};
constexpr std::array<std::string_view, 8> ka_names{"DH3k", "DH2k", "EC25", "EC38", "X255", "X448", "Mult", "Prsh"};
constexpr std::array<std::string_view, 2> sas_names{"B32 ", "B256"};

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, algo_word w) noexcept {
    for (std::size_t i = 0; i < N; ++i)
        if (std::memcmp(names[i].data(), w.data(), 4) == 0) return static_cast<E>(i);
    return std::nullopt;
}

template <class E>
bool contains(const std::vector<E>& v, E e) {
    return std::find(v.begin(), v.end(), e) != v.end();
}

// Our first preference that the peer offers (or that is mandatory, hence implied).
template <class E>
std::optional<E> first_common(const std::vector<E>& ours, const std::vector<E>& peer, std::initializer_list<E> implied) {
    for (E e : ours)
        if (contains(peer, e) || std::find(implied.begin(), implied.end(), e) != implied.end()) return e;
    return std::nullopt;
}

// Relative cost of a key agreement, for the §4.1.2 tie-break between differing first choices:
// "the one that is faster". Measured order of OpenSSL 3 on x86-64.
int ka_cost(key_agreement k) noexcept {
    switch (k) {
    case key_agreement::x255: return 1;
    case key_agreement::ec25: return 2;
    case key_agreement::x448: return 3;
    case key_agreement::ec38: return 4;
    case key_agreement::dh2k: return 5;
    case key_agreement::dh3k: return 6;
    default: return 0;
    }
}

} // namespace

std::string_view name(hash_algo a) noexcept { return hash_names[static_cast<std::size_t>(a)]; }
std::string_view name(cipher_algo a) noexcept { return cipher_names[static_cast<std::size_t>(a)]; }
std::string_view name(auth_tag a) noexcept { return auth_names[static_cast<std::size_t>(a)]; }
std::string_view name(key_agreement a) noexcept { return ka_names[static_cast<std::size_t>(a)]; }
std::string_view name(sas_type a) noexcept { return sas_names[static_cast<std::size_t>(a)]; }

std::optional<hash_algo> hash_from_word(algo_word w) noexcept { return lookup<hash_algo>(hash_names, w); }
std::optional<cipher_algo> cipher_from_word(algo_word w) noexcept { return lookup<cipher_algo>(cipher_names, w); }
std::optional<auth_tag> auth_from_word(algo_word w) noexcept { return lookup<auth_tag>(auth_names, w); }
std::optional<key_agreement> ka_from_word(algo_word w) noexcept { return lookup<key_agreement>(ka_names, w); }
std::optional<sas_type> sas_from_word(algo_word w) noexcept { return lookup<sas_type>(sas_names, w); }

algo_word word_of(std::string_view n) noexcept {
    algo_word w{' ', ' ', ' ', ' '};
    std::memcpy(w.data(), n.data(), std::min<std::size_t>(4, n.size()));
    return w;
}

std::size_t hash_length(hash_algo a) noexcept { return a == hash_algo::s384 ? 48 : 32; }
std::size_t cipher_key_length(cipher_algo a) noexcept { return a == cipher_algo::aes3 ? 32 : 16; }

std::size_t pv_length(key_agreement a) noexcept {
    switch (a) {
    case key_agreement::dh3k: return 384;
    case key_agreement::dh2k: return 256;
    case key_agreement::ec25: return 64;  // x || y (§5.1.5)
    case key_agreement::ec38: return 96;
    case key_agreement::x255: return 32;  // RFC 7748 u-coordinate
    case key_agreement::x448: return 56;
    default: return 0;
    }
}

engine::suite srtp_suite(cipher_algo c, auth_tag t) noexcept {
    using engine::suite;
    if (c == cipher_algo::aes3) return t == auth_tag::hs32 ? suite::aes_256_cm_hmac_sha1_32 : suite::aes_256_cm_hmac_sha1_80;
    return t == auth_tag::hs32 ? suite::aes_cm_128_hmac_sha1_32 : suite::aes_cm_128_hmac_sha1_80;
}

std::optional<chosen_algorithms> negotiate(const algorithm_prefs& ours, const offered_algorithms& peer, bool multistream) {
    chosen_algorithms c;
    auto h = first_common(ours.hashes, peer.hashes, {hash_algo::s256});
    auto ci = first_common(ours.ciphers, peer.ciphers, {cipher_algo::aes1});
    auto a = first_common(ours.auth_tags, peer.auth_tags, {auth_tag::hs32, auth_tag::hs80});
    auto s = first_common(ours.sas_types, peer.sas_types, {sas_type::b32});
    if (!h || !ci || !a || !s) return std::nullopt;
    c.hash = *h;
    c.cipher = *ci;
    c.auth = *a;
    c.sas = *s;
    if (multistream) {
        c.ka = key_agreement::mult;
        return c;
    }
    // The peer's first choice among what we support, in the peer's order.
    auto mine = first_common(ours.key_agreements, peer.key_agreements, {key_agreement::dh3k});
    std::optional<key_agreement> theirs;
    for (auto k : peer.key_agreements)
        if (k != key_agreement::mult && k != key_agreement::prsh && contains(ours.key_agreements, k)) {
            theirs = k;
            break;
        }
    if (!mine) return std::nullopt;
    c.ka = (theirs && ka_cost(*theirs) < ka_cost(*mine)) ? *theirs : *mine;
    return c;
}

bool acceptable(const algorithm_prefs& ours, const chosen_algorithms& c) {
    return contains(ours.hashes, c.hash) && contains(ours.ciphers, c.cipher) && contains(ours.auth_tags, c.auth) &&
           contains(ours.sas_types, c.sas) && (c.ka == key_agreement::mult || contains(ours.key_agreements, c.ka));
}

} // namespace srtpo::cp::zrtp
