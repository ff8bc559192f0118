// SDES offer/answer (RFC 4568 §7.1): suite choice, fresh keys per leg, parameter checks.

#include <srtpo/cp/sdes/negotiation.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace srtpo::cp::sdes {
namespace {

// A fresh master key || salt for `s` (RFC 4568 §6.1: the key is random; RFC 3711 §8.1 and
// RFC 4086 ask for a cryptographically strong source: OpenSSL's DRBG).
result<engine::sdes_key_params> fresh_key(engine::suite s, const policy& pol) {
    std::array<std::byte, engine::sdes_max_key_salt_len> buf{};
    const auto n = engine::traits(s).key_salt_len();
    if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1)
        return engine::make_error(errc::backend_failure, "RAND_bytes failed while generating an SDES key");
    auto ks = engine::key_salt_buffer::from(std::span<const std::byte>(buf.data(), n));
    OPENSSL_cleanse(buf.data(), buf.size());
    if (!ks) return ks.err();
    engine::sdes_key_params k;
    k.key_salt = std::move(*ks);
    k.lifetime = pol.lifetime;
    if (pol.mki_length > 0) {
        auto m = engine::make_sdes_mki(1, pol.mki_length);
        if (!m) return m.err();
        k.mki = std::move(*m);
    }
    return k;
}

srtp_master to_master(const engine::sdes_key_params& k) {
    srtp_master m;
    m.key_salt = k.key_salt;
    m.lifetime = k.lifetime;
    if (k.mki) m.mki = k.mki->bytes;
    return m;
}

// Why we cannot honour an attribute's session parameters, or empty when we can.
std::string refusal(const session_params& p, const policy& pol) {
    // The engine derives session keys once (RFC 3711 §4.3.1 key_derivation_rate 0).
    if (p.kdr && *p.kdr != 0) return "KDR=" + std::to_string(*p.kdr) + " not supported (key derivation only once)";
    if (!p.fec_keys.empty()) return "FEC_KEY not supported (no FEC)";
    if ((p.unencrypted_srtp || p.unencrypted_srtcp) && !pol.allow_unencrypted)
        return p.unencrypted_srtp ? "UNENCRYPTED_SRTP refused by policy" : "UNENCRYPTED_SRTCP refused by policy";
    if (p.unauthenticated_srtp && !pol.allow_unauthenticated) return "UNAUTHENTICATED_SRTP refused by policy";
    if (!p.mandatory_extensions.empty())
        return "session parameter not understood: " + p.mandatory_extensions.front().substr(0, 32);
    return {};
}

srtp_params to_params(const session_params& p) {
    srtp_params out;
    out.unencrypted_srtp = p.unencrypted_srtp;
    out.unencrypted_srtcp = p.unencrypted_srtcp;
    out.unauthenticated_srtp = p.unauthenticated_srtp;
    return out;
}

// The parameters our answer repeats: those that must be the same in both directions
// (RFC 4568 §6.3). KDR=0 and WSH are declarative per direction, FEC_ORDER is moot
// without FEC: not echoed.
session_params echoed(const session_params& p) {
    session_params out;
    out.unencrypted_srtp = p.unencrypted_srtp;
    out.unencrypted_srtcp = p.unencrypted_srtcp;
    out.unauthenticated_srtp = p.unauthenticated_srtp;
    return out;
}

// The offered attribute to accept (§7.1.2): our preference order first, then the offer's.
result<const crypto_attribute*> select(std::span<const crypto_attribute> offered, const policy& pol) {
    std::string first_refusal;
    for (auto want : pol.preference) {
        for (const auto& a : offered) {
            if (a.suite != want || a.keys.empty()) continue;
            auto why = refusal(a.params, pol);
            if (why.empty()) return &a;
            if (first_refusal.empty()) first_refusal = "crypto tag " + std::to_string(a.tag) + ": " + why;
        }
    }
    if (!first_refusal.empty()) return engine::make_error(errc::unsupported, first_refusal);
    return engine::make_error(errc::unknown_suite, offered.empty() ? "no a=crypto offered"
                                                                   : "no offered SRTP crypto-suite is acceptable");
}

answer_result answer_with(const crypto_attribute& a, engine::sdes_key_params ours) {
    answer_result r;
    r.keying.suite = *a.suite;
    r.keying.protocol = "sdes";
    r.keying.remote = to_master(a.keys.front());
    r.keying.local = to_master(ours);
    r.keying.params = to_params(a.params);
    r.answer.tag = a.tag; // §7.1.2: the answer uses the accepted offer's tag
    r.answer.suite = a.suite;
    r.answer.suite_name = std::string(engine::traits(*a.suite).name);
    r.answer.keys.push_back(std::move(ours));
    r.answer.params = echoed(a.params);
    return r;
}

} // namespace

result<answer_result> answer_offer(std::span<const crypto_attribute> offered, const policy& pol) {
    auto a = select(offered, pol);
    if (!a) return a.err();
    auto key = fresh_key(*(*a)->suite, pol);
    if (!key) return key.err();
    return answer_with(**a, std::move(*key));
}

result<answer_result> answer_reoffer(std::span<const crypto_attribute> offered, const policy& pol,
                                     const answer_result& previous) {
    auto a = select(offered, pol);
    if (!a) return a.err();
    const auto& k = (*a)->keys.front();
    const bool same_remote = (*a)->suite == previous.keying.suite && !previous.answer.keys.empty() &&
                             k.key_salt.equals(previous.keying.remote.key_salt.bytes()) &&
                             (k.mki ? k.mki->bytes : std::vector<std::byte>{}) == previous.keying.remote.mki;
    if (!same_remote) return answer_offer(offered, pol);
    return answer_with(**a, previous.answer.keys.front()); // §7.1.4: unchanged keys, no rekey
}

result<offer_state> make_offer(const policy& pol) {
    if (pol.preference.empty())
        return engine::make_error(errc::invalid_argument, "SDES policy has no crypto-suite to offer");
    offer_state st;
    uint32_t tag = 1;
    for (auto s : pol.preference) {
        auto key = fresh_key(s, pol);
        if (!key) return key.err();
        crypto_attribute a;
        a.tag = tag++;
        a.suite = s;
        a.suite_name = std::string(engine::traits(s).name);
        a.keys.push_back(std::move(*key));
        st.offered.push_back(std::move(a));
    }
    return st;
}

result<srtp_keying> accept_answer(const offer_state& offer, std::span<const crypto_attribute> answer,
                                  const policy& pol) {
    if (answer.size() != 1)
        return engine::make_error(errc::invalid_argument, answer.empty() ? "answer has no a=crypto"
                                                                         : "answer has more than one a=crypto");
    const auto& a = answer.front();
    auto mine = std::find_if(offer.offered.begin(), offer.offered.end(),
                             [&](const crypto_attribute& o) { return o.tag == a.tag; });
    if (mine == offer.offered.end())
        return engine::make_error(errc::invalid_argument, "answer tag " + std::to_string(a.tag) + " was not offered");
    if (a.suite != mine->suite)
        return engine::make_error(errc::invalid_argument, "answer changed the crypto-suite of tag " + std::to_string(a.tag));
    if (a.keys.empty()) return engine::make_error(errc::invalid_argument, "answer has no key");
    // We offered no session parameters, so the answer may not add one that changes the transform.
    session_params none;
    if (a.params.unencrypted_srtp || a.params.unencrypted_srtcp || a.params.unauthenticated_srtp)
        return engine::make_error(errc::unsupported, "answer adds UNENCRYPTED/UNAUTHENTICATED parameters we did not offer");
    auto why = refusal(a.params, pol);
    if (!why.empty()) return engine::make_error(errc::unsupported, why);
    srtp_keying k;
    k.suite = *a.suite;
    k.protocol = "sdes";
    k.local = to_master(mine->keys.front());
    k.remote = to_master(a.keys.front());
    k.params = to_params(none);
    return k;
}

uint16_t warn_code_for(const error& e) noexcept {
    switch (e.code) {
    case errc::unknown_suite: return 305;
    case errc::unsupported: return 306;
    default: return 399;
    }
}

} // namespace srtpo::cp::sdes
