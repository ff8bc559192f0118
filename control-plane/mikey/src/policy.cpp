// SP codec (RFC 3830 §6.10): Policy no, Prot type, then a length-prefixed list of
// type/length/value parameters.
#include "wire.hpp"

namespace srtpo::cp::mikey {

const sp_param* sp_payload::find(srtp_param t) const noexcept {
    for (const auto& p : params)
        if (p.type == static_cast<uint8_t>(t)) return &p;
    return nullptr;
}
std::optional<uint32_t> sp_payload::uint(srtp_param t) const noexcept {
    const auto* p = find(t);
    if (!p || p->value.empty() || p->value.size() > 4) return std::nullopt;
    uint32_t v = 0;
    for (auto b : p->value) v = v << 8 | b;
    return v;
}
void sp_payload::add(srtp_param t, uint32_t v, uint8_t len) {
    sp_param p{static_cast<uint8_t>(t), {}};
    for (int i = len - 1; i >= 0; --i) p.value.push_back(static_cast<uint8_t>(v >> (8 * i)));
    params.push_back(std::move(p));
}

namespace wire {

bool decode_sp(reader& r, sp_payload& p) {
    uint8_t pt;
    uint16_t n;
    if (!r.u8(p.policy_no, "SP policy no") || !r.u8(pt, "SP prot type") || !r.u16(n, "SP policy param length"))
        return false;
    if (pt != static_cast<uint8_t>(prot_type::srtp)) return r.fail("SP prot type " + std::to_string(pt) + " is not SRTP");
    p.prot = prot_type::srtp;
    bytes body;
    if (!r.take(n, body, "SP policy params")) return false;
    reader pr(body);
    while (pr.left() > 0) {
        sp_param q;
        uint8_t len;
        if (!pr.u8(q.type, "SP param type") || !pr.u8(len, "SP param length") || !pr.take(len, q.value, "SP param value"))
            return r.fail(pr.error());
        p.params.push_back(std::move(q));
    }
    return true;
}
bool encode_sp(writer& w, const sp_payload& p) {
    std::size_t n = 0;
    for (const auto& q : p.params) {
        if (!w.fits(q.value.size(), 8, "SP param value")) return false;
        n += 2 + q.value.size();
    }
    if (!w.fits(n, 16, "SP policy params")) return false;
    w.u8(p.policy_no);
    w.u8(static_cast<uint8_t>(p.prot));
    w.u16(static_cast<uint16_t>(n));
    for (const auto& q : p.params) {
        w.u8(q.type);
        w.u8(static_cast<uint8_t>(q.value.size()));
        w.put(q.value);
    }
    return true;
}

} // namespace wire
} // namespace srtpo::cp::mikey
