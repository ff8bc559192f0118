// KEMAC (RFC 3830 §6.2), PKE (§6.3), DH (§6.4), SIGN (§6.5) and V (§6.9) codecs.
#include "wire.hpp"

namespace srtpo::cp::mikey::wire {

namespace {
bool mac_alg_ok(reader& r, uint8_t a, const char* where) {
    if (a <= static_cast<uint8_t>(mac_alg::hmac_sha1_160)) return true;
    return r.fail(std::string(where) + " MAC alg " + std::to_string(a) + " is unknown");
}
} // namespace

bool decode_kemac(reader& r, kemac_payload& p, std::size_t& mac_at) {
    uint8_t ea, ma;
    uint16_t n;
    if (!r.u8(ea, "KEMAC encr alg") || !r.u16(n, "KEMAC encr data len")) return false;
    if (ea > static_cast<uint8_t>(encr_alg::aes_kw_128)) return r.fail("KEMAC encr alg " + std::to_string(ea) + " is unknown");
    p.encr = static_cast<encr_alg>(ea);
    if (!r.take(n, p.encr_data, "KEMAC encr data") || !r.u8(ma, "KEMAC MAC alg") || !mac_alg_ok(r, ma, "KEMAC"))
        return false;
    p.mac = static_cast<mac_alg>(ma);
    mac_at = r.pos();
    return r.take(mac_len(p.mac), p.mac_value, "KEMAC MAC");
}
bool encode_kemac(writer& w, const kemac_payload& p) {
    if (!w.fits(p.encr_data.size(), 16, "KEMAC encr data")) return false;
    if (p.mac_value.size() != mac_len(p.mac)) return w.fail("KEMAC: MAC length does not match its algorithm");
    w.u8(static_cast<uint8_t>(p.encr));
    w.u16(static_cast<uint16_t>(p.encr_data.size()));
    w.put(p.encr_data);
    w.u8(static_cast<uint8_t>(p.mac));
    w.put(p.mac_value);
    return true;
}

bool decode_pke(reader& r, pke_payload& p) {
    uint16_t cl;
    if (!r.u16(cl, "PKE C/data len")) return false;
    if ((cl >> 14) > 2) return r.fail("PKE C " + std::to_string(cl >> 14) + " is unknown");
    p.cache = static_cast<pke_cache>(cl >> 14);
    return r.take(cl & 0x3fff, p.data, "PKE data");
}
bool encode_pke(writer& w, const pke_payload& p) {
    if (!w.fits(p.data.size(), 14, "PKE data")) return false;
    w.u16(static_cast<uint16_t>(static_cast<unsigned>(p.cache) << 14 | p.data.size()));
    w.put(p.data);
    return true;
}

bool decode_dh(reader& r, dh_payload& p) {
    uint8_t g, kv;
    if (!r.u8(g, "DH group")) return false;
    if (g > static_cast<uint8_t>(dh_group::oakley2)) return r.fail("DH group " + std::to_string(g) + " is unknown");
    p.group = static_cast<dh_group>(g);
    if (!r.take(dh_value_len(p.group), p.value, "DH value") || !r.u8(kv, "DH reserved/KV")) return false;
    if ((kv & 15) > 2) return r.fail("DH KV type " + std::to_string(kv & 15) + " is unknown");
    return decode_kv(r, static_cast<kv_type>(kv & 15), p.kv, "DH KV data");
}
bool encode_dh(writer& w, const dh_payload& p) {
    if (p.value.size() != dh_value_len(p.group)) return w.fail("DH: value length does not match its group");
    w.u8(static_cast<uint8_t>(p.group));
    w.put(p.value);
    w.u8(static_cast<uint8_t>(p.kv.type));
    return encode_kv(w, p.kv);
}

bool decode_sign(reader& r, sign_payload& p, std::size_t& sig_at) {
    uint16_t tl;
    if (!r.u16(tl, "SIGN type/len")) return false;
    if ((tl >> 12) > 1) return r.fail("SIGN S type " + std::to_string(tl >> 12) + " is unknown");
    p.type = static_cast<sign_type>(tl >> 12);
    sig_at = r.pos();
    return r.take(tl & 0x0fff, p.signature, "SIGN signature");
}
bool encode_sign(writer& w, const sign_payload& p) {
    if (!w.fits(p.signature.size(), 12, "SIGN signature")) return false;
    w.u16(static_cast<uint16_t>(static_cast<unsigned>(p.type) << 12 | p.signature.size()));
    w.put(p.signature);
    return true;
}

bool decode_v(reader& r, v_payload& p, std::size_t& mac_at) {
    uint8_t ma;
    if (!r.u8(ma, "V MAC alg") || !mac_alg_ok(r, ma, "V")) return false;
    p.mac = static_cast<mac_alg>(ma);
    mac_at = r.pos();
    return r.take(mac_len(p.mac), p.ver_data, "V ver data");
}
bool encode_v(writer& w, const v_payload& p) {
    if (p.ver_data.size() != mac_len(p.mac)) return w.fail("V: ver data length does not match its MAC alg");
    w.u8(static_cast<uint8_t>(p.mac));
    w.put(p.ver_data);
    return true;
}

} // namespace srtpo::cp::mikey::wire
