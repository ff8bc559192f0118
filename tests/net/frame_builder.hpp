#pragma once
// Test-only frame builder. Deliberately independent of srtpo_net (its own byte writes and its
// own naive RFC 1071 sum) so that tests compare the library against a second implementation.

#include <srtpo/net/udp_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace srtpo::net::test {

struct vlan_tag {
    uint16_t tpid = 0x8100;
    uint16_t tci = 0;
};

struct ipv6_ext {
    uint8_t type = 60;      ///< 0, 43, 60 (generic TLV-length form) or 44 (fragment)
    std::size_t len = 8;    ///< total bytes, multiple of 8 (ignored for fragment: 8)
    uint16_t frag_offset = 0; ///< fragment only, in 8-octet units
    bool more = false;        ///< fragment only
};

struct frame_spec {
    link_type link = link_type::ethernet;
    std::vector<vlan_tag> vlans;
    int ip_version = 4;
    std::vector<uint8_t> ipv4_options;   ///< multiple of 4, <= 40
    uint16_t ipv4_frag = 0x4000;         ///< flags + fragment offset field; default DF
    uint8_t proto = 17;                  ///< upper-layer protocol (IPv4) / final next header (IPv6)
    std::vector<ipv6_ext> ext;
    uint16_t src_port = 5004;
    uint16_t dst_port = 6006;
    std::vector<std::byte> payload;
    bool zero_udp_checksum = false;      ///< send 0 ("no checksum")
    std::size_t ethernet_padding = 0;    ///< extra bytes after the IP datagram
};

inline uint64_t naive_sum(const std::vector<std::byte>& b, std::size_t from, std::size_t to, uint64_t acc = 0) {
    for (std::size_t i = from; i < to; i += 2) {
        uint32_t hi = static_cast<uint8_t>(b[i]);
        uint32_t lo = i + 1 < to ? static_cast<uint8_t>(b[i + 1]) : 0;
        acc += (hi << 8) | lo;
    }
    return acc;
}

inline uint16_t naive_fold(uint64_t acc) {
    while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

inline void put16(std::vector<std::byte>& b, std::size_t at, uint16_t v) {
    b[at] = std::byte(v >> 8);
    b[at + 1] = std::byte(v & 0xff);
}

inline void push16(std::vector<std::byte>& b, uint16_t v) {
    b.push_back(std::byte(v >> 8));
    b.push_back(std::byte(v & 0xff));
}

inline const uint8_t v4_src[4] = {10, 1, 2, 3};
inline const uint8_t v4_dst[4] = {10, 4, 5, 6};
inline const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/// Builds the frame described by `s`, with correct lengths and checksums.
inline std::vector<std::byte> build_frame(const frame_spec& s) {
    std::vector<std::byte> f;
    const uint16_t ethertype = s.ip_version == 6 ? 0x86dd : 0x0800;
    switch (s.link) {
    case link_type::ethernet:
        for (int i = 0; i < 6; ++i) f.push_back(std::byte{0x02});
        for (int i = 0; i < 6; ++i) f.push_back(std::byte{0x04});
        for (auto v : s.vlans) {
            push16(f, v.tpid);
            push16(f, v.tci);
        }
        push16(f, ethertype);
        break;
    case link_type::linux_sll:
        push16(f, 0);      // packet type: to us
        push16(f, 1);      // ARPHRD_ETHER
        push16(f, 6);      // address length
        for (int i = 0; i < 8; ++i) f.push_back(std::byte{0x04});
        for (auto v : s.vlans) {
            push16(f, v.tpid);
            push16(f, v.tci);
        }
        push16(f, ethertype);
        break;
    case link_type::linux_sll2:
        push16(f, s.vlans.empty() ? ethertype : s.vlans[0].tpid);
        push16(f, 0);                              // reserved
        for (int i = 0; i < 4; ++i) f.push_back(std::byte{0}); // ifindex
        push16(f, 1);                              // ARPHRD_ETHER
        f.push_back(std::byte{0});                 // packet type
        f.push_back(std::byte{6});                 // address length
        for (int i = 0; i < 8; ++i) f.push_back(std::byte{0x04});
        for (std::size_t i = 0; i < s.vlans.size(); ++i) {
            push16(f, s.vlans[i].tci);
            push16(f, i + 1 < s.vlans.size() ? s.vlans[i + 1].tpid : ethertype);
        }
        break;
    default:
        break; // raw / ipv4 / ipv6: no link header
    }

    const std::size_t l3 = f.size();
    const std::size_t udp_len = 8 + s.payload.size();
    std::size_t l4 = 0;
    if (s.ip_version == 4) {
        const std::size_t ihl = 20 + s.ipv4_options.size();
        f.resize(l3 + ihl, std::byte{0});
        f[l3] = std::byte(0x40 | (ihl / 4));
        put16(f, l3 + 2, static_cast<uint16_t>(ihl + udp_len));
        put16(f, l3 + 4, 0x1234);
        put16(f, l3 + 6, s.ipv4_frag);
        f[l3 + 8] = std::byte{64};
        f[l3 + 9] = std::byte{s.proto};
        for (int i = 0; i < 4; ++i) {
            f[l3 + 12 + i] = std::byte{v4_src[i]};
            f[l3 + 16 + i] = std::byte{v4_dst[i]};
        }
        for (std::size_t i = 0; i < s.ipv4_options.size(); ++i) f[l3 + 20 + i] = std::byte{s.ipv4_options[i]};
        put16(f, l3 + 10, static_cast<uint16_t>(~naive_fold(naive_sum(f, l3, l3 + ihl))));
        l4 = l3 + ihl;
    } else {
        std::size_t ext_len = 0;
        for (auto& e : s.ext) ext_len += e.type == 44 ? 8 : e.len;
        f.resize(l3 + 40 + ext_len, std::byte{0});
        f[l3] = std::byte{0x60};
        put16(f, l3 + 4, static_cast<uint16_t>(ext_len + udp_len));
        f[l3 + 6] = std::byte{s.ext.empty() ? s.proto : s.ext[0].type};
        f[l3 + 7] = std::byte{64};
        for (int i = 0; i < 16; ++i) {
            f[l3 + 8 + i] = std::byte{v6_src[i]};
            f[l3 + 24 + i] = std::byte{v6_dst[i]};
        }
        std::size_t p = l3 + 40;
        for (std::size_t i = 0; i < s.ext.size(); ++i) {
            const auto& e = s.ext[i];
            f[p] = std::byte{i + 1 < s.ext.size() ? s.ext[i + 1].type : s.proto};
            if (e.type == 44) {
                put16(f, p + 2, static_cast<uint16_t>((e.frag_offset << 3) | (e.more ? 1 : 0)));
                p += 8;
            } else {
                f[p + 1] = std::byte(e.len / 8 - 1);
                if (e.len >= 8) f[p + 2] = std::byte{1}; // PadN option, fills the rest (RFC 8200 §4.2)
                if (e.len >= 8) f[p + 3] = std::byte(e.len - 4);
                p += e.len;
            }
        }
        l4 = p;
    }
    f.resize(l4 + udp_len, std::byte{0});
    put16(f, l4, s.src_port);
    put16(f, l4 + 2, s.dst_port);
    put16(f, l4 + 4, static_cast<uint16_t>(udp_len));
    std::copy(s.payload.begin(), s.payload.end(), f.begin() + static_cast<std::ptrdiff_t>(l4 + 8));
    if (!s.zero_udp_checksum) {
        uint64_t acc = 0;
        if (s.ip_version == 4) {
            acc = naive_sum(f, l3 + 12, l3 + 20) + 17 + udp_len;
        } else {
            acc = naive_sum(f, l3 + 8, l3 + 40) + udp_len + 17;
        }
        acc = naive_sum(f, l4, l4 + udp_len, acc);
        uint16_t c = static_cast<uint16_t>(~naive_fold(acc));
        put16(f, l4 + 6, c == 0 ? 0xffff : c);
    }
    f.resize(f.size() + s.ethernet_padding, std::byte{0});
    return f;
}

inline std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
    std::vector<std::byte> b;
    for (int x : v) b.push_back(std::byte(x));
    return b;
}

inline std::vector<std::byte> payload_of(std::size_t n, uint8_t seed = 1) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<uint8_t>(seed + i * 7));
    return b;
}

} // namespace srtpo::net::test
