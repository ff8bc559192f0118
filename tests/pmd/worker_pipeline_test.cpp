// The worker's two-stage burst pipeline (ADR 0023), in process over a net_ring port
// (--no-huge --no-pci): a full burst is held until the next poll and runs then, in order; a
// burst that is not full runs at once; offline() (and run()'s exit) send what is still held.
// And the registry's reclaim: an entry retired while a worker may hold it in a staged burst is
// freed only after two grace periods.

#include "flow_registry.hpp"
#include "worker.hpp"

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include "../net/frame_builder.hpp"
#include "ring_port.hpp"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using namespace srtpo;
using namespace srtpo::pmd;

namespace {

constexpr auto cm80 = engine::suite::aes_cm_128_hmac_sha1_80;
constexpr auto gcm128 = engine::suite::aead_aes_128_gcm;
constexpr std::size_t l2l3l4 = 14 + 20 + 8;
constexpr std::size_t rtp_len = 12 + 40;
constexpr uint16_t flow_port = 20000;

/// The frame builder's IPv4 destination.
net::ip_address flow_addr() {
    net::ip_address a;
    a.family = net::ip_family::ipv4;
    for (int i = 0; i < 4; ++i) a.bytes[i] = std::byte{net::test::v4_dst[i]};
    return a;
}

engine::session_ptr make(engine::direction d, engine::suite suite = cm80) {
    const auto& t = engine::traits(suite);
    std::vector<std::byte> k(t.master_key_len + t.master_salt_len);
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::byte(i * 7 + 1);
    engine::session_config c;
    c.s = suite;
    c.dir = d;
    engine::master_key_config m;
    m.key = {k.data(), t.master_key_len};
    m.salt = {k.data() + t.master_key_len, t.master_salt_len};
    c.keys.push_back(m);
    return std::move(engine::make_session(c).value());
}

/// SRTP packets of one stream, sequence numbers 1..n, in Ethernet/IPv4/UDP frames with both
/// checksums set (the tests' own frame builder), addressed to the flow.
std::vector<std::vector<std::byte>> srtp_frames(std::size_t n) {
    auto prot = make(engine::direction::protect);
    auto ctx = std::move(engine::worker_ctx::create().value());
    std::vector<std::vector<std::byte>> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::byte> rtp(rtp_len + 64, std::byte{0});
        rtp[0] = std::byte{0x80};
        rtp[2] = std::byte((i + 1) >> 8);
        rtp[3] = std::byte(i + 1);
        rtp[11] = std::byte{0x42};
        for (std::size_t k = 12; k < rtp_len; ++k) rtp[k] = std::byte(k + i);
        engine::op o{prot.get(), {rtp.data(), static_cast<uint16_t>(rtp_len), static_cast<uint16_t>(rtp.size())}, engine::status::ok};
        engine::protect_rtp(*ctx, {&o, 1});
        EXPECT_EQ(o.st, engine::status::ok);
        rtp.resize(o.pkt.len);
        net::test::frame_spec spec;
        spec.dst_port = flow_port;
        spec.payload = std::move(rtp);
        out[i] = net::test::build_frame(spec);
    }
    return out;
}

bench::ring_port& the_rig() {
    static bench::ring_port r;
    if (r.pool) return r;
    const auto e = bench::make_ring_port("wp", 1023, 0, 256, 256, r);
    EXPECT_EQ(e, "");
    return r;
}

/// One unprotect flow and a worker of burst size `burst` on the ring port.
struct fixture {
    std::unique_ptr<flow_registry> reg = std::move(flow_registry::create(4, 1, 0).value());
    std::unique_ptr<worker> w;
    /// transcrypt: CM_80 in, AEAD_AES_128_GCM out (the worker's interleaved schedule).
    explicit fixture(uint16_t burst, bool transcrypt = false) {
        auto e = std::make_unique<flow_entry>();
        e->id = 0;
        e->key = make_flow_key(flow_addr(), flow_port);
        e->act = transcrypt ? action::transcrypt : action::unprotect;
        e->in = make(engine::direction::unprotect);
        if (transcrypt) e->out = make(engine::direction::protect, gcm128);
        e->adopted.store(true, std::memory_order_relaxed);
        EXPECT_TRUE(reg->publish(std::move(e)));
        worker_config wc;
        queue_io q;
        q.rx_port = q.tx_port = the_rig().port;
        wc.queues.push_back(q);
        wc.nb_ports = static_cast<uint16_t>(rte_eth_dev_count_total());
        wc.burst = burst;
        w = std::make_unique<worker>(std::move(wc), *reg, std::move(engine::worker_ctx::create().value()), 0);
        w->online();
    }
};

void enqueue(const std::vector<std::vector<std::byte>>& frames, std::size_t from, std::size_t n) {
    bench::ring_port& r = the_rig();
    for (std::size_t i = from; i < from + n; ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(r.pool);
        ASSERT_NE(m, nullptr);
        std::memcpy(rte_pktmbuf_mtod(m, void*), frames[i].data(), frames[i].size());
        m->data_len = static_cast<uint16_t>(frames[i].size());
        m->pkt_len = static_cast<uint32_t>(frames[i].size());
        ASSERT_EQ(rte_ring_enqueue(r.rx, m), 0);
    }
}

/// Takes what the worker sent: the RTP sequence numbers, in order. Each frame must be the
/// decrypted packet (RTP length, the plaintext payload of its sequence number) — after `out`
/// unprotects it, if given (transcrypt).
std::vector<uint16_t> sent(engine::session_rt* out = nullptr) {
    std::vector<uint16_t> seqs;
    void* m = nullptr;
    auto ctx = std::move(engine::worker_ctx::create().value());
    while (rte_ring_dequeue(the_rig().tx, &m) == 0) {
        auto* mb = static_cast<rte_mbuf*>(m);
        auto* p = rte_pktmbuf_mtod(mb, std::byte*);
        if (out) {
            engine::op o{out, {p + l2l3l4, static_cast<uint16_t>(mb->data_len - l2l3l4), static_cast<uint16_t>(mb->data_len - l2l3l4)},
                         engine::status::ok};
            engine::unprotect_rtp(*ctx, {&o, 1});
            EXPECT_EQ(o.st, engine::status::ok);
            mb->data_len = static_cast<uint16_t>(l2l3l4 + o.pkt.len);
        }
        EXPECT_EQ(mb->data_len, l2l3l4 + rtp_len);
        const auto seq = static_cast<uint16_t>(uint16_t(p[l2l3l4 + 2]) << 8 | uint16_t(p[l2l3l4 + 3]));
        for (std::size_t k = 12; k < rtp_len; ++k) EXPECT_EQ(p[l2l3l4 + k], std::byte(k + seq - 1)) << "seq " << seq;
        seqs.push_back(seq);
        rte_pktmbuf_free(mb);
    }
    return seqs;
}

TEST(worker_pipeline, full_burst_is_held_until_the_next_poll_then_runs_in_order) {
    fixture f(4);
    const auto frames = srtp_frames(8);
    enqueue(frames, 0, 8); // two full bursts
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_TRUE(sent().empty()) << "the first full burst is staged, not sent";
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(), (std::vector<uint16_t>{1, 2, 3, 4}));
    EXPECT_TRUE(f.w->poll_once()); // nothing new: the held burst runs
    EXPECT_EQ(sent(), (std::vector<uint16_t>{5, 6, 7, 8}));
    EXPECT_FALSE(f.w->poll_once());
    EXPECT_EQ(f.w->stats().by_status.n[0], 8u);
    EXPECT_EQ(f.w->stats().tx, 8u);
    f.w->offline();
}

TEST(worker_pipeline, transcrypt_bursts_interleave_and_stay_in_order) {
    fixture f(4, true);
    auto rx = make(engine::direction::unprotect, gcm128); // the far end of the GCM leg
    const auto frames = srtp_frames(12);
    enqueue(frames, 0, 12);
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_TRUE(sent(rx.get()).empty());
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(rx.get()), (std::vector<uint16_t>{1, 2, 3, 4}));
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(rx.get()), (std::vector<uint16_t>{5, 6, 7, 8}));
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(rx.get()), (std::vector<uint16_t>{9, 10, 11, 12}));
    EXPECT_FALSE(f.w->poll_once());
    EXPECT_EQ(f.w->stats().by_status.n[0], 12u);
    f.w->offline();
}

TEST(worker_pipeline, burst_that_is_not_full_runs_at_once) {
    fixture f(4);
    const auto frames = srtp_frames(3);
    enqueue(frames, 0, 3);
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(), (std::vector<uint16_t>{1, 2, 3}));
    f.w->offline();
}

TEST(worker_pipeline, offline_sends_the_held_burst) {
    fixture f(4);
    const auto frames = srtp_frames(4);
    enqueue(frames, 0, 4);
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_TRUE(sent().empty());
    f.w->offline();
    EXPECT_EQ(sent(), (std::vector<uint16_t>{1, 2, 3, 4}));
    EXPECT_EQ(f.w->stats().tx, 4u);
}

TEST(worker_pipeline, burst_size_one_is_never_held) {
    fixture f(1);
    const auto frames = srtp_frames(2);
    enqueue(frames, 0, 2);
    EXPECT_TRUE(f.w->poll_once());
    EXPECT_EQ(sent(), (std::vector<uint16_t>{1}));
    f.w->offline();
    EXPECT_TRUE(sent().empty()) << "nothing was held";
    // The second frame is still in the rx ring: free it.
    void* m = nullptr;
    while (rte_ring_dequeue(the_rig().rx, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}

TEST(worker_pipeline, retired_entry_waits_two_grace_periods) {
    auto reg = std::move(flow_registry::create(4, 1, 0).value());
    auto e = std::make_unique<flow_entry>();
    e->id = 1;
    e->key = make_flow_key(flow_addr(), flow_port);
    e->act = action::forward;
    e->adopted.store(true, std::memory_order_relaxed);
    ASSERT_TRUE(reg->publish(std::move(e)));
    rte_rcu_qsbr* rcu = reg->rcu();
    ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu, 0), 0);
    rte_rcu_qsbr_thread_online(rcu, 0);
    reg->remove(1);
    EXPECT_EQ(reg->reclaim(), 1u) << "no quiescent state reported yet";
    rte_rcu_qsbr_quiescent(rcu, 0);
    // One report: the worker may still hold the entry in a burst staged before it.
    EXPECT_EQ(reg->reclaim(), 1u);
    EXPECT_EQ(reg->reclaim(), 1u) << "the second grace period needs a report of its own";
    rte_rcu_qsbr_quiescent(rcu, 0);
    EXPECT_EQ(reg->reclaim(), 0u);
    rte_rcu_qsbr_thread_offline(rcu, 0);
    (void)rte_rcu_qsbr_thread_unregister(rcu, 0);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const std::string prefix = "--file-prefix=srtpo-wp-" + std::to_string(getpid());
    std::vector<std::string> eal = {"worker_pipeline_test", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
                                    prefix, "-l", "0", "--log-level=warning", "--no-telemetry"};
    std::vector<char*> eargv;
    for (auto& a : eal) eargv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eargv.size()), eargv.data()) < 0) {
        std::fprintf(stderr, "worker_pipeline_test: EAL init failed\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
