// SP <-> engine suite mapping (RFC 3830 §6.10.1; AEAD per RFC 7714 §14).
#include <srtpo/cp/mikey/srtp_policy.hpp>

#include <string>

namespace srtpo::cp::mikey {

namespace {
engine::error refuse(srtp_param p, uint32_t v, const char* why) {
    return engine::make_error(engine::errc::unsupported, "SP parameter " + std::string(name_of(p)) + " = " +
                                                             std::to_string(v) + ": " + why);
}
} // namespace

srtp_policy default_policy() noexcept { return {}; }

engine::result<sp_payload> sp_from_policy(uint8_t policy_no, const srtp_policy& p) {
    const auto* t = engine::traits_of(p.suite);
    if (!t) return engine::make_error(engine::errc::unknown_suite, "SP: not an engine suite");
    sp_payload sp;
    sp.policy_no = policy_no;
    const srtp_encr e = t->cipher == engine::cipher_kind::aes_cm   ? srtp_encr::aes_cm
                        : t->cipher == engine::cipher_kind::aes_f8 ? srtp_encr::aes_f8
                        : t->cipher == engine::cipher_kind::null   ? srtp_encr::null
                                                                   : srtp_encr::aes_gcm;
    sp.add(srtp_param::encr_alg, static_cast<uint8_t>(e));
    sp.add(srtp_param::encr_key_len, t->master_key_len);
    sp.add(srtp_param::auth_alg, static_cast<uint8_t>(t->aead() ? srtp_auth::null : srtp_auth::hmac_sha1));
    sp.add(srtp_param::auth_key_len, t->auth_key_len);
    sp.add(srtp_param::salt_key_len, t->master_salt_len);
    sp.add(srtp_param::prf, 0);
    sp.add(srtp_param::kdr, 0, 4);
    sp.add(srtp_param::srtp_encr, p.unencrypted_srtp ? 0 : 1);
    sp.add(srtp_param::srtcp_encr, p.unencrypted_srtcp ? 0 : 1);
    sp.add(srtp_param::fec_order, 0);
    sp.add(srtp_param::srtp_auth, p.unauthenticated_srtp ? 0 : 1);
    if (t->aead()) sp.add(srtp_param::aead_auth_tag_len, t->srtp_tag_len);
    else sp.add(srtp_param::auth_tag_len, t->srtp_tag_len);
    sp.add(srtp_param::srtp_prefix_len, 0);
    return sp;
}

engine::result<srtp_policy> policy_from_sp(const sp_payload& sp) {
    for (const auto& q : sp.params) {
        if (q.value.size() > 4)
            return engine::make_error(engine::errc::invalid_argument,
                                      "SP parameter type " + std::to_string(q.type) + " is longer than 4 octets");
        const bool known = q.type <= static_cast<uint8_t>(srtp_param::srtp_prefix_len) ||
                           q.type == static_cast<uint8_t>(srtp_param::aead_auth_tag_len);
        if (!known)
            return engine::make_error(engine::errc::unsupported, "SP parameter type " + std::to_string(q.type) + " is unknown");
    }
    auto get = [&](srtp_param p, uint32_t def) { return sp.uint(p).value_or(def); };
    const uint32_t encr = get(srtp_param::encr_alg, 1);
    const bool aead = encr == static_cast<uint32_t>(srtp_encr::aes_gcm);
    const uint32_t klen = get(srtp_param::encr_key_len, 16);
    const uint32_t auth = get(srtp_param::auth_alg, aead ? 0 : 1);
    const uint32_t alen = get(srtp_param::auth_key_len, aead ? 0 : 20);
    const uint32_t slen = get(srtp_param::salt_key_len, aead ? 12 : 14);
    const uint32_t tag = aead ? get(srtp_param::aead_auth_tag_len, 16) : get(srtp_param::auth_tag_len, 10);
    if (auto v = get(srtp_param::prf, 0); v != 0) return refuse(srtp_param::prf, v, "only the AES-CM PRF exists");
    if (auto v = get(srtp_param::kdr, 0); v != 0) return refuse(srtp_param::kdr, v, "the engine supports key derivation rate 0 only");
    if (auto v = get(srtp_param::fec_order, 0); v != 0) return refuse(srtp_param::fec_order, v, "only FEC-then-SRTP (0) is supported");
    if (auto v = get(srtp_param::srtp_prefix_len, 0); v != 0) return refuse(srtp_param::srtp_prefix_len, v, "no keystream prefix is supported");
    for (auto p : {srtp_param::srtp_encr, srtp_param::srtcp_encr, srtp_param::srtp_auth})
        if (auto v = get(p, 1); v > 1) return refuse(p, v, "an off/on switch is 0 or 1");

    srtp_policy out;
    out.unencrypted_srtp = get(srtp_param::srtp_encr, 1) == 0;
    out.unencrypted_srtcp = get(srtp_param::srtcp_encr, 1) == 0;
    out.unauthenticated_srtp = get(srtp_param::srtp_auth, 1) == 0;

    engine::cipher_kind ck;
    switch (encr) {
    case 0: ck = engine::cipher_kind::null; break;
    case 1: ck = engine::cipher_kind::aes_cm; break;
    case 2: ck = engine::cipher_kind::aes_f8; break;
    case 4: ck = engine::cipher_kind::aes_gcm; break;
    default: return refuse(srtp_param::encr_alg, encr, "unknown encryption algorithm");
    }
    if (aead) {
        if (auth != 0) return refuse(srtp_param::auth_alg, auth, "AEAD suites authenticate themselves (RFC 7714)");
        if (out.unauthenticated_srtp) return refuse(srtp_param::srtp_auth, 0, "AEAD cannot run unauthenticated");
    } else {
        if (auth != 1) return refuse(srtp_param::auth_alg, auth, "the engine authenticates with HMAC-SHA-1 only");
        if (alen != 20) return refuse(srtp_param::auth_key_len, alen, "HMAC-SHA-1 needs a 20-octet key");
    }
    for (const auto& t : engine::all_suites) {
        if (t.cipher != ck || t.master_key_len != klen) continue;
        if (t.master_salt_len != slen) return refuse(srtp_param::salt_key_len, slen, "salt length does not match the suite");
        if (t.srtp_tag_len != tag) continue;
        out.suite = t.id;
        return out;
    }
    return engine::make_error(engine::errc::unsupported,
                              "SP: no engine suite has encryption algorithm " + std::to_string(encr) + ", key length " +
                                  std::to_string(klen) + " and tag length " + std::to_string(tag));
}

} // namespace srtpo::cp::mikey
