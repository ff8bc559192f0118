// MIKEY initiator: builds the I_MESSAGE of PSK (RFC 3830 §3.1), DH (§3.3) and DHHMAC
// (RFC 4650 §3) and checks the responder's answer.
#include "exchange_detail.hpp"

#include <srtpo/cp/mikey/message_crypto.hpp>
#include <srtpo/cp/mikey/prf.hpp>

#include <openssl/crypto.h>

namespace srtpo::cp::mikey {

using detail::fail;

namespace {
engine::error bad(std::string m) { return engine::make_error(engine::errc::invalid_argument, std::move(m)); }
exchange_result failed(failure f) {
    exchange_result r;
    r.error = std::move(f);
    return r;
}
} // namespace

engine::result<initiator> initiator::start(initiator_config cfg, time_point now) {
    if (cfg.streams.empty() || cfg.streams.size() > 255) return bad("MIKEY initiator: 1..255 streams");
    if ((cfg.m == mode::psk || cfg.m == mode::dhhmac) && cfg.cred.psk.empty() &&
        (cfg.m == mode::dhhmac || cfg.kemac_mac != mac_alg::null || cfg.kemac_encr != encr_alg::null))
        return bad("MIKEY initiator: this mode needs a pre-shared key");
    if ((cfg.m == mode::dh || cfg.m == mode::pk) && !cfg.cred.own_key)
        return bad("MIKEY initiator: DH and PK modes need our RSA key and certificate");
    if (cfg.m == mode::pk && cfg.cred.peer_cert.empty()) return bad("MIKEY initiator: PK mode needs the responder's certificate");
    if (cfg.m == mode::psk && cfg.kemac_encr == encr_alg::aes_kw_128) return bad("MIKEY initiator: AES-KW is not supported");
    if (cfg.m == mode::pk) {
        // The envelope key exists to encrypt and MAC the KEMAC: no NULL variants (§3.2).
        cfg.kemac_encr = encr_alg::aes_cm_128;
        cfg.kemac_mac = mac_alg::hmac_sha1_160;
    }
    initiator in;
    in._cfg = std::move(cfg);
    const auto& c = in._cfg;
    auto sp = sp_from_policy(0, c.policy);
    if (!sp) return sp.err();
    auto rnd = random_bytes(16);
    if (!rnd) return rnd.err();
    in._rand = *rnd;
    uint32_t csb = c.csb_id;
    while (csb == 0) {
        auto r = random_bytes(4);
        if (!r) return r.err();
        csb = static_cast<uint32_t>((*r)[0]) << 24 | static_cast<uint32_t>((*r)[1]) << 16 |
              static_cast<uint32_t>((*r)[2]) << 8 | (*r)[3];
    }
    header& h = in._hdr;
    static constexpr data_type init_type[] = {data_type::psk_init, data_type::dh_init, data_type::dhhmac_init,
                                              data_type::pk_init};
    h.type = init_type[static_cast<int>(c.m)];
    h.csb_id = csb;
    // DH and DHHMAC always answer (§3.3); PSK answers when asked (V flag, §3.1). A NULL MAC
    // cannot protect a verification message, so it never asks.
    in._expect = (c.m != mode::psk && c.m != mode::pk) || (c.verification && c.kemac_mac != mac_alg::null);
    h.v = in._expect;
    for (const auto& s : c.streams) h.cs.push_back(srtp_cs{0, s.ssrc, s.roc});
    in._t = t_payload{ts_type::ntp_utc, ntp_from_time(now)};

    message m;
    m.hdr = h;
    m.payloads.emplace_back(in._t);
    m.payloads.emplace_back(rand_payload{in._rand});
    if (!c.cred.own_id.empty()) m.payloads.emplace_back(id_payload{id_type::uri, c.cred.own_id});
    if (c.m == mode::dh || c.m == mode::pk)
        m.payloads.emplace_back(cert_payload{cert_type::x509v3_sign, c.cred.own_key->cert_der()});
    if (!c.cred.peer_id.empty() && c.m != mode::dh) {
        // IDr is only meaningful after IDi (§3.1 order); an empty IDi keeps the positions.
        if (c.cred.own_id.empty() && c.m != mode::pk) m.payloads.emplace_back(id_payload{id_type::uri, {}});
        m.payloads.emplace_back(id_payload{id_type::uri, c.cred.peer_id});
    }
    m.payloads.emplace_back(std::move(*sp));

    if (c.m == mode::dh || c.m == mode::dhhmac) {
        auto kp = dh_keypair::generate(c.group);
        if (!kp) return kp.err();
        m.payloads.emplace_back(dh_payload{c.group, kp->public_value(), {}});
        in._dh = std::move(*kp);
    }
    engine::result<bytes> enc = bad("unreachable");
    if (c.m == mode::dh) {
        enc = detail::encode_with_sign(std::move(m), *c.cred.own_key);
    } else if (c.m == mode::dhhmac) {
        auto mk = derive_message_keys(c.cred.psk.view(), csb, in._rand);
        if (!mk) return mk.err();
        m.payloads.emplace_back(kemac_payload{encr_alg::null, {}, mac_alg::hmac_sha1_160, bytes(20, 0)});
        enc = detail::encode_with_mac(m, mk->auth.view());
    } else {
        const auto& t = engine::traits(c.policy.suite);
        kemac_plaintext pt;
        key_data kd;
        kd.type = c.transport;
        if (c.transport == key_data_type::tgk) {
            auto k = random_bytes(c.tgk_len);
            if (!k) return k.err();
            kd.key = secret_bytes(*k);
            OPENSSL_cleanse(k->data(), k->size());
            in._tgk = kd.key;
        } else if (c.transport == key_data_type::tek_salt) {
            auto k = random_bytes(t.key_salt_len());
            if (!k) return k.err();
            kd.key = secret_bytes(std::span<const uint8_t>(*k).first(t.master_key_len));
            kd.salt = secret_bytes(std::span<const uint8_t>(*k).subspan(t.master_key_len));
            in._tek_salt = secret_bytes(*k);
            OPENSSL_cleanse(k->data(), k->size());
        } else {
            return bad("MIKEY initiator: PSK transport is TGK or TEK+SALT");
        }
        // PK: KEMAC = E(encr_key, IDi || {TGK}) (§3.2); IDi always leads, empty if we have none.
        if (c.m == mode::pk) pt.ids.push_back(id_payload{id_type::uri, c.cred.own_id});
        pt.keys.push_back(std::move(kd));
        auto plain = encode_kemac_plaintext(pt);
        if (!plain) return plain.err();
        kemac_payload km{c.kemac_encr, {}, c.kemac_mac, bytes(mac_len(c.kemac_mac), 0)};
        std::optional<message_keys> mk;
        if (c.m == mode::pk) {
            auto env = random_bytes(32);
            if (!env) return env.err();
            in._env_key = secret_bytes(*env);
            OPENSSL_cleanse(env->data(), env->size());
        }
        const secret_bytes& inkey = c.m == mode::pk ? in._env_key : c.cred.psk;
        if (c.kemac_encr != encr_alg::null || c.kemac_mac != mac_alg::null) {
            auto d = derive_message_keys(inkey.view(), csb, in._rand);
            if (!d) return d.err();
            mk = std::move(*d);
        }
        if (c.kemac_encr == encr_alg::aes_cm_128) {
            auto iv = kemac_iv(mk->salt.view(), csb, in._t.wire_value());
            if (!iv) return iv.err();
            auto ct = aes_cm_128(mk->encr.view(), *iv, plain->view());
            if (!ct) return ct.err();
            km.encr_data.assign(ct->view().begin(), ct->view().end());
        } else {
            km.encr_data.assign(plain->view().begin(), plain->view().end());
        }
        m.payloads.emplace_back(std::move(km));
        if (c.m == mode::pk) {
            if (c.send_chash) m.payloads.emplace_back(chash_payload{hash_func::sha1, sha1_of(c.cred.peer_cert)});
            auto pke = rsa_encrypt_for(c.cred.peer_cert, in._env_key.view());
            if (!pke) return pke.err();
            m.payloads.emplace_back(pke_payload{pke_cache::none, std::move(*pke)});
            enc = detail::encode_with_mac_and_sign(m, mk->auth.view(), *c.cred.own_key);
        } else {
            enc = c.kemac_mac == mac_alg::null ? encode(m) : detail::encode_with_mac(m, mk->auth.view());
        }
        // A NULL-encrypted KEMAC holds the keys in clear inside the message copy we built.
        for (auto& p : m.payloads)
            if (auto* k = std::get_if<kemac_payload>(&p)) OPENSSL_cleanse(k->encr_data.data(), k->encr_data.size());
    }
    if (!enc) return enc.err();
    in._i_msg = std::move(*enc);
    return in;
}

exchange_result initiator::keys() const {
    if (_expect) return failed(fail(error_no::unspecified, "MIKEY initiator: keys come with the response"));
    return psk_sessions();
}

exchange_result initiator::psk_sessions() const {
    message m;
    m.hdr = _hdr;
    auto sp = sp_from_policy(0, _cfg.policy);
    if (!sp) return failed(fail(error_no::invalid_sp, sp.err().message));
    m.payloads.emplace_back(std::move(*sp));
    std::vector<key_data> kds(1);
    kds[0].type = _cfg.transport;
    const auto& t = engine::traits(_cfg.policy.suite);
    if (_cfg.transport == key_data_type::tgk) {
        kds[0].key = _tgk;
    } else {
        kds[0].key = secret_bytes(_tek_salt.view().first(t.master_key_len));
        kds[0].salt = secret_bytes(_tek_salt.view().subspan(t.master_key_len));
    }
    exchange_result r;
    if (auto f = detail::build_sessions(m, detail::key_source{{}, &kds}, _rand, r.sessions)) r.error = f;
    return r;
}

exchange_result initiator::handle_response(std::span<const uint8_t> r_msg, time_point) {
    auto d = decode(r_msg);
    if (!d) return failed(fail(error_no::unspecified, "response: " + d.err().message));
    const message& r = *d;
    if (r.hdr.csb_id != _hdr.csb_id) return failed(fail(error_no::unspecified, "response: CSB ID does not match ours"));
    if (r.hdr.type == data_type::error) {
        const auto* e = r.find<err_payload>();
        return failed(fail(e ? e->err : error_no::unspecified,
                           "peer sent ERR: " + std::string(e ? name_of(e->err) : "no ERR payload")));
    }
    if (!_expect) return failed(fail(error_no::unspecified, "response: none was asked for"));
    static constexpr data_type resp_type[] = {data_type::psk_resp, data_type::dh_resp, data_type::dhhmac_resp,
                                              data_type::pk_resp};
    const data_type want = resp_type[static_cast<int>(_cfg.m)];
    if (r.hdr.type != want) return failed(fail(error_no::invalid_dt, "response: unexpected data type " + std::string(name_of(r.hdr.type))));
    if (!r.find<t_payload>()) return failed(fail(error_no::unspecified, "response: no T payload"));
    if (!_cfg.cred.peer_id.empty()) {
        const bytes idr = detail::id_of(r, id_role::responder); // responses name parties with IDR roles
        if (!idr.empty() && idr != _cfg.cred.peer_id) return failed(fail(error_no::invalid_id, "response: IDr is not the expected peer"));
    }
    auto im = decode(_i_msg);
    if (!im) return failed(fail(error_no::unspecified, "own I_MESSAGE: " + im.err().message));
    exchange_result out;
    if (_cfg.m == mode::psk || _cfg.m == mode::pk) {
        const auto* v = r.find<v_payload>();
        if (!v || r.index_of<v_payload>() + 1 != r.payloads.size() || v->mac != mac_alg::hmac_sha1_160)
            return failed(fail(error_no::invalid_mac, "response: V with HMAC-SHA-1-160 must be the last payload"));
        const secret_bytes& inkey = _cfg.m == mode::pk ? _env_key : _cfg.cred.psk;
        auto mk = derive_message_keys(inkey.view(), _hdr.csb_id, _rand);
        if (!mk) return failed(fail(error_no::unspecified, mk.err().message));
        bytes in(r_msg.begin(), r_msg.begin() + static_cast<std::ptrdiff_t>(r.spans.back().auth_field));
        const bytes sfx = detail::verification_suffix(*im);
        in.insert(in.end(), sfx.begin(), sfx.end());
        if (!hmac_sha1_verify(mk->auth.view(), in, v->ver_data))
            return failed(fail(error_no::auth_failure, "response: verification MAC does not match"));
        return psk_sessions();
    }
    // DH and DHHMAC: the response must echo our DHi and carry the responder's DHr.
    auto dhs = r.all<dh_payload>();
    if (dhs.size() != 2) return failed(fail(error_no::invalid_dh, "response: DHr and DHi expected"));
    if (dhs[1]->value != _dh->public_value() || dhs[1]->group != _cfg.group)
        return failed(fail(error_no::invalid_dh, "response: DHi is not our DH value"));
    if (dhs[0]->group != _cfg.group) return failed(fail(error_no::invalid_dh, "response: DHr is in another group"));
    if (_cfg.m == mode::dh) {
        const auto* sg = r.find<sign_payload>();
        const auto* cert = r.find<cert_payload>();
        if (!sg || !cert) return failed(fail(error_no::auth_failure, "response: SIGN and CERT required in DH mode"));
        if (!_cfg.cred.trust) return failed(fail(error_no::invalid_cert, "no trust store to check the responder's certificate"));
        auto ok = _cfg.cred.trust->verify(cert->data, r_msg.first(r.spans.back().auth_field), sg->signature);
        if (!ok) return failed(fail(ok.err().message.rfind("certificate", 0) == 0 ? error_no::invalid_cert : error_no::auth_failure,
                                    "response: " + ok.err().message));
    } else {
        const auto* km = r.find<kemac_payload>();
        if (!km || r.index_of<kemac_payload>() + 1 != r.payloads.size() || km->mac != mac_alg::hmac_sha1_160)
            return failed(fail(error_no::invalid_mac, "response: KEMAC with HMAC-SHA-1-160 must be the last payload"));
        auto mk = derive_message_keys(_cfg.cred.psk.view(), _hdr.csb_id, _rand);
        if (!mk) return failed(fail(error_no::unspecified, mk.err().message));
        if (!hmac_sha1_verify(mk->auth.view(), r_msg.first(r.spans.back().auth_field), km->mac_value))
            return failed(fail(error_no::auth_failure, "response: KEMAC MAC does not match"));
    }
    auto tgk = _dh->shared_secret(dhs[0]->value);
    if (!tgk) return failed(fail(error_no::invalid_dh, "response: " + tgk.err().message));
    message m;
    m.hdr = _hdr;
    auto sp = sp_from_policy(0, _cfg.policy);
    if (!sp) return failed(fail(error_no::invalid_sp, sp.err().message));
    m.payloads.emplace_back(std::move(*sp));
    if (auto f = detail::build_sessions(m, detail::key_source{tgk->view(), nullptr}, _rand, out.sessions)) return failed(*f);
    return out;
}

} // namespace srtpo::cp::mikey
