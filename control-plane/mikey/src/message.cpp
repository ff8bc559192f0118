// The MIKEY message container: HDR, then the payload chain linked by next-payload octets
// (RFC 3830 §6). SIGN carries no next-payload octet and so ends the chain (§6.5).
#include "wire.hpp"

namespace srtpo::cp::mikey {

payload_type type_of(const payload& p) noexcept {
    static constexpr payload_type types[] = {
        payload_type::kemac, payload_type::pke, payload_type::dh, payload_type::sign, payload_type::t,
        payload_type::id, payload_type::idr, payload_type::cert, payload_type::chash, payload_type::v,
        payload_type::sp, payload_type::rand, payload_type::err, payload_type::general_ext};
    static_assert(std::size(types) == std::variant_size_v<payload>);
    return types[p.index()];
}

namespace {

engine::error bad(const std::string& m) { return engine::make_error(engine::errc::invalid_argument, m); }

template <class P, class F>
bool read_as(wire::reader& r, message& m, F f) {
    P p;
    if (!f(r, p)) return false;
    m.payloads.emplace_back(std::move(p));
    return true;
}

/// Decodes one payload body of type t (after its next-payload octet), noting its auth field.
bool decode_body(wire::reader& r, payload_type t, message& m, std::size_t& auth_at) {
    using namespace wire;
    switch (t) {
    case payload_type::kemac: return read_as<kemac_payload>(r, m, [&](reader& x, kemac_payload& p) { return decode_kemac(x, p, auth_at); });
    case payload_type::pke: return read_as<pke_payload>(r, m, decode_pke);
    case payload_type::dh: return read_as<dh_payload>(r, m, decode_dh);
    case payload_type::t: return read_as<t_payload>(r, m, decode_t);
    case payload_type::id: return read_as<id_payload>(r, m, decode_id);
    case payload_type::idr: return read_as<idr_payload>(r, m, decode_idr);
    case payload_type::cert: return read_as<cert_payload>(r, m, decode_cert);
    case payload_type::chash: return read_as<chash_payload>(r, m, decode_chash);
    case payload_type::v: return read_as<v_payload>(r, m, [&](reader& x, v_payload& p) { return decode_v(x, p, auth_at); });
    case payload_type::sp: return read_as<sp_payload>(r, m, decode_sp);
    case payload_type::rand: return read_as<rand_payload>(r, m, decode_rand);
    case payload_type::err: return read_as<err_payload>(r, m, decode_err);
    case payload_type::general_ext: return read_as<general_ext_payload>(r, m, decode_general_ext);
    default:
        return r.fail("payload type " + std::to_string(static_cast<unsigned>(t)) +
                      " is not a MIKEY payload that may appear in a message");
    }
}

} // namespace

engine::result<message> decode(std::span<const uint8_t> in) {
    if (in.size() > max_message_len) return bad("message longer than 65535 octets");
    wire::reader r(in);
    message m;
    payload_type next{};
    if (in.size() >= 1 && in[0] != mikey_version)
        return engine::make_error(engine::errc::unsupported, "HDR version " + std::to_string(in[0]) + " is not 1");
    if (!wire::decode_header(r, m.hdr, next)) return bad(r.error());
    while (next != payload_type::last) {
        if (m.payloads.size() >= max_payloads) return bad("more than 64 payloads");
        payload_span s;
        s.begin = r.pos();
        std::size_t auth_at = 0;
        if (next == payload_type::sign) {
            sign_payload p;
            if (!wire::decode_sign(r, p, auth_at)) return bad(r.error());
            m.payloads.emplace_back(std::move(p));
            s.end = r.pos();
            s.auth_field = auth_at;
            m.spans.push_back(s);
            break; // SIGN is always last (§6.5)
        }
        uint8_t nx;
        if (!r.u8(nx, "next payload")) return bad(r.error());
        if (!decode_body(r, next, m, auth_at)) return bad(r.error());
        s.end = r.pos();
        s.auth_field = auth_at ? auth_at : s.end;
        m.spans.push_back(s);
        next = static_cast<payload_type>(nx);
    }
    if (r.left() != 0) return bad(std::to_string(r.left()) + " octets after the last payload");
    return m;
}

engine::result<bytes> encode(const message& m) {
    wire::writer w;
    const auto& ps = m.payloads;
    if (ps.size() > max_payloads) return bad("more than 64 payloads");
    if (!wire::encode_header(w, m.hdr, ps.empty() ? payload_type::last : type_of(ps[0]))) return bad(w.error());
    for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto t = type_of(ps[i]);
        const auto nx = i + 1 < ps.size() ? type_of(ps[i + 1]) : payload_type::last;
        if (t == payload_type::sign) {
            if (i + 1 != ps.size()) return bad("SIGN must be the last payload (RFC 3830 §6.5)");
        } else {
            w.u8(static_cast<uint8_t>(nx));
        }
        const bool ok = std::visit(
            [&](const auto& p) -> bool {
                using P = std::decay_t<decltype(p)>;
                using namespace wire;
                if constexpr (std::is_same_v<P, kemac_payload>) return encode_kemac(w, p);
                else if constexpr (std::is_same_v<P, pke_payload>) return encode_pke(w, p);
                else if constexpr (std::is_same_v<P, dh_payload>) return encode_dh(w, p);
                else if constexpr (std::is_same_v<P, sign_payload>) return encode_sign(w, p);
                else if constexpr (std::is_same_v<P, t_payload>) return encode_t(w, p);
                else if constexpr (std::is_same_v<P, id_payload>) return encode_id(w, p);
                else if constexpr (std::is_same_v<P, idr_payload>) return encode_idr(w, p);
                else if constexpr (std::is_same_v<P, cert_payload>) return encode_cert(w, p);
                else if constexpr (std::is_same_v<P, chash_payload>) return encode_chash(w, p);
                else if constexpr (std::is_same_v<P, v_payload>) return encode_v(w, p);
                else if constexpr (std::is_same_v<P, sp_payload>) return encode_sp(w, p);
                else if constexpr (std::is_same_v<P, rand_payload>) return encode_rand(w, p);
                else if constexpr (std::is_same_v<P, err_payload>) return encode_err(w, p);
                else return encode_general_ext(w, p);
            },
            ps[i]);
        if (!ok) return bad(w.error());
    }
    if (w.out.size() > max_message_len) return bad("message longer than 65535 octets");
    return std::move(w.out);
}

} // namespace srtpo::cp::mikey
