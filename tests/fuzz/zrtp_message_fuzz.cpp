// libFuzzer: the ZRTP packet and message parsers (RFC 6189 §5) on arbitrary bytes. The input is
// tried both as a whole packet (header, CRC) and as a bare message, so that the message parsers
// are reached without the fuzzer having to forge CRCs.
#include <srtpo/cp/zrtp/commit.hpp>
#include <srtpo/cp/zrtp/confirm.hpp>
#include <srtpo/cp/zrtp/dh_part.hpp>
#include <srtpo/cp/zrtp/error_message.hpp>
#include <srtpo/cp/zrtp/hello.hpp>
#include <srtpo/cp/zrtp/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

using namespace srtpo::cp::zrtp;

namespace {
void parse_message(std::span<const uint8_t> m) {
    auto t = parse_message_header(m);
    if (!t) return;
    if (auto h = parse_hello(m); h && h->algorithms.hashes.size() > 7) __builtin_trap();
    if (auto c = parse_commit(m); c && c->hvi_or_nonce.size() != 16 && c->hvi_or_nonce.size() != 32) __builtin_trap();
    if (auto d = parse_dh_part(m); d && d->pv.size() + 84 != m.size()) __builtin_trap();
    (void)parse_error(m);
    (void)parse_ping(m);
    (void)parse_ping_ack(m);
    (void)parse_ack(m, *t);
    static const uint8_t key[48] = {1, 2, 3};
    confirm_body b;
    confirm_error e;
    for (bool second : {false, true})
        (void)open_confirm(m, second, cipher_algo::aes1, hash_algo::s256, std::span(key, 16), std::span(key, 32), b, e);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> in(data, size);
    (void)looks_like_zrtp(in);
    if (auto p = parse_packet(in)) {
        if (p->message.size() + 16 != size) __builtin_trap();
        parse_message(p->message);
    }
    parse_message(in);
    // And the same bytes behind a valid header and CRC, as an endpoint would see them.
    if (size <= max_packet_len - 16) {
        auto framed = frame_packet(1, 2, in);
        auto p = parse_packet(framed);
        if (size >= min_message_len && !p) __builtin_trap();
    }
    return 0;
}
