// rtp_capture_gen: reproducibility (same seed -> same bytes) and content (every frame parses,
// RTP/RTCP fields and counts as configured, time order). Cross-checked with tshark if present.

#include <srtpo/net/checksum.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace srtpo::net {
namespace {

using namespace std::chrono_literals;

class temp_file {
public:
    explicit temp_file(const std::string& tag) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        _path = std::filesystem::temp_directory_path() /
                (std::string("srtpo_gen_") + info->name() + "_" + tag + "_" + std::to_string(::getpid()) + ".pcap");
    }
    ~temp_file() { std::filesystem::remove(_path); }
    std::string str() const { return _path.string(); }

private:
    std::filesystem::path _path;
};

std::vector<char> slurp(const std::string& p) {
    std::ifstream i(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(i), std::istreambuf_iterator<char>()};
}

uint16_t be16(std::span<const std::byte> b, std::size_t i) {
    return static_cast<uint16_t>((std::to_integer<unsigned>(b[i]) << 8) | std::to_integer<unsigned>(b[i + 1]));
}
uint32_t be32(std::span<const std::byte> b, std::size_t i) {
    return (uint32_t{be16(b, i)} << 16) | be16(b, i + 2);
}

TEST(RtpCaptureGen, SameSeedSameBytes) {
    rtp_capture_options o;
    o.calls = 3;
    o.packets_per_direction = 40;
    o.rtcp_interval = 10;
    o.seed = 0x5eed;
    temp_file a("a"), b("b"), c("c");
    write_rtp_capture(a.str(), o);
    write_rtp_capture(b.str(), o);
    o.seed = 0x5eee;
    write_rtp_capture(c.str(), o);
    const auto fa = slurp(a.str());
    EXPECT_GT(fa.size(), 24u);
    EXPECT_EQ(fa, slurp(b.str()));
    EXPECT_NE(fa, slurp(c.str()));
}

struct stream_seen {
    uint32_t rtp = 0;
    uint32_t rtcp = 0;
    uint16_t first_seq = 0;
    uint16_t last_seq = 0;
    uint32_t first_ts = 0;
    uint32_t last_ts = 0;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    bool marker_first = false;
};

void check_capture(const rtp_capture_options& o) {
    temp_file tmp("content");
    const auto sum = write_rtp_capture(tmp.str(), o);
    const uint32_t rtcp_per_dir = o.rtcp_interval ? o.packets_per_direction / o.rtcp_interval : 0;
    EXPECT_EQ(sum.rtp_packets, uint64_t{o.calls} * 2 * o.packets_per_direction);
    EXPECT_EQ(sum.rtcp_packets, uint64_t{o.calls} * 2 * rtcp_per_dir);
    EXPECT_EQ(sum.frames, sum.rtp_packets + sum.rtcp_packets);
    ASSERT_EQ(sum.streams.size(), 2u * o.calls);

    pcap_reader r(tmp.str());
    ASSERT_EQ(r.link(), link_type::ethernet);
    std::map<uint32_t, stream_seen> by_ssrc;
    std::set<std::pair<uint16_t, uint16_t>> rtp_flows;
    std::chrono::nanoseconds last_ts{0};
    uint64_t frames = 0;
    while (auto rec = r.next()) {
        ++frames;
        EXPECT_GE(rec->timestamp, last_ts) << "frames are in time order";
        last_ts = rec->timestamp;
        const auto f = parse_udp_frame(rec->data, link_type::ethernet);
        ASSERT_EQ(f.status, parse_status::ok) << to_string(f.status);
        EXPECT_EQ(f.ip_version, o.ipv6 ? 6 : 4);
        EXPECT_EQ(f.vlan_count, o.vlan_id ? 1 : 0);
        if (o.vlan_id) {
            EXPECT_EQ(f.vlan_tci[0] & 0x0fff, *o.vlan_id);
        }
        EXPECT_TRUE(udp_checksum_ok(rec->data, f));
        EXPECT_EQ(udp_checksum_residue(rec->data, f), 0xffff) << "checksum present, not 0";
        if (!o.ipv6) {
            EXPECT_TRUE(ipv4_header_checksum_ok(rec->data.subspan(f.l3_offset, 20)));
        }
        const auto p = rec->data.subspan(f.payload_offset, f.payload_len);
        ASSERT_GE(p.size(), 8u);
        EXPECT_EQ(std::to_integer<unsigned>(p[0]) >> 6, 2u) << "RTP/RTCP version 2";
        const unsigned pt_byte = std::to_integer<unsigned>(p[1]);
        // RFC 5761 §4: RTCP packet types 200-204 vs RTP payload types (with the marker bit).
        const bool is_rtcp = pt_byte >= 200 && pt_byte <= 204;
        if (is_rtcp) {
            EXPECT_EQ(pt_byte, 200u) << "compound starts with SR";
            const uint32_t ssrc = be32(p, 4);
            auto& s = by_ssrc[ssrc];
            ++s.rtcp;
            EXPECT_EQ(be32(p, 20), s.rtp) << "SR packet count";
            EXPECT_EQ(be32(p, 24), s.rtp * o.payload_size) << "SR octet count";
            EXPECT_EQ(be32(p, 16), s.last_ts) << "SR RTP timestamp = last packet's";
            // SDES CNAME follows the 28-byte SR.
            ASSERT_GE(p.size(), 28u + 12u);
            EXPECT_EQ(std::to_integer<unsigned>(p[29]), 202u);
            EXPECT_EQ(p.size(), 28u + 4u * (be16(p, 30) + 1u));
            EXPECT_EQ(be32(p, 32), ssrc);
            if (o.rtcp_mux) {
                EXPECT_EQ(f.src_port, s.src_port);
            } else {
                EXPECT_EQ(f.src_port, s.src_port + 1);
                EXPECT_EQ(f.dst_port, s.dst_port + 1);
            }
        } else {
            ASSERT_EQ(p.size(), 12u + o.payload_size);
            EXPECT_EQ(pt_byte & 0x7f, o.payload_type);
            const uint32_t ssrc = be32(p, 8);
            auto& s = by_ssrc[ssrc];
            const uint16_t seq = be16(p, 2);
            const uint32_t ts = be32(p, 4);
            if (s.rtp == 0) {
                s.first_seq = seq;
                s.first_ts = ts;
                s.src_port = f.src_port;
                s.dst_port = f.dst_port;
                s.marker_first = (pt_byte & 0x80) != 0;
                rtp_flows.insert({f.src_port, f.dst_port});
            } else {
                EXPECT_EQ(seq, static_cast<uint16_t>(s.last_seq + 1));
                EXPECT_EQ(ts, s.last_ts + o.timestamp_step);
                EXPECT_EQ(pt_byte & 0x80, 0u) << "marker only on the first packet";
                EXPECT_EQ(f.src_port, s.src_port);
            }
            s.last_seq = seq;
            s.last_ts = ts;
            ++s.rtp;
        }
    }
    EXPECT_EQ(frames, sum.frames);
    EXPECT_EQ(by_ssrc.size(), 2u * o.calls) << "distinct SSRC per direction";
    EXPECT_EQ(rtp_flows.size(), 2u * o.calls) << "distinct port pair per direction";
    for (const auto& info : sum.streams) {
        auto it = by_ssrc.find(info.ssrc);
        ASSERT_NE(it, by_ssrc.end());
        EXPECT_EQ(it->second.rtp, o.packets_per_direction);
        EXPECT_EQ(it->second.rtcp, rtcp_per_dir);
        EXPECT_EQ(info.rtp_packets, o.packets_per_direction);
        EXPECT_EQ(info.rtcp_packets, rtcp_per_dir);
        EXPECT_EQ(it->second.first_seq, info.initial_seq);
        EXPECT_EQ(it->second.first_ts, info.initial_timestamp);
        EXPECT_EQ(it->second.src_port, info.src_port);
        EXPECT_EQ(it->second.dst_port, info.dst_port);
        EXPECT_TRUE(it->second.marker_first);
        if (o.initial_seq) {
            EXPECT_EQ(info.initial_seq, *o.initial_seq);
        }
    }
}

TEST(RtpCaptureGen, DefaultIpv4) {
    rtp_capture_options o;
    o.calls = 4;
    o.packets_per_direction = 120;
    o.rtcp_interval = 25;
    check_capture(o);
}

TEST(RtpCaptureGen, Ipv6VlanDynamicPtFixedSeq) {
    rtp_capture_options o;
    o.calls = 2;
    o.packets_per_direction = 30;
    o.ipv6 = true;
    o.vlan_id = 100;
    o.payload_type = 96;
    o.payload_size = 320;
    o.timestamp_step = 320;
    o.initial_seq = 65530; // wraps within the capture
    o.rtcp_interval = 7;
    check_capture(o);
}

TEST(RtpCaptureGen, RtcpMuxAndNoRtcp) {
    rtp_capture_options o;
    o.calls = 2;
    o.packets_per_direction = 20;
    o.rtcp_mux = true;
    o.rtcp_interval = 5;
    check_capture(o);
    o.rtcp_mux = false;
    o.rtcp_interval = 0;
    check_capture(o);
}

TEST(RtpCaptureGen, InterleavedAcrossCalls) {
    rtp_capture_options o;
    o.calls = 3;
    o.packets_per_direction = 2;
    o.rtcp_interval = 0;
    std::vector<uint16_t> ports;
    std::vector<std::chrono::nanoseconds> times;
    generate_rtp_frames(o, [&](const pcap_record& r) {
        ports.push_back(parse_udp_frame(r.data, link_type::ethernet).src_port);
        times.push_back(r.timestamp);
    });
    // Round-robin over the six streams within each 20 ms period.
    const std::vector<uint16_t> want{20000, 20002, 20004, 20006, 20008, 20010};
    ASSERT_EQ(ports.size(), 12u);
    EXPECT_EQ(std::vector<uint16_t>(ports.begin(), ports.begin() + 6), want);
    EXPECT_EQ(std::vector<uint16_t>(ports.begin() + 6, ports.end()), want);
    EXPECT_EQ(times[6] - times[0], 20ms);
    EXPECT_LT(times[5] - times[0], 20ms);
}

TEST(RtpCaptureGen, InvalidOptionsThrow) {
    auto bad = [](auto mutate) {
        rtp_capture_options o;
        mutate(o);
        return generate_rtp_frames(o, [](const pcap_record&) {});
    };
    EXPECT_THROW(bad([](auto& o) { o.calls = 0; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.calls = 20000; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.vlan_id = 4095; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.payload_type = 128; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.rtcp_mux = true; o.payload_type = 72; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.payload_size = 65500; }), std::invalid_argument);
    EXPECT_THROW(bad([](auto& o) { o.ptime = 0ms; }), std::invalid_argument);
    EXPECT_NO_THROW(bad([](auto& o) { o.calls = 11250; o.packets_per_direction = 1; }));
}

// Independent decoder: if tshark is installed, it must find every checksum good and decode the
// streams of call 0 as RTP/RTCP version 2.
TEST(RtpCaptureGen, TsharkAgrees) {
    if (std::system("command -v tshark >/dev/null 2>&1") != 0) GTEST_SKIP() << "tshark not installed";
    rtp_capture_options o;
    o.calls = 2;
    o.packets_per_direction = 50;
    o.rtcp_interval = 10;
    temp_file tmp("tshark");
    write_rtp_capture(tmp.str(), o);
    auto count = [&](const std::string& filter) -> long {
        const std::string cmd = "tshark -n -r '" + tmp.str() +
                                "' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE"
                                " -d udp.port==20000,rtp -d udp.port==20002,rtp"
                                " -d udp.port==20001,rtcp -d udp.port==20003,rtcp -Y '" +
                                filter + "' 2>/dev/null | wc -l";
        FILE* p = ::popen(cmd.c_str(), "r");
        if (!p) return -1;
        long n = -1;
        if (std::fscanf(p, "%ld", &n) != 1) n = -1;
        ::pclose(p);
        return n;
    };
    EXPECT_EQ(count("frame"), 2 * 2 * (50 + 5));
    EXPECT_EQ(count("udp.checksum.status != 1 || ip.checksum.status != 1"), 0);
    EXPECT_EQ(count("rtp.version == 2"), 2 * 50);
    EXPECT_EQ(count("rtcp.pt == 200 && udp.srcport <= 20003"), 2 * 5);
    EXPECT_EQ(count("rtcp.sdes.type == 1 && udp.srcport <= 20003"), 2 * 5);
    EXPECT_EQ(count("_ws.malformed || _ws.expert.severity >= \"warning\""), 0);
}

} // namespace
} // namespace srtpo::net
