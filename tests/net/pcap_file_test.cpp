// pcap_reader / pcap_writer: round trips, precision, truncated records, pcapng input, errors.

#include "frame_builder.hpp"

#include <srtpo/net/pcap_file.hpp>

#include <gtest/gtest.h>

#include <pcap/pcap.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace srtpo::net {
namespace {

using namespace std::chrono_literals;

/// A file in the temp directory named after the running test, removed afterwards.
class temp_file {
public:
    explicit temp_file(const char* ext) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        _path = std::filesystem::temp_directory_path() /
                (std::string("srtpo_net_") + info->test_suite_name() + "_" + info->name() + "_" +
                 std::to_string(::getpid()) + ext);
    }
    ~temp_file() { std::filesystem::remove(_path); }
    std::string str() const { return _path.string(); }

private:
    std::filesystem::path _path;
};

TEST(PcapFile, DltMapping) {
    for (auto l : {link_type::ethernet, link_type::raw, link_type::linux_sll, link_type::ipv4, link_type::ipv6,
                   link_type::linux_sll2}) {
        EXPECT_EQ(from_dlt(to_dlt(l)), l);
    }
    EXPECT_EQ(to_dlt(link_type::ethernet), DLT_EN10MB);
    EXPECT_EQ(to_dlt(link_type::raw), DLT_RAW);
    EXPECT_EQ(from_dlt(DLT_NULL), std::nullopt);
    EXPECT_EQ(from_dlt(DLT_IEEE802_11), std::nullopt);
}

TEST(PcapFile, WriteReadRoundTripMicro) {
    temp_file tmp(".pcap");
    std::vector<std::vector<std::byte>> frames;
    for (std::size_t n : {42u, 60u, 214u, 1514u}) {
        test::frame_spec s;
        s.payload = test::payload_of(n - 42, static_cast<uint8_t>(n));
        frames.push_back(test::build_frame(s));
    }
    const auto t0 = std::chrono::nanoseconds(1'700'000'000s) + 123'456'789ns;
    {
        pcap_writer w(tmp.str(), link_type::ethernet);
        for (std::size_t i = 0; i < frames.size(); ++i) w.write(t0 + 20ms * i, frames[i]);
        EXPECT_EQ(w.records_written(), frames.size());
        w.close();
        w.close(); // idempotent
        EXPECT_THROW(w.write(t0, frames[0]), pcap_error);
    }
    pcap_reader r(tmp.str());
    EXPECT_EQ(r.dlt(), DLT_EN10MB);
    EXPECT_EQ(r.link(), link_type::ethernet);
    EXPECT_EQ(r.snaplen(), 262144);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        auto rec = r.next();
        ASSERT_TRUE(rec.has_value()) << i;
        // Microsecond file: the nanoseconds below 1 us are truncated.
        EXPECT_EQ(rec->timestamp, t0 + 20ms * i - 789ns);
        EXPECT_EQ(rec->orig_len, frames[i].size());
        ASSERT_EQ(rec->data.size(), frames[i].size());
        EXPECT_TRUE(std::equal(rec->data.begin(), rec->data.end(), frames[i].begin()));
    }
    EXPECT_FALSE(r.next().has_value());
    EXPECT_FALSE(r.next().has_value());
    EXPECT_EQ(r.records_read(), frames.size());
    EXPECT_EQ(r.truncated_skipped(), 0u);
}

TEST(PcapFile, NanosecondPrecisionAndOtherLinkTypes) {
    temp_file tmp(".pcap");
    test::frame_spec s;
    s.link = link_type::raw;
    s.ip_version = 6;
    const auto frame = test::build_frame(s);
    const auto ts = std::chrono::nanoseconds(1'600'000'000s) + 1ns;
    {
        pcap_writer w(tmp.str(), link_type::raw, pcap_writer_options{timestamp_precision::nano, 65535});
        w.write(ts, frame);
        w.close();
    }
    pcap_reader r(tmp.str());
    EXPECT_EQ(r.link(), link_type::raw);
    auto rec = r.next();
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->timestamp, ts);
    EXPECT_TRUE(parse_udp_frame(rec->data, *r.link()).ok());
}

TEST(PcapFile, TruncatedRecordsAreSkippedAndCounted) {
    temp_file tmp(".pcap");
    const auto a = test::build_frame({});
    {
        pcap_writer w(tmp.str(), link_type::ethernet);
        w.write({1s, a, 0});
        w.write({2s, std::span<const std::byte>(a).first(30), static_cast<uint32_t>(a.size())}); // snapped
        w.write({3s, a, static_cast<uint32_t>(a.size())});
        w.write({4s, std::span<const std::byte>(a).first(1), 1500});
        w.close();
    }
    pcap_reader r(tmp.str());
    auto x = r.next();
    ASSERT_TRUE(x);
    EXPECT_EQ(x->timestamp, 1s);
    auto y = r.next();
    ASSERT_TRUE(y);
    EXPECT_EQ(y->timestamp, 3s);
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.records_read(), 2u);
    EXPECT_EQ(r.truncated_skipped(), 2u);
}

TEST(PcapFile, WriterRejectsBadRecords) {
    temp_file tmp(".pcap");
    pcap_writer w(tmp.str(), DLT_EN10MB, pcap_writer_options{timestamp_precision::micro, 64});
    std::vector<std::byte> big(65);
    EXPECT_THROW(w.write(1s, big), pcap_error);                          // > snaplen
    EXPECT_THROW(w.write({1s, std::span<const std::byte>(big).first(10), 5}), pcap_error); // orig < caplen
    EXPECT_THROW(w.write(-1s, std::span<const std::byte>(big).first(10)), pcap_error);
    EXPECT_NO_THROW(w.write(1s, std::span<const std::byte>(big).first(64)));
    EXPECT_EQ(w.records_written(), 1u);
}

TEST(PcapFile, OpenErrorsNameTheFile) {
    try {
        pcap_reader r("/nonexistent/dir/x.pcap");
        FAIL() << "no exception";
    } catch (const pcap_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.pcap"), std::string::npos) << e.what();
    }
    temp_file tmp(".txt");
    {
        std::ofstream o(tmp.str());
        o << "this is not a capture file at all";
    }
    EXPECT_THROW(pcap_reader{tmp.str()}, pcap_error);
    EXPECT_THROW(pcap_writer("/nonexistent/dir/y.pcap", link_type::ethernet), pcap_error);
}

TEST(PcapFile, RecordCutMidwayThrows) {
    temp_file tmp(".pcap");
    const auto a = test::build_frame({});
    {
        pcap_writer w(tmp.str(), link_type::ethernet);
        w.write(1s, a);
        w.write(2s, a);
        w.close();
    }
    std::filesystem::resize_file(tmp.str(), 24 + 16 + a.size() + 16 + 10);
    pcap_reader r(tmp.str());
    EXPECT_TRUE(r.next());
    EXPECT_THROW(r.next(), pcap_error);
}

TEST(PcapFile, MovedReaderAndWriter) {
    temp_file tmp(".pcap");
    const auto a = test::build_frame({});
    pcap_writer w(tmp.str(), link_type::ethernet);
    pcap_writer w2 = std::move(w);
    w2.write(1s, a);
    w2.close();
    pcap_reader r(tmp.str());
    pcap_reader r2 = std::move(r);
    EXPECT_TRUE(r2.next());
}

// pcapng written by hand (SHB, IDB, EPB; pcapng spec draft-ietf-opsawg-pcapng §4), so the
// test needs no external tool.
void put32(std::vector<uint8_t>& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put16le(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
}

TEST(PcapFile, ReadsPcapng) {
    temp_file tmp(".pcapng");
    test::frame_spec s;
    s.vlans = {{0x8100, 42}};
    s.payload = test::payload_of(21); // odd: exercises block padding
    const auto frame = test::build_frame(s);
    std::vector<uint8_t> f;
    // Section Header Block
    put32(f, 0x0a0d0d0a);
    put32(f, 28);
    put32(f, 0x1a2b3c4d);
    put16le(f, 1);
    put16le(f, 0);
    put32(f, 0xffffffff);
    put32(f, 0xffffffff);
    put32(f, 28);
    // Interface Description Block: Ethernet, default microsecond resolution
    put32(f, 1);
    put32(f, 20);
    put16le(f, 1);
    put16le(f, 0);
    put32(f, 65535);
    put32(f, 20);
    // Enhanced Packet Blocks: one complete, one snapped (caplen < len)
    const uint64_t us = 1'700'000'000ULL * 1'000'000 + 250'000;
    auto epb = [&](std::size_t caplen, std::size_t len) {
        const std::size_t padded = (caplen + 3) / 4 * 4;
        const auto total = static_cast<uint32_t>(32 + padded);
        put32(f, 6);
        put32(f, total);
        put32(f, 0);
        put32(f, static_cast<uint32_t>(us >> 32));
        put32(f, static_cast<uint32_t>(us & 0xffffffff));
        put32(f, static_cast<uint32_t>(caplen));
        put32(f, static_cast<uint32_t>(len));
        for (std::size_t i = 0; i < caplen; ++i) f.push_back(std::to_integer<uint8_t>(frame[i]));
        f.resize(f.size() + padded - caplen, 0);
        put32(f, total);
    };
    epb(frame.size(), frame.size());
    epb(20, frame.size());
    epb(frame.size(), frame.size());
    {
        std::ofstream o(tmp.str(), std::ios::binary);
        o.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }
    pcap_reader r(tmp.str());
    EXPECT_EQ(r.link(), link_type::ethernet);
    for (int i = 0; i < 2; ++i) {
        auto rec = r.next();
        ASSERT_TRUE(rec);
        EXPECT_EQ(rec->timestamp, std::chrono::microseconds(us));
        ASSERT_EQ(rec->data.size(), frame.size());
        EXPECT_TRUE(std::equal(rec->data.begin(), rec->data.end(), frame.begin()));
        auto p = parse_udp_frame(rec->data, link_type::ethernet);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(p.vlan_tci[0], 42);
    }
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.truncated_skipped(), 1u);
}

} // namespace
} // namespace srtpo::net
