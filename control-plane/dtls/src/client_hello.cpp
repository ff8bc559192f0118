#include <srtpo/cp/dtls/client_hello.hpp>

#include <algorithm>
#include <string>

namespace srtpo::cp::dtls {
namespace {

constexpr uint8_t content_type_handshake = 22;    // RFC 5246 §6.2.1
constexpr uint8_t handshake_type_client_hello = 1; // RFC 5246 §7.4
constexpr uint16_t ext_use_srtp = 14;              // RFC 5764 §9

/// A cursor over a span that never reads past its end: every take fails instead.
class reader {
public:
    explicit reader(std::span<const std::byte> b) : _b(b) {}
    bool u8(uint32_t& v) { return un(1, v); }
    bool u16(uint32_t& v) { return un(2, v); }
    bool u24(uint32_t& v) { return un(3, v); }
    bool skip(std::size_t n) {
        if (n > left()) return false;
        _at += n;
        return true;
    }
    bool sub(std::size_t n, std::span<const std::byte>& out) {
        if (n > left()) return false;
        out = _b.subspan(_at, n);
        _at += n;
        return true;
    }
    std::size_t left() const { return _b.size() - _at; }

private:
    bool un(std::size_t n, uint32_t& v) {
        if (n > left()) return false;
        v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(_b[_at + i]);
        _at += n;
        return true;
    }
    std::span<const std::byte> _b;
    std::size_t _at = 0;
};

engine::error bad(const char* what) {
    return engine::make_error(engine::errc::invalid_argument, std::string("ClientHello: ") + what);
}

} // namespace

engine::result<client_hello> parse_client_hello(std::span<const std::byte> datagram) {
    reader rec(datagram);
    // RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2)
    uint32_t type = 0, version = 0, epoch = 0, length = 0;
    if (!rec.u8(type) || !rec.u16(version) || !rec.u16(epoch) || !rec.skip(6) || !rec.u16(length))
        return bad("truncated record header");
    if (type != content_type_handshake) return bad("not a handshake record");
    if (epoch != 0) return bad("record epoch is not 0");
    std::span<const std::byte> fragment;
    if (!rec.sub(length, fragment)) return bad("record length runs past the datagram");

    // RFC 6347 §4.2.2: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3)
    reader hs(fragment);
    uint32_t msg_type = 0, msg_len = 0, msg_seq = 0, frag_off = 0, frag_len = 0;
    if (!hs.u8(msg_type) || !hs.u24(msg_len) || !hs.u16(msg_seq) || !hs.u24(frag_off) || !hs.u24(frag_len))
        return bad("truncated handshake header");
    if (msg_type != handshake_type_client_hello) return bad("not a ClientHello");
    if (frag_off != 0 || frag_len != msg_len) return bad("fragmented");
    std::span<const std::byte> body;
    if (!hs.sub(msg_len, body)) return bad("handshake length runs past the record");

    // RFC 6347 §4.2.1: client_version(2) random(32) session_id<0..32> cookie<0..2^8-1>
    // cipher_suites<2..2^16-2> compression_methods<1..2^8-1> extensions<0..2^16-1> (optional)
    reader ch(body);
    client_hello out;
    std::span<const std::byte> random;
    uint32_t n = 0;
    if (!ch.u16(version) || !ch.sub(out.random.size(), random)) return bad("truncated random");
    std::copy(random.begin(), random.end(), out.random.begin());
    if (!ch.u8(n) || n > 32 || !ch.skip(n)) return bad("bad session_id");
    if (!ch.u8(n) || !ch.skip(n)) return bad("bad cookie");
    if (!ch.u16(n) || n < 2 || n % 2 != 0 || !ch.skip(n)) return bad("bad cipher_suites");
    if (!ch.u8(n) || n < 1 || !ch.skip(n)) return bad("bad compression_methods");
    if (ch.left() == 0) return out; // no extensions at all: no use_srtp
    std::span<const std::byte> exts;
    if (!ch.u16(n) || !ch.sub(n, exts)) return bad("extensions length runs past the ClientHello");
    if (ch.left() != 0) return bad("trailing bytes after the extensions");
    reader ex(exts);
    while (ex.left() > 0) {
        uint32_t ext_type = 0, ext_len = 0;
        std::span<const std::byte> ext_body;
        if (!ex.u16(ext_type) || !ex.u16(ext_len) || !ex.sub(ext_len, ext_body))
            return bad("extension runs past the extensions block");
        if (ext_type != ext_use_srtp) continue;
        // RFC 5246 §7.4.1.4: no extension type may appear twice.
        if (out.use_srtp) return bad("use_srtp appears twice");
        auto u = parse_use_srtp(ext_body);
        if (!u) return bad("malformed use_srtp");
        out.use_srtp = std::move(*u);
    }
    return out;
}

} // namespace srtpo::cp::dtls
