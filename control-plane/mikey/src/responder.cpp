// MIKEY responder: checks an I_MESSAGE of PSK (RFC 3830 §3.1), DH (§3.3) or DHHMAC (RFC 4650
// §3), in the order freshness -> policy -> authentication -> replay commit -> keys, so that an
// unauthenticated message never enters the replay cache, and answers with R_MESSAGE or ERR.
#include "exchange_detail.hpp"

#include <srtpo/cp/mikey/message_crypto.hpp>
#include <srtpo/cp/mikey/prf.hpp>

namespace srtpo::cp::mikey {

namespace {

/// Responses name both parties with IDR payloads (RFC 6043 §6.6), so that a missing IDr
/// cannot make IDi look like it.
void add_ids(message& r, const bytes& own_id, const bytes& idi) {
    if (!own_id.empty()) r.payloads.emplace_back(idr_payload{id_role::responder, id_type::uri, own_id});
    if (!idi.empty()) r.payloads.emplace_back(idr_payload{id_role::initiator, id_type::uri, idi});
}

} // namespace

exchange_result responder::handle(std::span<const uint8_t> in, time_point now) {
    const uint32_t csb = in.size() >= 8 ? static_cast<uint32_t>(in[4]) << 24 | static_cast<uint32_t>(in[5]) << 16 |
                                              static_cast<uint32_t>(in[6]) << 8 | in[7]
                                        : 0;
    auto reject = [&](error_no e, std::string msg) {
        exchange_result r;
        r.error = failure{e, std::move(msg)};
        r.reply = make_error_message(csb, e, now);
        return r;
    };
    if (!_cfg.replay) return reject(error_no::unspecified, "responder has no replay cache");
    // The two HDR fields RFC 3830 §6.12 has their own ERR numbers for are checked first.
    if (in.size() >= 2 && in[1] > static_cast<uint8_t>(data_type::rsa_r_resp))
        return reject(error_no::invalid_dt, "HDR data type " + std::to_string(in[1]) + " is unknown");
    if (in.size() >= 4 && (in[3] & 0x7f) != 0) return reject(error_no::invalid_prf, "HDR PRF func is not MIKEY-1");
    auto d = decode(in);
    if (!d) return reject(error_no::unspecified, "I_MESSAGE: " + d.err().message);
    const message& m = *d;

    mode md;
    switch (m.hdr.type) {
    case data_type::psk_init: md = mode::psk; break;
    case data_type::dh_init: md = mode::dh; break;
    case data_type::dhhmac_init: md = mode::dhhmac; break;
    case data_type::pk_init: md = mode::pk; break;
    default: return reject(error_no::invalid_dt, "data type " + std::string(name_of(m.hdr.type)) + " is not supported");
    }
    if ((md == mode::psk && !_cfg.allow_psk) || (md == mode::dh && !_cfg.allow_dh) ||
        (md == mode::dhhmac && !_cfg.allow_dhhmac) || (md == mode::pk && !_cfg.allow_pk))
        return reject(error_no::invalid_dt, "mode " + std::string(name_of(m.hdr.type)) + " is disabled");
    const auto* t = m.find<t_payload>();
    const auto* rnd = m.find<rand_payload>();
    if (!t || !rnd) return reject(error_no::unspecified, "I_MESSAGE needs T and RAND payloads");
    const bytes idi = detail::id_of(m, id_role::initiator);
    const bytes idr = detail::id_of(m, id_role::responder);
    if (!_cfg.cred.peer_id.empty() && idi != _cfg.cred.peer_id) return reject(error_no::invalid_id, "IDi is not the expected peer");
    if (!_cfg.cred.own_id.empty() && !idr.empty() && idr != _cfg.cred.own_id) return reject(error_no::invalid_id, "IDr is not us");

    switch (_cfg.replay->check(*t, idi, rnd->rand, now)) {
    case replay_cache::verdict::fresh: break;
    case replay_cache::verdict::stale: return reject(error_no::invalid_ts, "timestamp outside the allowed clock skew");
    case replay_cache::verdict::replay: return reject(error_no::invalid_ts, "replayed message (timestamp/RAND seen before)");
    case replay_cache::verdict::full: return reject(error_no::unspecified, "replay cache full");
    }
    if (auto f = detail::check_policies(m)) return reject(f->err, f->message);

    const std::size_t auth_at = m.spans.back().auth_field;
    // SIGN over the whole message with the initiator's certificate (DH §3.3, PK §3.2).
    auto check_sign = [&]() -> std::optional<failure> {
        const auto* sg = m.find<sign_payload>();
        const auto* cert = m.find<cert_payload>();
        if (!sg) return detail::fail(error_no::auth_failure, "no SIGN payload");
        if (!cert || !_cfg.cred.trust) return detail::fail(error_no::invalid_cert, "no certificate, or no trust store");
        if (sg->type != sign_type::rsa_pkcs1_v1_5) return detail::fail(error_no::auth_failure, "SIGN: only RSA PKCS#1 v1.5");
        auto ok = _cfg.cred.trust->verify(cert->data, in.first(auth_at), sg->signature);
        if (!ok)
            return detail::fail(ok.err().message.rfind("certificate", 0) == 0 ? error_no::invalid_cert : error_no::auth_failure,
                                ok.err().message);
        if (!_cfg.cred.own_key) return detail::fail(error_no::unspecified, "responder has no RSA key for this mode");
        return std::nullopt;
    };
    std::vector<key_data> keys;
    secret_bytes tgk;
    secret_bytes msg_inkey; // PSK, or the PK envelope key: what KEMAC and V keys derive from (§4.1.4)
    std::optional<dh_keypair> ours;
    const dh_payload* dhi = nullptr;
    if (md == mode::psk || md == mode::pk) {
        const auto* km = m.find<kemac_payload>();
        const std::size_t ki = m.index_of<kemac_payload>();
        if (!km || (md == mode::psk && ki + 1 != m.payloads.size()))
            return reject(error_no::unspecified, "I_MESSAGE: KEMAC missing (PSK: it must be the last payload)");
        if (km->encr == encr_alg::aes_kw_128) return reject(error_no::invalid_ea, "KEMAC AES-KW-128 is not supported");
        if (md == mode::pk) {
            if (auto f = check_sign()) return reject(f->err, "PK I_MESSAGE: " + f->message);
            if (km->encr != encr_alg::aes_cm_128 || km->mac != mac_alg::hmac_sha1_160)
                return reject(km->encr != encr_alg::aes_cm_128 ? error_no::invalid_ea : error_no::invalid_mac,
                              "PK KEMAC must be AES-CM-128 / HMAC-SHA-1-160");
            if (const auto* ch = m.find<chash_payload>();
                ch && (ch->func != hash_func::sha1 || ch->hash != sha1_of(_cfg.cred.own_key->cert_der())))
                return reject(error_no::invalid_cert, "CHASH names a certificate that is not ours");
            const auto* pke = m.find<pke_payload>();
            if (!pke) return reject(error_no::unspecified, "PK I_MESSAGE: no PKE payload");
            auto env = _cfg.cred.own_key->decrypt(pke->data);
            if (!env || env->empty()) return reject(error_no::auth_failure, "PKE does not decrypt with our key");
            msg_inkey = std::move(*env);
        } else {
            if (km->encr == encr_alg::null && !_cfg.allow_null_encr) return reject(error_no::invalid_ea, "KEMAC NULL encryption refused");
            if (km->mac == mac_alg::null && !_cfg.allow_null_mac) return reject(error_no::invalid_mac, "KEMAC NULL MAC refused");
            if ((km->encr != encr_alg::null || km->mac != mac_alg::null) && _cfg.cred.psk.empty())
                return reject(error_no::auth_failure, "no pre-shared key configured");
            msg_inkey = _cfg.cred.psk;
        }
        std::optional<message_keys> mk;
        if (km->encr != encr_alg::null || km->mac != mac_alg::null) {
            auto k = derive_message_keys(msg_inkey.view(), m.hdr.csb_id, rnd->rand);
            if (!k) return reject(error_no::unspecified, k.err().message);
            mk = std::move(*k);
        }
        if (km->mac == mac_alg::hmac_sha1_160 &&
            !hmac_sha1_verify(mk->auth.view(), in.first(m.spans[ki].auth_field), km->mac_value))
            return reject(error_no::auth_failure, "KEMAC MAC does not match (wrong key or altered message)");
        secret_bytes plain(km->encr_data);
        if (km->encr == encr_alg::aes_cm_128) {
            auto iv = kemac_iv(mk->salt.view(), m.hdr.csb_id, t->wire_value());
            if (!iv) return reject(error_no::unspecified, iv.err().message);
            auto p = aes_cm_128(mk->encr.view(), *iv, km->encr_data);
            if (!p) return reject(error_no::unspecified, p.err().message);
            plain = std::move(*p);
        }
        auto pt = decode_kemac_plaintext(plain.view(), md == mode::pk);
        if (!pt) return reject(error_no::unspecified, pt.err().message);
        keys = std::move(pt->keys);
    } else {
        auto dhs = m.all<dh_payload>();
        if (dhs.size() != 1) return reject(error_no::invalid_dh, "I_MESSAGE needs exactly one DH payload");
        dhi = dhs[0];
        if (md == mode::dh) {
            if (auto f = check_sign()) return reject(f->err, "DH I_MESSAGE: " + f->message);
        } else {
            const auto* km = m.find<kemac_payload>();
            if (!km || m.index_of<kemac_payload>() + 1 != m.payloads.size() || km->mac != mac_alg::hmac_sha1_160)
                return reject(error_no::invalid_mac, "DHHMAC I_MESSAGE: KEMAC with HMAC-SHA-1-160 must be last");
            if (_cfg.cred.psk.empty()) return reject(error_no::auth_failure, "no pre-shared key configured");
            auto mk = derive_message_keys(_cfg.cred.psk.view(), m.hdr.csb_id, rnd->rand);
            if (!mk) return reject(error_no::unspecified, mk.err().message);
            if (!hmac_sha1_verify(mk->auth.view(), in.first(auth_at), km->mac_value))
                return reject(error_no::auth_failure, "KEMAC MAC does not match (wrong key or altered message)");
        }
        auto kp = dh_keypair::generate(dhi->group);
        if (!kp) return reject(error_no::unspecified, kp.err().message);
        auto sec = kp->shared_secret(dhi->value);
        if (!sec) return reject(error_no::invalid_dh, sec.err().message);
        tgk = std::move(*sec);
        ours = std::move(*kp);
    }

    exchange_result out;
    const bool kemac_keys = md == mode::psk || md == mode::pk;
    const detail::key_source src = kemac_keys ? detail::key_source{{}, &keys} : detail::key_source{tgk.view(), nullptr};
    if (auto f = detail::build_sessions(m, src, rnd->rand, out.sessions)) return reject(f->err, f->message);
    // Authenticated and keyed: only now does the message count as seen (§5.4).
    _cfg.replay->commit(*t, idi, rnd->rand, now);

    message r;
    r.hdr = m.hdr;
    r.hdr.v = false;
    r.payloads.emplace_back(t_payload{ts_type::ntp_utc, ntp_from_time(now)});
    engine::result<bytes> enc = bytes{};
    if (kemac_keys) {
        if (!m.hdr.v) return out; // no verification message asked for (§3.1, §3.2)
        const auto* km = m.find<kemac_payload>();
        if (km->mac == mac_alg::null) return out; // nothing to verify with
        r.hdr.type = md == mode::pk ? data_type::pk_resp : data_type::psk_resp;
        add_ids(r, _cfg.cred.own_id, {});
        r.payloads.emplace_back(v_payload{mac_alg::hmac_sha1_160, bytes(20, 0)});
        auto mk = derive_message_keys(msg_inkey.view(), m.hdr.csb_id, rnd->rand);
        if (!mk) return reject(error_no::unspecified, mk.err().message);
        enc = detail::encode_with_mac(r, mk->auth.view(), detail::verification_suffix(m));
    } else if (md == mode::dh) {
        r.hdr.type = data_type::dh_resp;
        add_ids(r, _cfg.cred.own_id, idi);
        r.payloads.emplace_back(cert_payload{cert_type::x509v3_sign, _cfg.cred.own_key->cert_der()});
        r.payloads.emplace_back(dh_payload{dhi->group, ours->public_value(), {}});
        r.payloads.emplace_back(*dhi);
        enc = detail::encode_with_sign(std::move(r), *_cfg.cred.own_key);
    } else {
        r.hdr.type = data_type::dhhmac_resp;
        add_ids(r, _cfg.cred.own_id, idi);
        r.payloads.emplace_back(dh_payload{dhi->group, ours->public_value(), {}});
        r.payloads.emplace_back(*dhi);
        r.payloads.emplace_back(kemac_payload{encr_alg::null, {}, mac_alg::hmac_sha1_160, bytes(20, 0)});
        auto mk = derive_message_keys(_cfg.cred.psk.view(), m.hdr.csb_id, rnd->rand);
        if (!mk) return reject(error_no::unspecified, mk.err().message);
        enc = detail::encode_with_mac(r, mk->auth.view());
    }
    if (!enc) return reject(error_no::unspecified, "response: " + enc.err().message);
    out.reply = std::move(*enc);
    return out;
}

} // namespace srtpo::cp::mikey
