// KEY_DATA sub-payload codec and the KEMAC plaintext chain (RFC 3830 §6.13, §6.2).
#include "wire.hpp"

#include <openssl/crypto.h>

namespace srtpo::cp::mikey {

namespace {
bool has_salt(key_data_type t) { return t == key_data_type::tgk_salt || t == key_data_type::tek_salt; }
engine::error bad(std::string m) { return engine::make_error(engine::errc::invalid_argument, std::move(m)); }
} // namespace

namespace wire {

bool decode_kv(reader& r, kv_type t, key_validity& kv, const char* where) {
    kv.type = t;
    uint8_t n;
    if (t == kv_type::spi) {
        return r.u8(n, where) && r.take(n, kv.spi, where);
    }
    if (t == kv_type::interval) {
        if (!r.u8(n, where) || !r.take(n, kv.valid_from, where)) return false;
        return r.u8(n, where) && r.take(n, kv.valid_to, where);
    }
    return true;
}
bool encode_kv(writer& w, const key_validity& kv) {
    if (kv.type == kv_type::spi) {
        if (!w.fits(kv.spi.size(), 8, "KV SPI")) return false;
        w.u8(static_cast<uint8_t>(kv.spi.size()));
        w.put(kv.spi);
    } else if (kv.type == kv_type::interval) {
        if (!w.fits(kv.valid_from.size(), 8, "KV Valid From") || !w.fits(kv.valid_to.size(), 8, "KV Valid To"))
            return false;
        w.u8(static_cast<uint8_t>(kv.valid_from.size()));
        w.put(kv.valid_from);
        w.u8(static_cast<uint8_t>(kv.valid_to.size()));
        w.put(kv.valid_to);
    }
    return true;
}

} // namespace wire

engine::result<kemac_plaintext> decode_kemac_plaintext(std::span<const uint8_t> in, bool leading_id) {
    wire::reader r(in);
    kemac_plaintext out;
    if (in.empty()) return bad("KEMAC: no KEY_DATA sub-payload");
    uint8_t next = 0;
    auto fail = [&]() { return bad(r.error()); };
    // The chain's first type is not written anywhere (§6.2): KEY_DATA, or an ID in PK mode
    // where the plaintext is IDi || {TGK} (§3.2); the caller says which.
    uint8_t cur = static_cast<uint8_t>(leading_id ? payload_type::id : payload_type::key_data);
    for (std::size_t n = 0;; ++n) {
        if (n >= max_payloads) return bad("KEMAC: too many sub-payloads");
        if (!r.u8(next, "KEY_DATA next payload")) return fail();
        if (cur == static_cast<uint8_t>(payload_type::id)) {
            id_payload id;
            if (!wire::decode_id(r, id)) return fail();
            out.ids.push_back(std::move(id));
        } else if (cur == static_cast<uint8_t>(payload_type::key_data)) {
            key_data kd;
            uint8_t tkv;
            uint16_t klen;
            if (!r.u8(tkv, "KEY_DATA type/KV") || !r.u16(klen, "KEY_DATA key data len")) return fail();
            if ((tkv >> 4) > 3) return bad("KEY_DATA type " + std::to_string(tkv >> 4) + " is unknown");
            if ((tkv & 15) > 2) return bad("KEY_DATA KV type " + std::to_string(tkv & 15) + " is unknown");
            kd.type = static_cast<key_data_type>(tkv >> 4);
            if (klen == 0) return bad("KEY_DATA: empty key");
            if (!r.take(klen, kd.key, "KEY_DATA key data")) return fail();
            if (has_salt(kd.type)) {
                uint16_t slen;
                if (!r.u16(slen, "KEY_DATA salt len") || !r.take(slen, kd.salt, "KEY_DATA salt data")) return fail();
            }
            if (!wire::decode_kv(r, static_cast<kv_type>(tkv & 15), kd.kv, "KEY_DATA KV data")) return fail();
            out.keys.push_back(std::move(kd));
        } else {
            return bad("KEMAC: sub-payload type " + std::to_string(cur) + " is not ID or KEY_DATA");
        }
        if (next == 0) break;
        cur = next;
    }
    if (r.left() != 0) return bad("KEMAC: " + std::to_string(r.left()) + " octets after the last sub-payload");
    if (out.keys.empty()) return bad("KEMAC: no KEY_DATA sub-payload");
    return out;
}

engine::result<secret_bytes> encode_kemac_plaintext(const kemac_plaintext& p) {
    wire::writer w;
    const std::size_t total = p.ids.size() + p.keys.size();
    std::size_t i = 0;
    auto next_of = [&](std::size_t idx) -> uint8_t {
        if (idx + 1 >= total) return 0;
        return static_cast<uint8_t>(idx + 1 < p.ids.size() ? payload_type::id : payload_type::key_data);
    };
    for (const auto& id : p.ids) {
        w.u8(next_of(i++));
        if (!wire::encode_id(w, id)) return bad(w.error());
    }
    for (const auto& k : p.keys) {
        w.u8(next_of(i++));
        if (has_salt(k.type) != !k.salt.empty()) return bad("KEY_DATA: salt present exactly for the +SALT types");
        if (!w.fits(k.key.size(), 16, "KEY_DATA key") || !w.fits(k.salt.size(), 16, "KEY_DATA salt"))
            return bad(w.error());
        w.u8(static_cast<uint8_t>(static_cast<uint8_t>(k.type) << 4 | static_cast<uint8_t>(k.kv.type)));
        w.u16(static_cast<uint16_t>(k.key.size()));
        w.put(k.key.view());
        if (has_salt(k.type)) {
            w.u16(static_cast<uint16_t>(k.salt.size()));
            w.put(k.salt.view());
        }
        if (!wire::encode_kv(w, k.kv)) return bad(w.error());
    }
    secret_bytes out(w.out);
    OPENSSL_cleanse(w.out.data(), w.out.size());
    return out;
}

} // namespace srtpo::cp::mikey
