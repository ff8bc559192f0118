// classify.hpp's flow key: set_flow_key writes the key the flows file and the table sync build
// for the same address and port (flow_index matches raw bytes, so every octet counts), and an
// IPv4 key's octets past the address are zero whatever the ip_address held there.

#include "classify.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace srtpo;
using namespace srtpo::pmd;

namespace {

/// The key field by field, as the data path built it before set_flow_key.
flow_key by_fields(const net::ip_address& a, uint16_t port) {
    flow_key k;
    if (a.family == net::ip_family::ipv4) std::memcpy(k.addr.data(), a.bytes.data(), 4);
    else k.addr = a.bytes;
    k.port = port;
    k.family = static_cast<uint8_t>(a.family);
    return k;
}

TEST(FlowKey, Ipv4AndIpv6MatchTheFieldByFieldKey) {
    net::ip_address v4;
    v4.family = net::ip_family::ipv4;
    v4.bytes = {std::byte{192}, std::byte{0}, std::byte{2}, std::byte{2}};
    net::ip_address v6;
    v6.family = net::ip_family::ipv6;
    for (std::size_t i = 0; i < 16; ++i) v6.bytes[i] = std::byte(0x20 + 13 * i);
    for (const uint16_t port : {uint16_t{0}, uint16_t{5006}, uint16_t{65535}}) {
        EXPECT_EQ(make_flow_key(v4, port), by_fields(v4, port)) << port;
        EXPECT_EQ(make_flow_key(v6, port), by_fields(v6, port)) << port;
        flow_key k;
        std::memset(static_cast<void*>(&k), 0xee, sizeof k); // a slot's key from an earlier burst
        set_flow_key(k, v6, port);
        EXPECT_EQ(k, by_fields(v6, port));
        EXPECT_EQ(k.pad, 0u);
    }
}

TEST(FlowKey, Ipv4OctetsPastTheAddressAreZero) {
    net::ip_address a;
    a.family = net::ip_family::ipv4;
    a.bytes.fill(std::byte{0x77}); // octets 4-15 are not part of an IPv4 address
    a.bytes[0] = std::byte{10};
    flow_key k;
    std::memset(static_cast<void*>(&k), 0xee, sizeof k);
    set_flow_key(k, a, 7000);
    for (std::size_t i = 4; i < 16; ++i) EXPECT_EQ(k.addr[i], std::byte{0}) << i;
    EXPECT_EQ(k.addr[0], std::byte{10});
    EXPECT_EQ(k.port, 7000);
    EXPECT_EQ(k.family, 4);
    EXPECT_EQ(k.pad, 0);
}

} // namespace
