// Shared steps of MIKEY initiator and responder: MAC/SIGN finishing, key -> crypto session.
#include "exchange_detail.hpp"

#include <srtpo/cp/mikey/message_crypto.hpp>
#include <srtpo/cp/mikey/prf.hpp>

#include <openssl/crypto.h>

#include <algorithm>

namespace srtpo::cp::mikey {

bytes make_error_message(uint32_t csb_id, error_no err, time_point now) {
    message m;
    m.hdr.type = data_type::error;
    m.hdr.csb_id = csb_id;
    m.hdr.map_type = cs_id_map_type::empty;
    m.payloads.emplace_back(t_payload{ts_type::ntp_utc, ntp_from_time(now)});
    m.payloads.emplace_back(err_payload{err});
    auto b = encode(m);
    return b ? std::move(*b) : bytes{};
}

namespace detail {

engine::result<bytes> encode_with_mac(const message& m, std::span<const uint8_t> auth_key, std::span<const uint8_t> suffix) {
    auto b = encode(m);
    if (!b) return b.err();
    bytes& out = *b;
    if (out.size() < 20) return engine::make_error(engine::errc::invalid_argument, "message too short for a MAC");
    const std::size_t at = out.size() - 20;
    bytes in(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(at));
    in.insert(in.end(), suffix.begin(), suffix.end());
    auto mac = hmac_sha1(auth_key, in);
    if (!mac) return mac.err();
    std::copy(mac->begin(), mac->end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    return b;
}

namespace {
/// Encodes m with a zeroed SIGN; `before_sign` may patch the octets (a MAC) before the
/// signature over everything up to the Signature field is written in.
template <class F>
engine::result<bytes> encode_signed(message m, const signer& key, F before_sign) {
    m.payloads.emplace_back(sign_payload{sign_type::rsa_pkcs1_v1_5, bytes(key.signature_len(), 0)});
    auto b = encode(m);
    if (!b) return b.err();
    if (auto r = before_sign(*b); !r) return r.err();
    const std::size_t at = b->size() - key.signature_len();
    auto sig = key.sign(std::span<const uint8_t>(b->data(), at));
    if (!sig) return sig.err();
    if (sig->size() != key.signature_len()) return engine::make_error(engine::errc::backend_failure, "signature length");
    std::copy(sig->begin(), sig->end(), b->begin() + static_cast<std::ptrdiff_t>(at));
    return b;
}
} // namespace

engine::result<bytes> encode_with_sign(message m, const signer& key) {
    return encode_signed(std::move(m), key, [](bytes&) { return engine::result<void>{}; });
}

engine::result<bytes> encode_with_mac_and_sign(message m, std::span<const uint8_t> auth_key, const signer& key) {
    return encode_signed(std::move(m), key, [&](bytes& b) -> engine::result<void> {
        // Where the encoder put the KEMAC MAC: decode our own octets rather than re-derive offsets.
        auto d = decode(b);
        if (!d) return d.err();
        const std::size_t k = d->index_of<kemac_payload>();
        if (k == d->payloads.size()) return engine::make_error(engine::errc::invalid_argument, "PK message without KEMAC");
        const std::size_t at = d->spans[k].auth_field;
        auto mac = hmac_sha1(auth_key, std::span<const uint8_t>(b.data(), at));
        if (!mac) return mac.err();
        std::copy(mac->begin(), mac->end(), b.begin() + static_cast<std::ptrdiff_t>(at));
        return {};
    });
}

bytes id_of(const message& m, id_role role) {
    // Plain ID payloads appear in initiator order: IDi first, IDr second (§3.1).
    for (const auto* r : m.all<idr_payload>())
        if (r->role == role) return r->data;
    auto ids = m.all<id_payload>();
    const std::size_t i = role == id_role::initiator ? 0 : 1;
    return i < ids.size() ? ids[i]->data : bytes{};
}

bytes verification_suffix(const message& i_msg) {
    bytes s = id_of(i_msg, id_role::initiator);
    const bytes r = id_of(i_msg, id_role::responder);
    s.insert(s.end(), r.begin(), r.end());
    if (const auto* t = i_msg.find<t_payload>()) {
        const bytes v = t->wire_value();
        s.insert(s.end(), v.begin(), v.end());
    }
    return s;
}

std::optional<failure> check_policies(const message& m) {
    for (const auto* sp : m.all<sp_payload>()) {
        auto p = policy_from_sp(*sp);
        if (!p) return fail(error_no::invalid_sppar, p.err().message);
    }
    return std::nullopt;
}

namespace {
std::optional<failure> key_session(crypto_session& cs, const srtp_policy& pol, std::span<const uint8_t> key,
                                   std::span<const uint8_t> salt, const key_validity& kv) {
    const auto& t = engine::traits(pol.suite);
    if (key.size() != t.master_key_len || salt.size() != t.master_salt_len)
        return fail(error_no::invalid_sppar, "TEK/salt lengths (" + std::to_string(key.size()) + "/" +
                                                 std::to_string(salt.size()) + ") do not match " + std::string(t.name));
    secret_bytes ks(key.size() + salt.size());
    std::copy(key.begin(), key.end(), ks.mut().begin());
    std::copy(salt.begin(), salt.end(), ks.mut().begin() + static_cast<std::ptrdiff_t>(key.size()));
    auto buf = engine::key_salt_buffer::from(std::as_bytes(ks.view()));
    if (!buf) return fail(error_no::invalid_sppar, buf.err().message);
    cs.keying.suite = pol.suite;
    cs.keying.local.key_salt = *buf;
    cs.keying.remote.key_salt = std::move(*buf);
    if (kv.type == kv_type::spi && !kv.spi.empty()) {
        for (auto b : kv.spi) cs.keying.local.mki.push_back(std::byte{b});
        cs.keying.remote.mki = cs.keying.local.mki;
    }
    cs.keying.params.unencrypted_srtp = pol.unencrypted_srtp;
    cs.keying.params.unencrypted_srtcp = pol.unencrypted_srtcp;
    cs.keying.params.unauthenticated_srtp = pol.unauthenticated_srtp;
    cs.keying.protocol = "mikey";
    return std::nullopt;
}
} // namespace

std::optional<failure> build_sessions(const message& m, const key_source& src, std::span<const uint8_t> rand,
                                      std::vector<crypto_session>& out) {
    out.clear();
    const header& h = m.hdr;
    std::vector<srtp_cs> map = h.cs;
    const bool empty_map = h.map_type == cs_id_map_type::empty;
    if (empty_map) map.assign(1, srtp_cs{});
    if (map.empty()) return fail(error_no::invalid_sp, "HDR: no crypto session in the SRTP-ID map");
    if (src.keys && src.keys->size() != 1 && src.keys->size() != map.size())
        return fail(error_no::unspecified, "KEMAC: " + std::to_string(src.keys->size()) + " TEKs for " +
                                               std::to_string(map.size()) + " crypto sessions");
    for (std::size_t i = 0; i < map.size(); ++i) {
        crypto_session cs;
        cs.cs_id = static_cast<uint8_t>(i + 1);
        if (!empty_map) cs.ssrc = map[i].ssrc;
        cs.policy_no = map[i].policy_no;
        cs.keying.params.initial_roc = map[i].roc;
        srtp_policy pol = default_policy();
        bool found = false;
        for (const auto* sp : m.all<sp_payload>())
            if (sp->policy_no == cs.policy_no) {
                auto p = policy_from_sp(*sp);
                if (!p) return fail(error_no::invalid_sppar, p.err().message);
                pol = *p;
                found = true;
                break;
            }
        if (!found && !m.all<sp_payload>().empty())
            return fail(error_no::invalid_sp, "CS " + std::to_string(cs.cs_id) + " names policy " +
                                                  std::to_string(cs.policy_no) + ", which no SP payload defines");
        const auto& t = engine::traits(pol.suite);
        std::optional<failure> f;
        if (src.keys) {
            const key_data& kd = (*src.keys)[src.keys->size() == 1 ? 0 : i];
            if (kd.type == key_data_type::tgk || kd.type == key_data_type::tgk_salt) {
                auto k = derive_tek(kd.key.view(), cs.cs_id, h.csb_id, rand, t.master_key_len, t.master_salt_len);
                if (!k) return fail(error_no::unspecified, k.err().message);
                f = key_session(cs, pol, k->tek.view(), k->salt.view(), kd.kv);
            } else {
                if (kd.type != key_data_type::tek_salt)
                    return fail(error_no::invalid_sppar, "KEY_DATA TEK without salt: SRTP needs a master salt");
                f = key_session(cs, pol, kd.key.view(), kd.salt.view(), kd.kv);
            }
        } else {
            auto k = derive_tek(src.tgk, cs.cs_id, h.csb_id, rand, t.master_key_len, t.master_salt_len);
            if (!k) return fail(error_no::unspecified, k.err().message);
            f = key_session(cs, pol, k->tek.view(), k->salt.view(), key_validity{});
        }
        if (f) return f;
        out.push_back(std::move(cs));
    }
    return std::nullopt;
}

} // namespace detail
} // namespace srtpo::cp::mikey
