// srtpo-pmd --table: the test plays srtpo-cp with the table writer API (sessions_mapping::create,
// install, erase) and checks what the pmd does with libsrtp 2.5 as the oracle: installed flows,
// a flow installed or deleted while the pmd runs, a rekey mid-stream across a SEQ wrap
// (make-before-break under MKIs), kill -9 and restart resuming ROC from the status region, and
// a refused header. Live runs feed the pmd frame by frame through a FIFO (pmd_harness.hpp).

#include "pmd_harness.hpp"

#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>
#include <srtpo/net/udp_rewrite.hpp>
#include <srtpo/table/mapping.hpp>

#include "../net/frame_builder.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace srtpo;
using json = nlohmann::json;
using test::frame_list;
using test::tmpdir;
using namespace std::chrono_literals;

namespace {

/// Frames are compared byte for byte here: keep their Ethernet headers (the L2 rewrite of
/// processed frames is tested by pmd_vdev's l2_next_hop_rules).
const std::string l2_keep = "--l2 keep ";

const bool env_ = (test::register_libsrtp_environment(), true);

constexpr auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;

/// A table name of this test process, unlinked (with its .status) at the end.
struct table_name {
    std::string name;
    table_name() {
        static int seq = 0;
        name = "/srtpo-pmdtable-" + std::to_string(getpid()) + "-" + std::to_string(seq++);
    }
    ~table_name() {
        (void)table::unlink_shm(name);
        (void)table::unlink_shm(name + ".status");
    }
};

table::ip_address to_table(const net::ip_address& a) {
    if (a.family == net::ip_family::ipv4)
        return table::ip_address::v4(static_cast<uint8_t>(a.bytes[0]), static_cast<uint8_t>(a.bytes[1]),
                                     static_cast<uint8_t>(a.bytes[2]), static_cast<uint8_t>(a.bytes[3]));
    table::ip_address r;
    for (std::size_t i = 0; i < 16; ++i) r.octets[i] = static_cast<uint8_t>(a.bytes[i]);
    return r;
}

/// What srtpo-cp does with a master key: derive the session keys (RFC 3711 §4.3) and store them.
table::leg_crypto keyed_leg(engine::suite s, const std::vector<uint8_t>& key_salt, uint8_t mki = 0, bool in = true) {
    const auto& t = engine::traits(s);
    const auto* k = reinterpret_cast<const std::byte*>(key_salt.data());
    engine::session_keys srtp, srtcp;
    EXPECT_TRUE(engine::derive_session_keys(t, {k, t.master_key_len}, {k + t.master_key_len, t.master_salt_len}, false, srtp));
    EXPECT_TRUE(engine::derive_session_keys(t, {k, t.master_key_len}, {k + t.master_key_len, t.master_salt_len}, true, srtcp));
    table::leg_crypto l;
    l.suite = static_cast<uint16_t>(s);
    l.replay_window = in ? 128 : 0;
    table::store_keys(t, srtp, l.srtp);
    table::store_keys(t, srtcp, l.srtcp);
    if (mki) {
        l.mki_len = 1;
        l.mki[0] = mki;
    }
    return l;
}

table::slot_data slot_for(const net::ip_address& a, uint16_t port, table::leg_action act, std::optional<table::leg_crypto> in,
                          std::optional<table::leg_crypto> out = std::nullopt, table::flow_proto p = table::flow_proto::rtp) {
    table::slot_data d;
    d.key.local = to_table(a);
    d.key.port = port;
    d.key.proto = p;
    d.state = table::slot_state::active;
    d.action = act;
    if (in) d.in = *in;
    if (out) d.out = *out;
    return d;
}

/// Waits until `pred` holds (≤ 5 s). Returns false on timeout.
template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(200us);
    }
    return true;
}

/// The pmd's status region, once its sync thread created it.
std::optional<table::status_mapping> attach_status(const std::string& name) {
    std::optional<table::status_mapping> st;
    wait_for([&] {
        auto s = table::status_mapping::attach(name + ".status");
        if (s && s->last_heartbeat() != 0) st = std::move(s.value());
        return st.has_value();
    });
    return st;
}

net::rtp_capture_options capture(uint32_t calls = 1, uint32_t packets = 80, uint32_t rtcp_interval = 20) {
    net::rtp_capture_options g;
    g.calls = calls;
    g.packets_per_direction = packets;
    g.rtcp_interval = rtcp_interval;
    g.initial_seq = 65500; // every stream crosses a ROC rollover
    g.seed = 17;
    return g;
}

uint64_t status(const json& j, const char* name) { return j.at("status").at(name).get<uint64_t>(); }

uint16_t seq_of(const std::vector<std::byte>& frame) {
    const auto u = net::parse_udp_frame(frame, net::link_type::ethernet);
    const auto* p = frame.data() + u.payload_offset;
    return static_cast<uint16_t>(static_cast<unsigned>(p[2]) << 8 | static_cast<unsigned>(p[3]));
}

uint16_t dst_port_of(const std::vector<std::byte>& frame) { return net::parse_udp_frame(frame, net::link_type::ethernet).dst_port; }

// Flows srtpo-cp installed before the pmd starts: a libsrtp capture (RTP and RTCP on port + 1,
// crossing a ROC rollover) comes out as the original, and the status region shows each flow's
// progress (ROC 1, the last SEQ, packet counts).
TEST(pmd_table, installed_flows_process_libsrtp_capture) {
    tmpdir d("srtpo-pmdtable");
    table_name t;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", capture(2));
    const auto total = sum.rtp_packets + sum.rtcp_packets;
    const auto key = test::random_key(30, 21);
    ASSERT_EQ(test::libsrtp_pass(d / "plain.pcap", d / "srtp.pcap", cm80, key, true), total);
    auto tab = table::sessions_mapping::create(t.name, 64);
    ASSERT_TRUE(tab) << tab.err().message;
    for (uint32_t i = 0; i < sum.streams.size(); ++i)
        ASSERT_TRUE(tab->install(10 + i, slot_for(sum.streams[i].dst, sum.streams[i].dst_port, table::leg_action::unprotect, keyed_leg(cm80, key))));
    auto r = test::run_pmd_args(d / "srtp.pcap", d / "out.pcap", l2_keep + "--table " + t.name);
    ASSERT_EQ(r.code, 0) << r.out;
    ASSERT_TRUE(r.stats.is_object()) << r.out;
    EXPECT_EQ(status(r.stats, "ok"), total) << r.out;
    EXPECT_EQ(r.stats.at("rtcp").get<uint64_t>(), sum.rtcp_packets);
    EXPECT_EQ(test::capture_frames(d / "out.pcap"), test::capture_frames(d / "plain.pcap"));
    EXPECT_NE(r.out.find("table: applied 4 "), std::string::npos) << r.out;

    auto st = table::status_mapping::attach(t.name + ".status");
    ASSERT_TRUE(st) << st.err().message;
    for (uint32_t i = 0; i < sum.streams.size(); ++i) {
        const auto s = st->load(10 + i);
        const auto& info = sum.streams[i];
        EXPECT_EQ(s.generation, tab->peek_generation(10 + i));
        EXPECT_EQ(s.packets, info.rtp_packets + info.rtcp_packets) << i;
        ASSERT_TRUE(s.in.valid);
        EXPECT_EQ(s.in.roc, 1u);
        EXPECT_EQ(s.in.seq, static_cast<uint16_t>(info.initial_seq + info.rtp_packets - 1));
        EXPECT_TRUE(s.srtcp.in_valid);
        EXPECT_EQ(s.srtcp.in_index, info.rtcp_packets); // libsrtp numbers its SRTCP packets from 1
        EXPECT_FALSE(s.out.valid);
        EXPECT_EQ(s.auth_fail, 0u);
    }
}

// A flow installed while the pmd runs is picked up (install -> first packet processed, reported
// per flow), and a deleted flow stops forwarding at once. The flows are `tap` flows (plain RTP
// forwarded unchanged) so that every frame fed before the pick-up is a plain no_flow drop.
TEST(pmd_table, install_while_running_and_delete_stops_traffic) {
    tmpdir d("srtpo-pmdtable");
    table_name t;
    auto tab = table::sessions_mapping::create(t.name, 64);
    ASSERT_TRUE(tab) << tab.err().message;
    test::live_pmd pmd;
    ASSERT_TRUE(pmd.start(d.p.string(), d / "out.pcap", "--table " + t.name));
    auto st = attach_status(t.name);
    ASSERT_TRUE(st) << "no heartbeat in " << t.name << ".status";
    tab->connect_consumer(*st); // from now on changes come through the doorbell

    using net::test::frame_spec;
    auto frame = [](uint16_t port, uint16_t seq) {
        frame_spec s;
        s.dst_port = port;
        std::vector<std::byte> p(12 + 20, std::byte{0});
        p[0] = std::byte{0x80};
        p[2] = std::byte(seq >> 8);
        p[3] = std::byte(seq & 0xff);
        s.payload = p;
        return net::test::build_frame(s);
    };
    net::ip_address a; // frame_builder's IPv4 destination
    a.family = net::ip_family::ipv4;
    a.bytes[0] = std::byte{10};
    a.bytes[1] = std::byte{4};
    a.bytes[2] = std::byte{5};
    a.bytes[3] = std::byte{6};

    constexpr int flows = 20;
    std::vector<double> latency_ms;
    std::vector<uint64_t> fed(flows, 0);
    for (int f = 0; f < flows; ++f) {
        const auto port = static_cast<uint16_t>(30000 + 2 * f);
        const uint32_t id = static_cast<uint32_t>(f);
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(tab->install(id, slot_for(a, port, table::leg_action::tap, std::nullopt, std::nullopt, table::flow_proto::mux)));
        uint16_t seq = 0;
        const bool seen = wait_for([&] {
            pmd.feed(frame(port, seq++));
            ++fed[f];
            return st->load(id).packets > 0;
        });
        ASSERT_TRUE(seen) << "flow " << f << " never forwarded";
        latency_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("install -> first packet, in install order (ms):");
    for (double v : latency_ms) std::printf(" %.2f", v);
    std::printf("\n");
    std::sort(latency_ms.begin(), latency_ms.end());
    const double p50 = latency_ms[latency_ms.size() / 2], p99 = latency_ms.back();
    std::printf("install -> first packet forwarded (%d flows, doorbell, 1 ms poll): p50 %.2f ms, max %.2f ms\n", flows, p50, p99);
    RecordProperty("install_to_first_packet_p50_ms", std::to_string(p50));
    RecordProperty("install_to_first_packet_max_ms", std::to_string(p99));

    // Delete flow 0: wait until the status of a sentinel flow shows that the pmd processed
    // frames fed after the erase (so the sync thread had time), then check flow 0 no longer moves.
    const uint64_t before = st->load(0).packets;
    ASSERT_TRUE(tab->erase(0));
    std::this_thread::sleep_for(30ms); // 10 ms is the target; leave the sync thread slack
    for (uint16_t s = 60000; s < 60010; ++s) pmd.feed(frame(30000, s));
    const uint64_t sentinel = st->load(1).packets;
    pmd.feed(frame(30002, 61000));
    ASSERT_TRUE(wait_for([&] { return st->load(1).packets > sentinel; }));
    EXPECT_EQ(st->load(0).packets, before);
    auto r = pmd.finish();
    ASSERT_EQ(r.code, 0) << r.out;
    for (const auto& f : test::capture_frames(d / "out.pcap"))
        EXPECT_FALSE(dst_port_of(f) == 30000 && seq_of(f) >= 60000) << "flow 0 forwarded a frame after its deletion";
    EXPECT_NE(r.out.find("removed 1"), std::string::npos) << r.out;
    EXPECT_GE(r.stats.at("drops").at("no_flow").get<uint64_t>(), 10u) << r.out;
}

// Rekey mid-stream: the sender wraps SEQ (ROC 0 -> 1) under key 1, then srtpo-cp installs key 2
// (MKI 2) in the same slot with a make-before-break grace. No packet is lost: the new entry takes
// over ROC 1 and the replay window, a late key-1 packet within the grace is still accepted, a
// replay of a key-1 packet is refused, and after the grace only key 2 opens packets.
TEST(pmd_table, rekey_mid_stream_keeps_roc_loses_nothing) {
    tmpdir d("srtpo-pmdtable");
    table_name t;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", capture(1, 120, 0));
    const auto& s0 = sum.streams[0];
    frame_list plain;
    for (auto& f : test::capture_frames(d / "plain.pcap"))
        if (dst_port_of(f) == s0.dst_port) plain.push_back(f);
    ASSERT_EQ(plain.size(), 120u);
    const auto k1 = test::random_key(30, 31), k2 = test::random_key(30, 32);
    test::mki_sender tx(k1, k2);
    constexpr std::size_t rekey_at = 60; // SEQ 65500 + 36 wrapped already: ROC 1 from packet 36
    constexpr std::size_t late_ok = 58, late_refused = 59, replayed = 50;
    frame_list srtp;
    for (std::size_t i = 0; i < plain.size(); ++i) srtp.push_back(tx.protect(plain[i], i < rekey_at ? 0 : 1));

    auto tab = table::sessions_mapping::create(t.name, 16);
    ASSERT_TRUE(tab) << tab.err().message;
    auto slot = slot_for(s0.dst, s0.dst_port, table::leg_action::unprotect, keyed_leg(cm80, k1, 1));
    ASSERT_TRUE(tab->install(3, slot));
    test::live_pmd pmd;
    ASSERT_TRUE(pmd.start(d.p.string(), d / "out.pcap", l2_keep + "--table " + t.name));
    auto st = attach_status(t.name);
    ASSERT_TRUE(st);
    tab->connect_consumer(*st);

    frame_list expected;
    auto feed = [&](std::size_t i, bool accepted) {
        pmd.feed(srtp[i]);
        if (accepted) expected.push_back(plain[i]);
    };
    for (std::size_t i = 0; i < rekey_at; ++i)
        if (i != late_ok && i != late_refused) feed(i, true);
    ASSERT_TRUE(wait_for([&] { return st->load(3).packets == rekey_at - 2; })) << st->load(3).packets;
    EXPECT_EQ(st->load(3).in.roc, 1u);

    slot.in = keyed_leg(cm80, k2, 2);
    slot.rekey_grace_ms = 400;
    ASSERT_TRUE(tab->install(3, slot));
    std::this_thread::sleep_for(30ms);
    const uint64_t gen2 = tab->peek_generation(3);
    for (std::size_t i = rekey_at; i < rekey_at + 5; ++i) feed(i, true);
    feed(late_ok, true);     // key 1, never seen, inside the grace: accepted
    feed(replayed, false);   // key 1, already accepted before the rekey: a replay
    for (std::size_t i = rekey_at + 5; i < rekey_at + 20; ++i) feed(i, true);
    ASSERT_TRUE(wait_for([&] { return st->load(3).packets == rekey_at - 2 + 21; })) << st->load(3).packets;
    EXPECT_EQ(st->load(3).generation, gen2);
    EXPECT_EQ(st->load(3).replay_drop, 1u);
    std::this_thread::sleep_for(600ms); // the grace is over: the entry is rebuilt with key 2 only
    feed(late_refused, false);          // key 1: refused now
    for (std::size_t i = rekey_at + 20; i < srtp.size(); ++i) feed(i, true);
    auto r = pmd.finish();
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(status(r.stats, "ok"), expected.size()) << r.out;
    EXPECT_EQ(status(r.stats, "replay_duplicate"), 1u) << r.out;
    EXPECT_NE(r.out.find("rekeyed 1 rebuilt 1"), std::string::npos) << r.out;
    EXPECT_EQ(test::capture_frames(d / "out.pcap"), expected);
    const auto s = table::status_mapping::attach(t.name + ".status")->load(3);
    EXPECT_EQ(s.in.roc, 1u);
    EXPECT_EQ(s.packets, expected.size());
}

// kill -9 of the pmd mid-stream, then a restart: the flows resume their ROC from the status
// region (in leg: the receiver's ROC; out leg: the sender's ROC and an SRTCP index past the
// recorded one), checked by libsrtp on the whole output of both runs.
TEST(pmd_table, kill9_and_restart_resume_roc_from_status) {
    tmpdir d("srtpo-pmdtable");
    table_name t;
    const auto sum = net::write_rtp_capture(d / "plain.pcap", capture(1, 90, 10));
    const auto& in_s = sum.streams[0];  // arrives SRTP, leaves plain (unprotect)
    const auto& out_s = sum.streams[1]; // arrives plain, leaves SRTP (protect)
    const auto kin = test::random_key(30, 41), kout = test::random_key(30, 42);
    ASSERT_EQ(test::libsrtp_pass(d / "plain.pcap", d / "srtp.pcap", cm80, kin, true), sum.rtp_packets + sum.rtcp_packets);
    const auto plain = test::capture_frames(d / "plain.pcap"), srtp = test::capture_frames(d / "srtp.pcap");
    auto is_in = [&](const std::vector<std::byte>& f) {
        const auto p = dst_port_of(f);
        return p == in_s.dst_port || p == in_s.rtcp_dst_port;
    };
    frame_list input;
    for (std::size_t i = 0; i < plain.size(); ++i) input.push_back(is_in(plain[i]) ? srtp[i] : plain[i]);
    const std::size_t split = input.size() * 2 / 3; // both streams have wrapped SEQ by then
    frame_list second(input.begin() + static_cast<std::ptrdiff_t>(split), input.end());
    test::write_frames(d / "second.pcap", second);

    auto tab = table::sessions_mapping::create(t.name, 16);
    ASSERT_TRUE(tab);
    ASSERT_TRUE(tab->install(0, slot_for(in_s.dst, in_s.dst_port, table::leg_action::unprotect, keyed_leg(cm80, kin))));
    ASSERT_TRUE(tab->install(1, slot_for(out_s.dst, out_s.dst_port, table::leg_action::protect, std::nullopt, keyed_leg(cm80, kout, 0, false))));
    {
        test::live_pmd pmd;
        ASSERT_TRUE(pmd.start(d.p.string(), d / "out1.pcap", l2_keep + "--table " + t.name));
        auto st = attach_status(t.name);
        ASSERT_TRUE(st);
        std::size_t n_in = 0;
        for (std::size_t i = 0; i < split; ++i) {
            pmd.feed(input[i]);
            n_in += is_in(input[i]);
        }
        ASSERT_TRUE(wait_for([&] { return st->load(0).packets + st->load(1).packets == split; }))
            << st->load(0).packets << " + " << st->load(1).packets;
        EXPECT_EQ(st->load(0).packets, n_in);
        EXPECT_EQ(st->load(0).in.roc, 1u);
        EXPECT_EQ(st->load(1).out.roc, 1u);
        EXPECT_TRUE(st->load(1).srtcp.out_valid);
        pmd.kill9();
    }
    auto r = test::run_pmd_args(d / "second.pcap", d / "out2.pcap", l2_keep + "--table " + t.name);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(status(r.stats, "ok"), second.size()) << r.out;
    EXPECT_NE(r.out.find("resumed 2"), std::string::npos) << r.out;

    // In leg: the plain frames of both runs. Out leg: libsrtp opens every frame of both runs.
    frame_list out = test::capture_frames(d / "out1.pcap");
    for (auto& f : test::capture_frames(d / "out2.pcap")) out.push_back(f);
    ASSERT_EQ(out.size(), input.size());
    frame_list in_plain, out_plain, in_got, out_got;
    for (const auto& f : plain) (is_in(f) ? in_plain : out_plain).push_back(f);
    for (const auto& f : out) (is_in(f) ? in_got : out_got).push_back(f);
    EXPECT_EQ(in_got, in_plain);
    test::write_frames(d / "out_leg.pcap", out_got);
    EXPECT_EQ(test::libsrtp_pass(d / "out_leg.pcap", d / "out_back.pcap", cm80, kout, false), out_plain.size());
    EXPECT_EQ(test::capture_frames(d / "out_back.pcap"), out_plain);
    const auto s = table::status_mapping::attach(t.name + ".status")->load(1);
    EXPECT_EQ(s.packets, out_plain.size()); // counters continue across the restart
}

// A missing table, and a file that is not a sessions region, are refused with exit 2 and the
// table's precise message.
TEST(pmd_table, missing_or_mismatched_table_is_refused) {
    tmpdir d("srtpo-pmdtable");
    net::write_rtp_capture(d / "plain.pcap", capture());
    table_name t;
    auto r = test::run_pmd_args(d / "plain.pcap", d / "out.pcap", "--table " + t.name);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("--table " + t.name), std::string::npos) << r.out;
    auto wrong = table::status_mapping::create(t.name, 64); // a status region under the sessions name
    ASSERT_TRUE(wrong);
    r = test::run_pmd_args(d / "plain.pcap", d / "out.pcap", "--table " + t.name);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("is a status region, not a sessions region"), std::string::npos) << r.out;
    r = test::run_pmd_args(d / "plain.pcap", d / "out.pcap", "");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("--flows FILE.toml or --table NAME is required"), std::string::npos) << r.out;
}

} // namespace
