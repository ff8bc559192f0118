#pragma once
// Distinct IPv4 flow addresses for the pmd benchmarks: flow i is 10.(i>>16).(i>>8).i, so up to
// 16 M flows get different destinations. Thread-safety: pure.

#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>

namespace srtpo::bench {

inline net::ip_address flow_address(uint32_t i) {
    net::ip_address a;
    a.family = net::ip_family::ipv4;
    a.bytes[0] = std::byte{10};
    a.bytes[1] = std::byte(i >> 16);
    a.bytes[2] = std::byte(i >> 8);
    a.bytes[3] = std::byte(i);
    return a;
}

/// The even RTP port of flow i (16 different ports, so addresses and ports both vary).
constexpr uint16_t flow_port(uint32_t i) { return static_cast<uint16_t>(20000 + 2 * (i % 16)); }

} // namespace srtpo::bench
