#include <srtpo/net/rtp_capture_gen.hpp>

#include <srtpo/net/checksum.hpp>

#include "byte_order.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_set>

namespace srtpo::net {

namespace {

using detail::store_be16;
using detail::store_be32;
using detail::store_be64;
using detail::store_u8;

constexpr std::size_t rtp_header_len = 12;  // RFC 3550 §5.1, no CSRC, no extension
constexpr std::size_t udp_header_len = 8;
constexpr std::size_t ipv4_header_len = 20;
constexpr std::size_t ipv6_header_len = 40;
constexpr uint8_t dscp_ef_tos = 46 << 2;    // Expedited Forwarding for telephony (RFC 4594 §4.1)
constexpr uint8_t default_ttl = 64;
constexpr uint64_t ntp_unix_offset = 2'208'988'800; // seconds from 1900 to 1970 (RFC 5905)

/// splitmix64 (Steele, Lea, Flood 2014): fully specified, so output is identical everywhere,
/// unlike std::uniform_int_distribution whose algorithm is implementation-defined.
class splitmix64 {
public:
    explicit splitmix64(uint64_t seed) noexcept : _s(seed) {}
    uint64_t next() noexcept {
        uint64_t z = (_s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint32_t next32() noexcept { return static_cast<uint32_t>(next() >> 32); }

private:
    uint64_t _s;
};

struct endpoint {
    std::array<std::byte, 6> mac;
    ip_address ip;
};

ip_address make_ip(std::initializer_list<uint8_t> b, ip_family fam) {
    ip_address a;
    a.family = fam;
    std::size_t i = 0;
    for (auto v : b) a.bytes[i++] = std::byte{v};
    return a;
}

endpoint side(bool b, bool ipv6) {
    endpoint e;
    e.mac = {std::byte{0x02}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{b ? uint8_t{0x0b} : uint8_t{0x0a}}};
    if (ipv6) {
        e.ip = make_ip({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b ? uint8_t{0x0b} : uint8_t{0x0a}},
                       ip_family::ipv6);
    } else {
        e.ip = b ? make_ip({198, 51, 100, 1}, ip_family::ipv4) : make_ip({192, 0, 2, 1}, ip_family::ipv4);
    }
    return e;
}

struct stream_state {
    rtp_stream_info info;
    endpoint from;
    endpoint to;
    uint32_t flow_label = 0; // RFC 6437: one per flow
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint16_t ip_id = 0;
    uint32_t octets = 0; // payload octets sent (RFC 3550 §6.4.1 sender's octet count)
    std::string cname;
};

/// Writes Ethernet [+ 802.1Q] + IP + UDP around `udp_payload` into `buf`; returns the frame.
std::span<const std::byte> build_frame(std::vector<std::byte>& buf, const rtp_capture_options& opt,
                                       stream_state& st, uint16_t src_port, uint16_t dst_port,
                                       std::span<const std::byte> udp_payload) {
    const std::size_t l2 = 14 + (opt.vlan_id ? 4 : 0);
    const std::size_t l3_len = opt.ipv6 ? ipv6_header_len : ipv4_header_len;
    const std::size_t udp_len = udp_header_len + udp_payload.size();
    buf.assign(l2 + l3_len + udp_len, std::byte{0});
    std::span<std::byte> f(buf);

    std::copy(st.to.mac.begin(), st.to.mac.end(), f.begin());
    std::copy(st.from.mac.begin(), st.from.mac.end(), f.begin() + 6);
    std::size_t off = 12;
    if (opt.vlan_id) {
        store_be16(f, off, 0x8100);
        store_be16(f, off + 2, static_cast<uint16_t>((5u << 13) | *opt.vlan_id)); // PCP 5: voice
        off += 4;
    }
    store_be16(f, off, opt.ipv6 ? 0x86dd : 0x0800);
    const std::size_t l3 = off + 2;
    if (opt.ipv6) {
        // Version 6, traffic class EF, flow label (RFC 8200 §3).
        store_be32(f, l3, (6u << 28) | (uint32_t{dscp_ef_tos} << 20) | st.flow_label);
        store_be16(f, l3 + 4, static_cast<uint16_t>(udp_len));
        store_u8(f, l3 + 6, 17);
        store_u8(f, l3 + 7, default_ttl);
        std::copy_n(st.from.ip.bytes.begin(), 16, f.begin() + static_cast<std::ptrdiff_t>(l3 + 8));
        std::copy_n(st.to.ip.bytes.begin(), 16, f.begin() + static_cast<std::ptrdiff_t>(l3 + 24));
    } else {
        store_u8(f, l3, 0x45);
        store_u8(f, l3 + 1, dscp_ef_tos);
        store_be16(f, l3 + 2, static_cast<uint16_t>(ipv4_header_len + udp_len));
        store_be16(f, l3 + 4, st.ip_id++);
        store_be16(f, l3 + 6, 0x4000); // DF
        store_u8(f, l3 + 8, default_ttl);
        store_u8(f, l3 + 9, 17);
        std::copy_n(st.from.ip.bytes.begin(), 4, f.begin() + static_cast<std::ptrdiff_t>(l3 + 12));
        std::copy_n(st.to.ip.bytes.begin(), 4, f.begin() + static_cast<std::ptrdiff_t>(l3 + 16));
        store_be16(f, l3 + 10, ipv4_header_checksum(f.subspan(l3, ipv4_header_len)));
    }
    const std::size_t l4 = l3 + l3_len;
    store_be16(f, l4, src_port);
    store_be16(f, l4 + 2, dst_port);
    store_be16(f, l4 + 4, static_cast<uint16_t>(udp_len));
    std::copy(udp_payload.begin(), udp_payload.end(), f.begin() + static_cast<std::ptrdiff_t>(l4 + udp_header_len));
    const auto udp = std::span<const std::byte>(f.subspan(l4));
    const uint16_t ck =
        opt.ipv6 ? udp_checksum_ipv6(st.from.ip.bytes, st.to.ip.bytes, udp)
                 : udp_checksum_ipv4(std::span<const std::byte, 4>(st.from.ip.bytes.data(), 4),
                                     std::span<const std::byte, 4>(st.to.ip.bytes.data(), 4), udp);
    store_be16(f, l4 + 6, ck);
    return f;
}

/// RTP fixed header (RFC 3550 §5.1) + payload.
void build_rtp(std::vector<std::byte>& out, const rtp_capture_options& opt, const stream_state& st, bool marker,
               splitmix64& rng) {
    out.assign(rtp_header_len + opt.payload_size, std::byte{0});
    std::span<std::byte> p(out);
    store_u8(p, 0, 0x80); // V=2, P=0, X=0, CC=0
    // Marker on the first packet of a talkspurt (RFC 3551 §4.1); the stream is one talkspurt.
    store_u8(p, 1, static_cast<uint8_t>((marker ? 0x80 : 0) | opt.payload_type));
    store_be16(p, 2, st.seq);
    store_be32(p, 4, st.timestamp);
    store_be32(p, 8, st.info.ssrc);
    for (std::size_t i = rtp_header_len; i < out.size(); i += 8) {
        const uint64_t r = rng.next();
        for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = static_cast<std::byte>(r >> (8 * j));
    }
}

/// Compound RTCP: SR (RFC 3550 §6.4.1, no report blocks) + SDES with a CNAME (§6.5.1), as
/// §6.1 requires of every compound packet.
void build_rtcp(std::vector<std::byte>& out, const stream_state& st, std::chrono::nanoseconds now,
                uint32_t rtp_ts) {
    const std::size_t sr_len = 28;
    const std::size_t cname_len = std::min<std::size_t>(st.cname.size(), 255);
    // SSRC + type + length + text + at least one null octet, padded to 32 bits (§6.5).
    const std::size_t chunk = (4 + 2 + cname_len + 1 + 3) / 4 * 4;
    const std::size_t sdes_len = 4 + chunk;
    out.assign(sr_len + sdes_len, std::byte{0});
    std::span<std::byte> p(out);

    store_u8(p, 0, 0x80); // V=2, P=0, RC=0
    store_u8(p, 1, 200);  // SR
    store_be16(p, 2, static_cast<uint16_t>(sr_len / 4 - 1));
    store_be32(p, 4, st.info.ssrc);
    const uint64_t ns = static_cast<uint64_t>(now.count());
    const uint64_t secs = ns / 1'000'000'000 + ntp_unix_offset;
    const uint64_t frac = ((ns % 1'000'000'000) << 32) / 1'000'000'000;
    store_be64(p, 8, (secs << 32) | frac);
    store_be32(p, 16, rtp_ts);
    store_be32(p, 20, st.info.rtp_packets);
    store_be32(p, 24, st.octets);

    const std::size_t s = sr_len;
    store_u8(p, s, 0x81);  // V=2, P=0, SC=1
    store_u8(p, s + 1, 202); // SDES
    store_be16(p, s + 2, static_cast<uint16_t>(sdes_len / 4 - 1));
    store_be32(p, s + 4, st.info.ssrc);
    store_u8(p, s + 8, 1); // CNAME
    store_u8(p, s + 9, static_cast<uint8_t>(cname_len));
    std::transform(st.cname.begin(), st.cname.begin() + static_cast<std::ptrdiff_t>(cname_len),
                   p.begin() + static_cast<std::ptrdiff_t>(s + 10), [](char c) { return static_cast<std::byte>(c); });
}

void validate(const rtp_capture_options& o) {
    auto bad = [](const std::string& m) { throw std::invalid_argument("rtp_capture_options: " + m); };
    if (o.calls == 0) bad("calls must be at least 1");
    if (std::size_t{o.base_port} + 4 * std::size_t{o.calls} > 65536)
        bad("base_port + 4 * calls exceeds the port range");
    if (o.base_port == 0) bad("base_port must not be 0");
    if (o.vlan_id && (*o.vlan_id == 0 || *o.vlan_id >= 4095)) bad("vlan_id must be 1..4094");
    if (o.payload_type > 127) bad("payload_type must be 0..127");
    // RFC 5761 §4: with RTCP multiplexed, RTP payload types 64-95 would collide with RTCP types.
    if (o.rtcp_mux && o.payload_type >= 64 && o.payload_type <= 95) bad("payload_type 64..95 conflicts with rtcp_mux");
    if (rtp_header_len + o.payload_size + udp_header_len + ipv6_header_len > 65535) bad("payload_size too large");
    if (o.ptime.count() <= 0) bad("ptime must be positive");
    if (o.start_time.count() < 0) bad("start_time must not precede the epoch");
}

} // namespace

rtp_capture_summary generate_rtp_frames(const rtp_capture_options& opt,
                                        const std::function<void(const pcap_record&)>& sink) {
    validate(opt);
    splitmix64 rng(opt.seed);
    const std::size_t n_streams = 2 * std::size_t{opt.calls};

    std::vector<stream_state> streams(n_streams);
    std::unordered_set<uint32_t> ssrcs;
    for (std::size_t k = 0; k < n_streams; ++k) {
        auto& st = streams[k];
        const auto call = static_cast<uint32_t>(k / 2);
        const bool b_to_a = (k % 2) == 1;
        const auto port_a = static_cast<uint16_t>(opt.base_port + 4 * call);
        const auto port_b = static_cast<uint16_t>(port_a + 2);
        st.from = side(b_to_a, opt.ipv6);
        st.to = side(!b_to_a, opt.ipv6);
        st.info.call = call;
        st.info.direction = b_to_a ? 1 : 0;
        st.info.src = st.from.ip;
        st.info.dst = st.to.ip;
        st.info.src_port = b_to_a ? port_b : port_a;
        st.info.dst_port = b_to_a ? port_a : port_b;
        st.info.rtcp_src_port = opt.rtcp_mux ? st.info.src_port : static_cast<uint16_t>(st.info.src_port + 1);
        st.info.rtcp_dst_port = opt.rtcp_mux ? st.info.dst_port : static_cast<uint16_t>(st.info.dst_port + 1);
        // SSRCs are random (RFC 3550 §8.1) but must not collide within the capture.
        do {
            st.info.ssrc = rng.next32();
        } while (!ssrcs.insert(st.info.ssrc).second);
        // Initial sequence number and timestamp are random (RFC 3550 §5.1).
        st.info.initial_seq = opt.initial_seq ? *opt.initial_seq : static_cast<uint16_t>(rng.next32() >> 16);
        st.info.initial_timestamp = rng.next32();
        st.flow_label = rng.next32() & 0xfffff;
        st.seq = st.info.initial_seq;
        st.timestamp = st.info.initial_timestamp;
        st.ip_id = static_cast<uint16_t>(rng.next32() >> 16);
        st.cname = "call" + std::to_string(call) + (b_to_a ? ".b" : ".a") + "@srtpo.invalid";
    }

    rtp_capture_summary sum;
    std::vector<std::byte> rtp;
    std::vector<std::byte> rtcp;
    std::vector<std::byte> frame;
    const auto slot = opt.ptime / static_cast<int64_t>(n_streams);
    for (uint32_t j = 0; j < opt.packets_per_direction; ++j) {
        for (std::size_t k = 0; k < n_streams; ++k) {
            auto& st = streams[k];
            const auto now = opt.start_time + opt.ptime * j + slot * static_cast<int64_t>(k);
            build_rtp(rtp, opt, st, j == 0, rng);
            const auto rtp_ts = st.timestamp;
            sink(pcap_record{now, build_frame(frame, opt, st, st.info.src_port, st.info.dst_port, rtp), 0});
            ++st.info.rtp_packets;
            st.octets += opt.payload_size;
            ++st.seq;
            st.timestamp += opt.timestamp_step;
            ++sum.rtp_packets;
            ++sum.frames;
            if (opt.rtcp_interval != 0 && (j + 1) % opt.rtcp_interval == 0) {
                build_rtcp(rtcp, st, now, rtp_ts);
                sink(pcap_record{now, build_frame(frame, opt, st, st.info.rtcp_src_port, st.info.rtcp_dst_port, rtcp), 0});
                ++st.info.rtcp_packets;
                ++sum.rtcp_packets;
                ++sum.frames;
            }
        }
    }
    sum.streams.reserve(n_streams);
    for (const auto& st : streams) sum.streams.push_back(st.info);
    return sum;
}

rtp_capture_summary write_rtp_capture(const std::string& path, const rtp_capture_options& opt) {
    validate(opt); // before creating the file
    pcap_writer w(path, link_type::ethernet);
    auto sum = generate_rtp_frames(opt, [&w](const pcap_record& r) { w.write(r); });
    w.close();
    return sum;
}

} // namespace srtpo::net
