// Bounds-checked reader and length-checked writer shared by the MIKEY payload codecs.
#include "wire.hpp"

namespace srtpo::cp::mikey::wire {

bool reader::need(std::size_t n, const char* what) {
    if (left() >= n) return true;
    return fail(std::string(what) + ": truncated (needs " + std::to_string(n) + " octets, " +
                std::to_string(left()) + " left)");
}
bool reader::fail(std::string msg) {
    if (_err.empty()) _err = std::move(msg);
    return false;
}
bool reader::u8(uint8_t& v, const char* what) {
    if (!need(1, what)) return false;
    v = _b[_pos++];
    return true;
}
bool reader::u16(uint16_t& v, const char* what) {
    if (!need(2, what)) return false;
    v = static_cast<uint16_t>(_b[_pos] << 8 | _b[_pos + 1]);
    _pos += 2;
    return true;
}
bool reader::u32(uint32_t& v, const char* what) {
    if (!need(4, what)) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | _b[_pos++];
    return true;
}
bool reader::u64(uint64_t& v, const char* what) {
    if (!need(8, what)) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | _b[_pos++];
    return true;
}
bool reader::take(std::size_t n, bytes& out, const char* what) {
    if (!need(n, what)) return false;
    out.assign(_b.begin() + static_cast<std::ptrdiff_t>(_pos), _b.begin() + static_cast<std::ptrdiff_t>(_pos + n));
    _pos += n;
    return true;
}
bool reader::take(std::size_t n, secret_bytes& out, const char* what) {
    if (!need(n, what)) return false;
    out = secret_bytes(_b.subspan(_pos, n));
    _pos += n;
    return true;
}

void writer::u16(uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
void writer::u32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void writer::u64(uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
bool writer::fits(std::size_t n, unsigned bits, const char* what) {
    if (n < (std::size_t{1} << bits)) return true;
    return fail(std::string(what) + ": " + std::to_string(n) + " octets do not fit a " +
                std::to_string(bits) + "-bit length field");
}
bool writer::fail(std::string msg) {
    if (_err.empty()) _err = std::move(msg);
    return false;
}

} // namespace srtpo::cp::mikey::wire
