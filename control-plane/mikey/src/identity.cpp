// ID, IDR (RFC 6043 §6.6), CERT (RFC 3830 §6.7) and CHASH (§6.8) codecs.
#include "wire.hpp"

namespace srtpo::cp::mikey::wire {

namespace {
bool id_type_ok(reader& r, uint8_t t, const char* where) {
    if (t <= static_cast<uint8_t>(id_type::byte_string)) return true;
    return r.fail(std::string(where) + " ID type " + std::to_string(t) + " is unknown");
}
} // namespace

bool decode_id(reader& r, id_payload& p) {
    uint8_t t;
    uint16_t n;
    if (!r.u8(t, "ID type") || !id_type_ok(r, t, "ID") || !r.u16(n, "ID len")) return false;
    p.type = static_cast<id_type>(t);
    return r.take(n, p.data, "ID data");
}
bool encode_id(writer& w, const id_payload& p) {
    if (!w.fits(p.data.size(), 16, "ID data")) return false;
    w.u8(static_cast<uint8_t>(p.type));
    w.u16(static_cast<uint16_t>(p.data.size()));
    w.put(p.data);
    return true;
}

bool decode_idr(reader& r, idr_payload& p) {
    uint8_t role, t;
    uint16_t n;
    if (!r.u8(role, "IDR role") || !r.u8(t, "IDR ID type") || !id_type_ok(r, t, "IDR") || !r.u16(n, "IDR len"))
        return false;
    if (role < 1 || role > 5) return r.fail("IDR role " + std::to_string(role) + " is unknown");
    p.role = static_cast<id_role>(role);
    p.type = static_cast<id_type>(t);
    return r.take(n, p.data, "IDR data");
}
bool encode_idr(writer& w, const idr_payload& p) {
    if (!w.fits(p.data.size(), 16, "IDR data")) return false;
    w.u8(static_cast<uint8_t>(p.role));
    w.u8(static_cast<uint8_t>(p.type));
    w.u16(static_cast<uint16_t>(p.data.size()));
    w.put(p.data);
    return true;
}

bool decode_cert(reader& r, cert_payload& p) {
    uint8_t t;
    uint16_t n;
    if (!r.u8(t, "CERT type") || !r.u16(n, "CERT len")) return false;
    if (t > static_cast<uint8_t>(cert_type::x509v3_encr)) return r.fail("CERT type " + std::to_string(t) + " is unknown");
    p.type = static_cast<cert_type>(t);
    return r.take(n, p.data, "CERT data");
}
bool encode_cert(writer& w, const cert_payload& p) {
    if (!w.fits(p.data.size(), 16, "CERT data")) return false;
    w.u8(static_cast<uint8_t>(p.type));
    w.u16(static_cast<uint16_t>(p.data.size()));
    w.put(p.data);
    return true;
}

bool decode_chash(reader& r, chash_payload& p) {
    uint8_t f;
    if (!r.u8(f, "CHASH hash func")) return false;
    if (f > static_cast<uint8_t>(hash_func::md5)) return r.fail("CHASH hash func " + std::to_string(f) + " is unknown");
    p.func = static_cast<hash_func>(f);
    return r.take(p.func == hash_func::sha1 ? 20 : 16, p.hash, "CHASH hash");
}
bool encode_chash(writer& w, const chash_payload& p) {
    if (p.hash.size() != (p.func == hash_func::sha1 ? 20u : 16u)) return w.fail("CHASH: hash length does not match its function");
    w.u8(static_cast<uint8_t>(p.func));
    w.put(p.hash);
    return true;
}

} // namespace srtpo::cp::mikey::wire
