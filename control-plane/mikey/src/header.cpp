// HDR codec (RFC 3830 §6.1) with the SRTP-ID map (§6.1.1) and the Empty map (RFC 4563 §4).
#include "wire.hpp"

namespace srtpo::cp::mikey::wire {

namespace {
bool known_data_type(uint8_t v) { return v <= static_cast<uint8_t>(data_type::rsa_r_resp); }
} // namespace

bool decode_header(reader& r, header& h, payload_type& first) {
    uint8_t ver, dt, next, vprf, ncs, map;
    if (!r.u8(ver, "HDR version") || !r.u8(dt, "HDR data type") || !r.u8(next, "HDR next payload") ||
        !r.u8(vprf, "HDR V/PRF") || !r.u32(h.csb_id, "HDR CSB ID") || !r.u8(ncs, "HDR #CS") ||
        !r.u8(map, "HDR CS ID map type"))
        return false;
    h.version = ver;
    if (!known_data_type(dt)) return r.fail("HDR data type " + std::to_string(dt) + " is not a MIKEY data type");
    h.type = static_cast<data_type>(dt);
    h.v = (vprf & 0x80) != 0;
    if ((vprf & 0x7f) != 0) return r.fail("HDR PRF func " + std::to_string(vprf & 0x7f) + " is not MIKEY-1");
    h.prf = prf_func::mikey_1;
    first = static_cast<payload_type>(next);
    h.cs.clear();
    if (map == static_cast<uint8_t>(cs_id_map_type::srtp_id)) {
        h.map_type = cs_id_map_type::srtp_id;
        h.n_cs_empty_map = 0;
        for (unsigned i = 0; i < ncs; ++i) {
            srtp_cs c;
            if (!r.u8(c.policy_no, "HDR SRTP-ID map policy no") || !r.u32(c.ssrc, "HDR SRTP-ID map SSRC") ||
                !r.u32(c.roc, "HDR SRTP-ID map ROC"))
                return false;
            h.cs.push_back(c);
        }
    } else if (map == static_cast<uint8_t>(cs_id_map_type::empty)) {
        h.map_type = cs_id_map_type::empty;
        h.n_cs_empty_map = ncs;
    } else {
        return r.fail("HDR CS ID map type " + std::to_string(map) + " is not SRTP-ID (0) or Empty (1)");
    }
    return true;
}

bool encode_header(writer& w, const header& h, payload_type first) {
    if (h.map_type == cs_id_map_type::srtp_id && !w.fits(h.cs.size(), 8, "HDR #CS")) return false;
    if (h.map_type == cs_id_map_type::empty && !h.cs.empty())
        return w.fail("HDR: the Empty map carries no SRTP-ID entries");
    w.u8(h.version);
    w.u8(static_cast<uint8_t>(h.type));
    w.u8(static_cast<uint8_t>(first));
    w.u8(static_cast<uint8_t>((h.v ? 0x80 : 0) | static_cast<uint8_t>(h.prf)));
    w.u32(h.csb_id);
    w.u8(h.n_cs());
    w.u8(static_cast<uint8_t>(h.map_type));
    for (const auto& c : h.cs) {
        w.u8(c.policy_no);
        w.u32(c.ssrc);
        w.u32(c.roc);
    }
    return true;
}

} // namespace srtpo::cp::mikey::wire
