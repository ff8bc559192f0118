#include <srtpo/engine/sdes_inline.hpp>

#include <srtpo/engine/session.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace srtpo::engine {

static_assert(sdes_max_mki_len == max_mki_len);
static_assert((uint64_t{1} << sdes_max_lifetime_log2) == srtp_max_lifetime);
static_assert(sdes_max_key_salt_len <= 255, "size is kept in a uint8_t");

namespace {

constexpr uint64_t max_lifetime = uint64_t{1} << sdes_max_lifetime_log2;
constexpr std::size_t max_b64_len = (sdes_max_key_salt_len + 2) / 3 * 4; // 64 characters

error invalid(std::string msg) { return make_error(errc::invalid_argument, "SDES inline key: " + std::move(msg)); }

/// Value of an RFC 4648 §4 base64 character, or -1.
int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// Strict decimal: 1*DIGIT without sign or spaces, no overflow.
bool parse_u64(std::string_view s, uint64_t& out) noexcept {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool starts_with_inline(std::string_view s) noexcept {
    constexpr std::string_view prefix = "inline:";
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

/// Decodes the key-salt field into `out`. The text is validated character by character first,
/// so EVP_DecodeBlock (which skips whitespace and counts pad bytes as output) only ever sees a
/// canonical, padded block, and the exact length is computed here rather than taken from it.
result<void> decode_key_salt(std::string_view b64, key_salt_buffer& out) {
    if (b64.empty()) return invalid("empty key||salt");
    std::size_t pad = 0;
    while (pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
    const std::size_t data_len = b64.size() - pad;
    if (data_len == 0) return invalid("empty key||salt");
    if (pad > 2) return invalid("key||salt has more than two '=' padding characters");
    for (std::size_t i = 0; i < data_len; ++i) {
        if (b64[i] == '=') return invalid("key||salt has '=' before its end");
        if (b64_value(b64[i]) < 0) return invalid("key||salt is not base64 (RFC 4648 §4 alphabet)");
    }
    const std::size_t rem = data_len % 4;
    if (rem == 1) return invalid("key||salt has an impossible base64 length");
    const std::size_t need_pad = (4 - rem) % 4;
    // Missing padding is tolerated (some SDES stacks strip it); wrong padding is not.
    if (pad != 0 && pad != need_pad) return invalid("key||salt has wrong base64 padding");
    // RFC 4648 §3.5: the unused low bits of the last character must be zero, so that one key
    // has exactly one encoding.
    const int last = b64_value(b64[data_len - 1]);
    if ((rem == 2 && (last & 0x0f) != 0) || (rem == 3 && (last & 0x03) != 0))
        return invalid("key||salt has non-zero base64 pad bits");
    const std::size_t decoded_len = data_len / 4 * 3 + (rem == 0 ? 0 : rem - 1);
    if (data_len + need_pad > max_b64_len || decoded_len > sdes_max_key_salt_len)
        return make_error(errc::bad_key_length, "SDES inline key: key||salt longer than " +
                                                    std::to_string(sdes_max_key_salt_len) + " bytes");

    std::array<unsigned char, max_b64_len> text{};
    std::array<unsigned char, max_b64_len / 4 * 3> raw{};
    std::memcpy(text.data(), b64.data(), data_len);
    std::fill_n(text.begin() + static_cast<std::ptrdiff_t>(data_len), need_pad, static_cast<unsigned char>('='));
    const int n = EVP_DecodeBlock(raw.data(), text.data(), static_cast<int>(data_len + need_pad));
    result<void> r;
    if (n < 0 || static_cast<std::size_t>(n) < decoded_len) {
        r = invalid("key||salt is not base64");
    } else {
        auto k = key_salt_buffer::from(std::as_bytes(std::span(raw.data(), decoded_len)));
        out = std::move(*k); // cannot fail: decoded_len <= sdes_max_key_salt_len
    }
    OPENSSL_cleanse(text.data(), text.size());
    OPENSSL_cleanse(raw.data(), raw.size());
    return r;
}

result<uint64_t> parse_lifetime(std::string_view s) {
    if (s.empty()) return invalid("empty lifetime field");
    uint64_t v = 0;
    if (s.size() >= 2 && s[0] == '2' && s[1] == '^') {
        uint64_t n = 0;
        if (!parse_u64(s.substr(2), n)) return invalid("lifetime 2^N needs a decimal N");
        if (n > sdes_max_lifetime_log2)
            return invalid("lifetime 2^" + std::to_string(n) + " exceeds 2^48 packets (RFC 3711 §9.2)");
        return uint64_t{1} << n;
    }
    if (!parse_u64(s, v)) return invalid("lifetime is neither decimal nor 2^N (or overflows)");
    if (v == 0) return invalid("lifetime 0 is not allowed");
    if (v > max_lifetime) return invalid("lifetime " + std::to_string(v) + " exceeds 2^48 packets (RFC 3711 §9.2)");
    return v;
}

result<sdes_mki> parse_mki(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || s.find(':', colon + 1) != std::string_view::npos)
        return invalid("MKI must be <value>:<length>");
    uint64_t value = 0;
    uint64_t length = 0;
    if (!parse_u64(s.substr(0, colon), value))
        return invalid("MKI value is not a decimal number (or exceeds 2^64-1)");
    if (!parse_u64(s.substr(colon + 1), length) || s.size() - colon - 1 > 3)
        return invalid("MKI length is not a decimal number of 1..3 digits");
    return make_sdes_mki(value, length);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// key_salt_buffer

result<key_salt_buffer> key_salt_buffer::from(std::span<const std::byte> b) {
    if (b.size() > sdes_max_key_salt_len)
        return make_error(errc::bad_key_length,
                          "key||salt longer than " + std::to_string(sdes_max_key_salt_len) + " bytes");
    key_salt_buffer k;
    std::copy(b.begin(), b.end(), k._b.begin());
    k._n = static_cast<uint8_t>(b.size());
    return k;
}

key_salt_buffer::key_salt_buffer(const key_salt_buffer& o) noexcept : _b(o._b), _n(o._n) {}

key_salt_buffer& key_salt_buffer::operator=(const key_salt_buffer& o) noexcept {
    if (this != &o) {
        clear();
        _b = o._b;
        _n = o._n;
    }
    return *this;
}

key_salt_buffer::key_salt_buffer(key_salt_buffer&& o) noexcept : _b(o._b), _n(o._n) { o.clear(); }

key_salt_buffer& key_salt_buffer::operator=(key_salt_buffer&& o) noexcept {
    if (this != &o) {
        clear();
        _b = o._b;
        _n = o._n;
        o.clear();
    }
    return *this;
}

key_salt_buffer::~key_salt_buffer() { clear(); }

void key_salt_buffer::clear() noexcept {
    // OPENSSL_cleanse, unlike memset, is not removed as a dead store before destruction.
    OPENSSL_cleanse(_b.data(), _b.size());
    _n = 0;
}

bool key_salt_buffer::equals(std::span<const std::byte> other) const noexcept {
    return other.size() == _n && CRYPTO_memcmp(_b.data(), other.data(), _n) == 0;
}

// ---------------------------------------------------------------------------------------------
// Parse / encode

result<sdes_mki> make_sdes_mki(uint64_t value, std::size_t length) {
    if (length < 1 || length > sdes_max_mki_len)
        return invalid("MKI length " + std::to_string(length) + " is outside 1..128 (RFC 4568 §6.1)");
    if (length < 8 && (value >> (8 * length)) != 0)
        return invalid("MKI value " + std::to_string(value) + " does not fit in " + std::to_string(length) +
                       (length == 1 ? " byte" : " bytes"));
    sdes_mki m;
    m.value = value;
    m.length = static_cast<uint8_t>(length);
    m.bytes.assign(length, std::byte{0});
    for (std::size_t i = 0; i < std::min<std::size_t>(length, 8); ++i)
        m.bytes[length - 1 - i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
    return m;
}

result<sdes_key_params> parse_sdes_inline(std::string_view text) {
    if (starts_with_inline(text)) {
        text.remove_prefix(7);
    } else {
        // Without the prefix a ':' can only belong to another key method ("uri:" etc.) in the
        // first field, since base64 has no ':'. The method name is not echoed: it might be key.
        const auto bar = text.find('|');
        if (text.substr(0, bar).find(':') != std::string_view::npos)
            return invalid("key method is not \"inline\"");
    }

    std::array<std::string_view, 3> fields{};
    std::size_t nfields = 0;
    for (std::size_t start = 0;;) {
        const auto bar = text.find('|', start);
        if (nfields == fields.size()) return invalid("more than three '|'-separated fields");
        fields[nfields++] = text.substr(start, bar == std::string_view::npos ? bar : bar - start);
        if (bar == std::string_view::npos) break;
        start = bar + 1;
    }

    sdes_key_params p;
    if (auto r = decode_key_salt(fields[0], p.key_salt); !r) return r.err();

    // key-info = key-salt ["|" lifetime] ["|" mki]: a lone optional field is an MKI iff it has
    // the ':' that a lifetime never has.
    std::string_view lifetime_field;
    std::string_view mki_field;
    bool has_lifetime = false;
    bool has_mki = false;
    if (nfields == 2) {
        if (fields[1].find(':') != std::string_view::npos) {
            mki_field = fields[1];
            has_mki = true;
        } else {
            lifetime_field = fields[1];
            has_lifetime = true;
        }
    } else if (nfields == 3) {
        if (fields[1].find(':') != std::string_view::npos) return invalid("lifetime must precede the MKI");
        lifetime_field = fields[1];
        mki_field = fields[2];
        has_lifetime = has_mki = true;
    }
    if (has_lifetime) {
        auto lt = parse_lifetime(lifetime_field);
        if (!lt) return lt.err();
        p.lifetime = *lt;
    }
    if (has_mki) {
        auto m = parse_mki(mki_field);
        if (!m) return m.err();
        p.mki = std::move(*m);
    }
    return p;
}

result<std::string> encode_sdes_inline(std::span<const std::byte> key_salt, uint64_t lifetime,
                                       const std::optional<sdes_mki>& mki) {
    if (key_salt.empty()) return make_error(errc::bad_key_length, "SDES inline key: empty key||salt");
    if (key_salt.size() > sdes_max_key_salt_len)
        return make_error(errc::bad_key_length, "SDES inline key: key||salt longer than " +
                                                    std::to_string(sdes_max_key_salt_len) + " bytes");
    if (lifetime > max_lifetime) return invalid("lifetime exceeds 2^48 packets (RFC 3711 §9.2)");
    std::string lifetime_text;
    if (lifetime != 0) {
        const bool pow2 = lifetime >= 2 && (lifetime & (lifetime - 1)) == 0;
        if (pow2) {
            unsigned n = 0;
            while ((uint64_t{1} << n) != lifetime) ++n;
            lifetime_text = "|2^" + std::to_string(n);
        } else {
            lifetime_text = "|" + std::to_string(lifetime);
        }
    }
    std::string mki_text;
    if (mki) {
        auto m = make_sdes_mki(mki->value, mki->length);
        if (!m) return m.err();
        mki_text = "|" + std::to_string(mki->value) + ":" + std::to_string(mki->length);
    }

    std::array<unsigned char, max_b64_len + 1> b64{}; // EVP_EncodeBlock writes a NUL
    const int n = EVP_EncodeBlock(b64.data(), reinterpret_cast<const unsigned char*>(key_salt.data()),
                                  static_cast<int>(key_salt.size()));
    std::string out;
    // Reserve first so the string never reallocates and leaves a copy of the key in freed memory.
    out.reserve(7 + static_cast<std::size_t>(n) + lifetime_text.size() + mki_text.size());
    out += "inline:";
    out.append(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
    out += lifetime_text;
    out += mki_text;
    OPENSSL_cleanse(b64.data(), b64.size());
    return out;
}

result<std::string> encode_sdes_inline(const sdes_key_params& p) {
    return encode_sdes_inline(p.key_salt.bytes(), p.lifetime, p.mki);
}

} // namespace srtpo::engine
