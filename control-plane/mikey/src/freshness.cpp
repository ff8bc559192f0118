// T (RFC 3830 §6.6) and RAND (§6.11) codecs, NTP time conversion.
#include "wire.hpp"

namespace srtpo::cp::mikey {

bytes t_payload::wire_value() const {
    wire::writer w;
    if (type == ts_type::counter) w.u32(static_cast<uint32_t>(value));
    else w.u64(value);
    return w.out;
}

// NTP era 0 starts 1900-01-01, 2208988800 s before the Unix epoch (RFC 5905 §6).
static constexpr uint64_t ntp_unix_offset = 2208988800ull;

uint64_t ntp_from_time(std::chrono::system_clock::time_point t) noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    if (ns < 0) ns = 0;
    const auto un = static_cast<uint64_t>(ns);
    const uint64_t sec = un / 1000000000ull + ntp_unix_offset;
    const uint64_t frac = ((un % 1000000000ull) << 32) / 1000000000ull;
    return sec << 32 | (frac & 0xffffffffull);
}

std::chrono::system_clock::time_point time_from_ntp(uint64_t ntp) noexcept {
    const uint64_t sec = ntp >> 32;
    const uint64_t frac = ntp & 0xffffffffull;
    const int64_t unix_s = static_cast<int64_t>(sec) - static_cast<int64_t>(ntp_unix_offset);
    const auto ns = static_cast<int64_t>((frac * 1000000000ull) >> 32);
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(unix_s) + std::chrono::nanoseconds(ns)));
}

namespace wire {

bool decode_t(reader& r, t_payload& p) {
    uint8_t t;
    if (!r.u8(t, "T TS type")) return false;
    if (t > static_cast<uint8_t>(ts_type::counter)) return r.fail("T TS type " + std::to_string(t) + " is unknown");
    p.type = static_cast<ts_type>(t);
    if (p.type == ts_type::counter) {
        uint32_t v;
        if (!r.u32(v, "T TS value (COUNTER)")) return false;
        p.value = v;
        return true;
    }
    return r.u64(p.value, "T TS value (NTP)");
}
bool encode_t(writer& w, const t_payload& p) {
    if (p.type == ts_type::counter && p.value > 0xffffffffull) return w.fail("T: a COUNTER value has 32 bits");
    w.u8(static_cast<uint8_t>(p.type));
    w.put(p.wire_value());
    return true;
}

bool decode_rand(reader& r, rand_payload& p) {
    uint8_t n;
    if (!r.u8(n, "RAND len")) return false;
    if (n < min_rand_len) return r.fail("RAND: " + std::to_string(n) + " octets, RFC 3830 §6.11 asks for at least 16");
    return r.take(n, p.rand, "RAND value");
}
bool encode_rand(writer& w, const rand_payload& p) {
    if (!w.fits(p.rand.size(), 8, "RAND")) return false;
    w.u8(static_cast<uint8_t>(p.rand.size()));
    w.put(p.rand);
    return true;
}

} // namespace wire
} // namespace srtpo::cp::mikey
