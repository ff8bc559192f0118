#include <srtpo/cp/ice/stun_message.hpp>
#include <srtpo/cp/ice/stun_integrity.hpp>

#include <arpa/inet.h>

#include <algorithm>

namespace srtpo::cp::ice {
namespace {

using engine::errc;
using engine::make_error;

uint16_t be16(std::span<const std::byte> b, std::size_t at) noexcept {
    return static_cast<uint16_t>(static_cast<unsigned>(b[at]) << 8 | static_cast<unsigned>(b[at + 1]));
}

uint32_t be32(std::span<const std::byte> b, std::size_t at) noexcept {
    return static_cast<uint32_t>(be16(b, at)) << 16 | be16(b, at + 2);
}

void put16(std::vector<std::byte>& v, uint16_t x) {
    v.push_back(static_cast<std::byte>(x >> 8));
    v.push_back(static_cast<std::byte>(x & 0xff));
}

void put32(std::vector<std::byte>& v, uint32_t x) {
    put16(v, static_cast<uint16_t>(x >> 16));
    put16(v, static_cast<uint16_t>(x & 0xffff));
}

void set16(std::vector<std::byte>& v, std::size_t at, uint16_t x) {
    v[at] = static_cast<std::byte>(x >> 8);
    v[at + 1] = static_cast<std::byte>(x & 0xff);
}

engine::error bad(std::string what) { return make_error(errc::invalid_argument, "stun: " + std::move(what)); }

} // namespace

const stun_attribute* stun_message::find(uint16_t t) const noexcept {
    for (const auto& a : attributes)
        if (a.type == t) return &a;
    return nullptr;
}

bool looks_like_stun(std::span<const std::byte> d) noexcept {
    if (d.size() < header_len || (static_cast<uint8_t>(d[0]) & 0xC0) != 0) return false;
    const std::size_t len = be16(d, 2);
    return len % 4 == 0 && len == d.size() - header_len && be32(d, 4) == magic_cookie;
}

engine::result<stun_message> parse_stun(std::span<const std::byte> d) {
    if (d.size() < header_len) return bad("shorter than the 20-octet header");
    if ((static_cast<uint8_t>(d[0]) & 0xC0) != 0) return bad("the two most significant bits must be zero");
    const std::size_t len = be16(d, 2);
    if (len % 4 != 0) return bad("message length is not a multiple of 4");
    if (len != d.size() - header_len) return bad("message length field does not match the datagram");
    if (be32(d, 4) != magic_cookie) return bad("wrong magic cookie");
    stun_message m;
    m.type = be16(d, 0);
    std::copy_n(d.begin() + 8, transaction_id_len, m.tid.begin());
    m.raw = d;
    bool after_integrity = false, after_fingerprint = false;
    std::size_t at = header_len;
    while (at < d.size()) {
        if (after_fingerprint) return bad("attribute after FINGERPRINT");
        if (d.size() - at < 4) return bad("truncated attribute header");
        const uint16_t type = be16(d, at);
        const std::size_t vlen = be16(d, at + 2);
        const std::size_t padded = (vlen + 3) & ~std::size_t{3};
        if (d.size() - at - 4 < padded) return bad("attribute value runs past the end");
        if (m.attributes.size() >= max_attributes) return bad("too many attributes");
        const stun_attribute a{type, d.subspan(at + 4, vlen), at};
        if (type == attr::fingerprint) {
            if (vlen != 4) return bad("FINGERPRINT must be 4 octets");
            after_fingerprint = true;
            m.attributes.push_back(a);
        } else if (type == attr::message_integrity) {
            if (vlen != 20) return bad("MESSAGE-INTEGRITY must be 20 octets");
            if (!after_integrity) m.attributes.push_back(a);
            after_integrity = true;
        } else if (!after_integrity || type == attr::message_integrity_sha256) {
            // RFC 8489 §14.5: anything else after MESSAGE-INTEGRITY is ignored.
            m.attributes.push_back(a);
        }
        at += 4 + padded;
    }
    return m;
}

engine::result<transport_address> transport_address::from_string(std::string_view ip, uint16_t port) {
    transport_address a;
    a.port = port;
    const std::string s(ip);
    if (::inet_pton(AF_INET, s.c_str(), a.ip.data()) == 1) return a;
    if (::inet_pton(AF_INET6, s.c_str(), a.ip.data()) == 1) {
        a.ipv6 = true;
        return a;
    }
    return bad("not an IPv4 or IPv6 address literal");
}

std::string transport_address::ip_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(ipv6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
    return buf;
}

std::vector<std::byte> encode_xor_address(const transport_address& a, const transaction_id& tid) {
    std::vector<std::byte> v;
    put16(v, a.ipv6 ? 0x0002 : 0x0001); // reserved octet 0, family
    put16(v, static_cast<uint16_t>(a.port ^ (magic_cookie >> 16)));
    std::array<std::byte, 16> mask{};
    for (int i = 0; i < 4; ++i) mask[static_cast<std::size_t>(i)] = static_cast<std::byte>(magic_cookie >> (24 - 8 * i));
    std::copy(tid.begin(), tid.end(), mask.begin() + 4);
    const std::size_t n = a.ipv6 ? 16 : 4;
    for (std::size_t i = 0; i < n; ++i) v.push_back(a.ip[i] ^ mask[i]);
    return v;
}

engine::result<transport_address> decode_xor_address(std::span<const std::byte> value, const transaction_id& tid) {
    if (value.size() < 4) return bad("XOR-MAPPED-ADDRESS shorter than 4 octets");
    const uint16_t family = be16(value, 0) & 0xff;
    if (family != 1 && family != 2) return bad("XOR-MAPPED-ADDRESS family is neither IPv4 nor IPv6");
    transport_address a;
    a.ipv6 = family == 2;
    const std::size_t n = a.ipv6 ? 16 : 4;
    if (value.size() != 4 + n) return bad("XOR-MAPPED-ADDRESS length does not match its family");
    a.port = static_cast<uint16_t>(be16(value, 2) ^ (magic_cookie >> 16));
    std::array<std::byte, 16> mask{};
    for (int i = 0; i < 4; ++i) mask[static_cast<std::size_t>(i)] = static_cast<std::byte>(magic_cookie >> (24 - 8 * i));
    std::copy(tid.begin(), tid.end(), mask.begin() + 4);
    for (std::size_t i = 0; i < n; ++i) a.ip[i] = value[4 + i] ^ mask[i];
    return a;
}

stun_builder::stun_builder(uint16_t type, const transaction_id& tid) {
    _m.reserve(128);
    put16(_m, type);
    put16(_m, 0);
    put32(_m, magic_cookie);
    _m.insert(_m.end(), tid.begin(), tid.end());
}

stun_builder& stun_builder::add(uint16_t type, std::span<const std::byte> value) {
    put16(_m, type);
    put16(_m, static_cast<uint16_t>(value.size()));
    _m.insert(_m.end(), value.begin(), value.end());
    while (_m.size() % 4) _m.push_back(std::byte{0});
    set16(_m, 2, static_cast<uint16_t>(_m.size() - header_len));
    return *this;
}

stun_builder& stun_builder::add(uint16_t type, std::string_view value) {
    return add(type, std::as_bytes(std::span<const char>(value.data(), value.size())));
}

stun_builder& stun_builder::add_u32(uint16_t type, uint32_t v) {
    std::vector<std::byte> b;
    put32(b, v);
    return add(type, b);
}

stun_builder& stun_builder::add_u64(uint16_t type, uint64_t v) {
    std::vector<std::byte> b;
    put32(b, static_cast<uint32_t>(v >> 32));
    put32(b, static_cast<uint32_t>(v & 0xffffffff));
    return add(type, b);
}

stun_builder& stun_builder::add_xor_mapped_address(const transport_address& a) {
    transaction_id tid;
    std::copy_n(_m.begin() + 8, transaction_id_len, tid.begin());
    return add(attr::xor_mapped_address, encode_xor_address(a, tid));
}

stun_builder& stun_builder::add_error_code(uint16_t code, std::string_view reason) {
    std::vector<std::byte> b;
    put16(b, 0);
    b.push_back(static_cast<std::byte>((code / 100) & 0x07)); // class, 3 bits
    b.push_back(static_cast<std::byte>(code % 100));          // number
    const auto r = std::as_bytes(std::span<const char>(reason.data(), std::min<std::size_t>(reason.size(), 127)));
    b.insert(b.end(), r.begin(), r.end());
    return add(attr::error_code, b);
}

engine::result<std::vector<std::byte>> stun_builder::finish(std::optional<std::span<const std::byte>> key,
                                                            bool fingerprint) {
    if (key) {
        const std::size_t at = _m.size();
        // The HMAC covers the header with the length already counting MESSAGE-INTEGRITY.
        add(attr::message_integrity, std::array<std::byte, 20>{});
        auto mac = compute_message_integrity(_m, at, *key);
        if (!mac) return mac.err();
        std::copy(mac->begin(), mac->end(), _m.begin() + static_cast<std::ptrdiff_t>(at + 4));
    }
    if (fingerprint) {
        const std::size_t at = _m.size();
        add(attr::fingerprint, std::array<std::byte, 4>{});
        const uint32_t crc = crc32(std::span<const std::byte>(_m.data(), at)) ^ fingerprint_xor;
        for (int i = 0; i < 4; ++i)
            _m[at + 4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(crc >> (24 - 8 * i));
    }
    return std::move(_m);
}

} // namespace srtpo::cp::ice
