// libFuzzer target for parse_udp_frame(): every input is parsed as each link type, and an ok
// result must describe bytes inside the input (ASan catches any read past the end), and the
// result must equal the general parser's (the fast path for Ethernet/IPv4/UDP is differential).
// Build (standalone): clang++ -std=c++20 -fsanitize=fuzzer,address,undefined
//   -Iengine/net/include tests/fuzz/udp_frame_fuzz.cpp engine/net/src/udp_frame.cpp

#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace srtpo::net;
    const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);
    for (auto link : {link_type::ethernet, link_type::raw, link_type::linux_sll, link_type::ipv4,
                      link_type::ipv6, link_type::linux_sll2}) {
        const udp_frame f = parse_udp_frame(frame, link);
        // The Ethernet/IPv4 fast path must answer exactly as the general parser, field by field.
        if (!(f == detail::parse_udp_frame_general(frame, link))) std::abort();
        if (to_string(f.status) == "invalid") std::abort();
        if (f.ok()) {
            // Invariants a caller relies on before touching the payload.
            if (f.ip_version != 4 && f.ip_version != 6) std::abort();
            if (f.l3_offset >= f.l4_offset || f.payload_offset != f.l4_offset + 8) std::abort();
            if (std::size_t{f.payload_offset} + f.payload_len > f.frame_len) std::abort();
            if (f.frame_len > size) std::abort();
        }
    }
    return 0;
}
