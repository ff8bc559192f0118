// libFuzzer target for parse_udp_frame(): every input is parsed as each link type, and an ok
// result must describe bytes inside the input (ASan catches any read past the end), and the
// result must equal the general parser's (the fast path for Ethernet/IPv4/UDP is differential)
// and the in-place form's.
// The receive checksum checks srtpo-pmd runs on such frames (pmd/rx_checksum.hpp) run on every
// ok result, and the input's internet checksum must equal a word-by-word RFC 1071 sum (the
// add-with-carry and 20-octet header paths of checksum.cpp are differential too).
// Build (standalone): clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iengine/net/include
//   tests/fuzz/udp_frame_fuzz.cpp engine/net/src/udp_frame.cpp engine/net/src/checksum.cpp

#include "../../pmd/rx_checksum.hpp"

#include <srtpo/net/checksum.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

/// RFC 1071 §4.1 the slow way: big-endian 16-bit words, an odd last octet padded on the right.
uint16_t reference_sum(std::span<const std::byte> b) {
    uint64_t acc = 0;
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) acc += std::to_integer<unsigned>(b[i]) << 8 | std::to_integer<unsigned>(b[i + 1]);
    if (i < b.size()) acc += std::to_integer<unsigned>(b[i]) << 8;
    while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace srtpo::net;
    using srtpo::pmd::rx_verdict;
    const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);
    if (checksum_fold(checksum_add(frame)) != reference_sum(frame)) std::abort();
    if (size >= 20 && ipv4_header_checksum_ok(frame.first(20)) != (reference_sum(frame.first(20)) == 0xffff)) std::abort();
    for (auto link : {link_type::ethernet, link_type::raw, link_type::linux_sll, link_type::ipv4,
                      link_type::ipv6, link_type::linux_sll2}) {
        const udp_frame f = parse_udp_frame(frame, link);
        // The Ethernet/IPv4 fast path must answer exactly as the general parser, field by field.
        if (!(f == detail::parse_udp_frame_general(frame, link))) std::abort();
        // The in-place form writes every field: the same answer over what a former parse left.
        static udp_frame in_place;
        parse_udp_frame(frame, link, in_place);
        if (!(in_place == f)) std::abort();
        if (to_string(f.status) == "invalid") std::abort();
        if (f.ok()) {
            // Invariants a caller relies on before touching the payload.
            if (f.ip_version != 4 && f.ip_version != 6) std::abort();
            if (f.l3_offset >= f.l4_offset || f.payload_offset != f.l4_offset + 8) std::abort();
            if (std::size_t{f.payload_offset} + f.payload_len > f.frame_len) std::abort();
            if (f.frame_len > size) std::abort();
            (void)srtpo::pmd::checksums_pass(rx_verdict::unknown, rx_verdict::unknown, frame, f);
            (void)srtpo::pmd::plain_udp_checksum_ok(rx_verdict::unknown, frame, f);
        }
    }
    return 0;
}
