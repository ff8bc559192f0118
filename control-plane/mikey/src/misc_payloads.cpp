// ERR (RFC 3830 §6.12) and General Extension (§6.15) codecs.
#include "wire.hpp"

namespace srtpo::cp::mikey::wire {

bool decode_err(reader& r, err_payload& p) {
    uint8_t e;
    uint16_t reserved;
    if (!r.u8(e, "ERR err no") || !r.u16(reserved, "ERR reserved")) return false;
    if (e > static_cast<uint8_t>(error_no::unspecified)) return r.fail("ERR err no " + std::to_string(e) + " is unknown");
    p.err = static_cast<error_no>(e);
    return true;
}
bool encode_err(writer& w, const err_payload& p) {
    w.u8(static_cast<uint8_t>(p.err));
    w.u16(0);
    return true;
}

bool decode_general_ext(reader& r, general_ext_payload& p) {
    uint16_t n;
    if (!r.u8(p.type, "GENERAL EXT type") || !r.u16(n, "GENERAL EXT length")) return false;
    return r.take(n, p.data, "GENERAL EXT data");
}
bool encode_general_ext(writer& w, const general_ext_payload& p) {
    if (!w.fits(p.data.size(), 16, "GENERAL EXT data")) return false;
    w.u8(p.type);
    w.u16(static_cast<uint16_t>(p.data.size()));
    w.put(p.data);
    return true;
}

} // namespace srtpo::cp::mikey::wire
