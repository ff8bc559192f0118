#pragma once
// Private: the bounds-checked cursor every MIKEY payload decoder reads through, the writer the
// encoders append to, and the per-family payload codecs the message codec dispatches to.
// Decoders see the payload body after its next-payload octet (RFC 3830 §6: that octet belongs
// to the chain, not to the payload's meaning).

#include <srtpo/cp/mikey/message.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace srtpo::cp::mikey::wire {

class reader {
public:
    explicit reader(std::span<const uint8_t> b) noexcept : _b(b) {}
    std::size_t pos() const noexcept { return _pos; }
    std::size_t left() const noexcept { return _b.size() - _pos; }
    bool u8(uint8_t& v, const char* what);
    bool u16(uint16_t& v, const char* what);
    bool u32(uint32_t& v, const char* what);
    bool u64(uint64_t& v, const char* what);
    bool take(std::size_t n, bytes& out, const char* what);
    bool take(std::size_t n, secret_bytes& out, const char* what);
    /// Records a semantic error (the first one wins) and returns false.
    bool fail(std::string msg);
    const std::string& error() const noexcept { return _err; }

private:
    bool need(std::size_t n, const char* what);
    std::span<const uint8_t> _b;
    std::size_t _pos = 0;
    std::string _err;
};

class writer {
public:
    void u8(uint8_t v) { out.push_back(v); }
    void u16(uint16_t v);
    void u32(uint32_t v);
    void u64(uint64_t v);
    void put(std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
    /// Checks that n fits in `bits` bits; records an error naming `what` if not.
    bool fits(std::size_t n, unsigned bits, const char* what);
    bool fail(std::string msg);
    const std::string& error() const noexcept { return _err; }
    bytes out;

private:
    std::string _err;
};

// Per-family payload bodies (the octets after next payload).
bool decode_header(reader& r, header& h, payload_type& first);
bool encode_header(writer& w, const header& h, payload_type first);
bool decode_t(reader& r, t_payload& p);
bool encode_t(writer& w, const t_payload& p);
bool decode_rand(reader& r, rand_payload& p);
bool encode_rand(writer& w, const rand_payload& p);
bool decode_id(reader& r, id_payload& p);
bool encode_id(writer& w, const id_payload& p);
bool decode_idr(reader& r, idr_payload& p);
bool encode_idr(writer& w, const idr_payload& p);
bool decode_cert(reader& r, cert_payload& p);
bool encode_cert(writer& w, const cert_payload& p);
bool decode_chash(reader& r, chash_payload& p);
bool encode_chash(writer& w, const chash_payload& p);
bool decode_kemac(reader& r, kemac_payload& p, std::size_t& mac_at);
bool encode_kemac(writer& w, const kemac_payload& p);
bool decode_pke(reader& r, pke_payload& p);
bool encode_pke(writer& w, const pke_payload& p);
bool decode_dh(reader& r, dh_payload& p);
bool encode_dh(writer& w, const dh_payload& p);
/// SIGN has no next-payload octet: the reader stands on its first octet.
bool decode_sign(reader& r, sign_payload& p, std::size_t& sig_at);
bool encode_sign(writer& w, const sign_payload& p);
bool decode_v(reader& r, v_payload& p, std::size_t& mac_at);
bool encode_v(writer& w, const v_payload& p);
bool decode_sp(reader& r, sp_payload& p);
bool encode_sp(writer& w, const sp_payload& p);
bool decode_err(reader& r, err_payload& p);
bool encode_err(writer& w, const err_payload& p);
bool decode_general_ext(reader& r, general_ext_payload& p);
bool encode_general_ext(writer& w, const general_ext_payload& p);
bool decode_kv(reader& r, kv_type t, key_validity& kv, const char* where);
bool encode_kv(writer& w, const key_validity& kv);

} // namespace srtpo::cp::mikey::wire
