#include "worker.hpp"

#include "rx_checksum.hpp"

#include <srtpo/net/udp_rewrite.hpp>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace srtpo::pmd {

namespace {

// The four engine calls of a burst, in the order they run: unprotect first so that transcrypt
// packets can join the protect calls of the same burst.
enum cls : uint8_t { unprotect_rtp, unprotect_rtcp, protect_rtp, protect_rtcp, cls_count };

constexpr uint8_t none = 0xff;

void put16(std::byte* p, uint16_t v) noexcept {
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v & 0xff);
}

/// send_from / send_to: new addresses and ports; set_udp_payload_len then recomputes the IPv4
/// header checksum and the UDP checksum from `f`, so `f` is updated together with the bytes.
/// RTCP that arrived on the RTCP port (P + 1) of a flow without rtcp-mux leaves from and to the
/// RTCP ports next to send_from/send_to (RFC 3550 §11), as a media anchor's legs expect.
void rewrite_endpoints(std::byte* frame, net::udp_frame& f, const flow_entry& fl, bool rtcp_port) noexcept {
    const uint16_t next = rtcp_port ? 1 : 0;
    const bool v6 = f.ip_version == 6;
    const std::size_t alen = v6 ? 16 : 4;
    if (fl.send_from) {
        std::memcpy(frame + f.l3_offset + (v6 ? 8 : 12), fl.send_from->addr.bytes.data(), alen);
        f.src = fl.send_from->addr;
        f.src_port = static_cast<uint16_t>(fl.send_from->port + next);
        put16(frame + f.l4_offset, f.src_port);
    }
    if (fl.send_to) {
        std::memcpy(frame + f.l3_offset + (v6 ? 24 : 16), fl.send_to->addr.bytes.data(), alen);
        f.dst = fl.send_to->addr;
        f.dst_port = static_cast<uint16_t>(fl.send_to->port + next);
        put16(frame + f.l4_offset + 2, f.dst_port);
    }
}

/// Tells the port to finish the checksums set_udp_payload_len(checksum_mode::offload) prepared.
/// An IPv4 datagram sent without a UDP checksum (0, RFC 768) keeps it that way.
void offload_checksums(rte_mbuf& m, const net::udp_frame& f, const std::byte* frame) noexcept {
    m.l2_len = static_cast<uint8_t>(f.l3_offset) & 0x7f;
    m.l3_len = static_cast<uint16_t>(f.l4_offset - f.l3_offset) & 0x1ff;
    const bool udp_sum = f.ip_version == 6 || frame[f.l4_offset + 6] != std::byte{0} || frame[f.l4_offset + 7] != std::byte{0};
    m.ol_flags |= (f.ip_version == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM : RTE_MBUF_F_TX_IPV6) |
                  (udp_sum ? RTE_MBUF_F_TX_UDP_CKSUM : 0);
}

/// The port's verdict from one pair of the mbuf's RX checksum flags (rx_checksum.hpp): the IP or
/// the L4 field's GOOD, BAD and NONE values under its mask. NONE: the port verified the checksum
/// but did not update the field, i.e. the data is good.
rx_verdict verdict(uint64_t ol_flags, uint64_t mask, uint64_t good, uint64_t bad, uint64_t not_updated) noexcept {
    const uint64_t v = ol_flags & mask;
    if (v == good || v == not_updated) return rx_verdict::good;
    return v == bad ? rx_verdict::bad : rx_verdict::unknown;
}

rx_verdict ip_verdict(const rte_mbuf& m) noexcept {
    return verdict(m.ol_flags, RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                   RTE_MBUF_F_RX_IP_CKSUM_NONE);
}

rx_verdict udp_verdict(const rte_mbuf& m) noexcept {
    return verdict(m.ol_flags, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD,
                   RTE_MBUF_F_RX_L4_CKSUM_NONE);
}

/// Writes an engine op field by field. Assigning a braced op went through a stack temporary
/// that was written with narrow stores and copied with 16-octet loads spanning them, and such a
/// load waits for the stores to reach the cache (84 % of run_protect's samples, where the
/// length the unprotect call just wrote is read the same way).
void set_op(engine::op& o, engine::session_rt* session, std::byte* data, uint16_t len, uint16_t capacity) noexcept {
    o.session = session;
    o.pkt.data = data;
    o.pkt.len = len;
    o.pkt.capacity = capacity;
    o.st = engine::status::ok;
}

/// How many packets ahead of its use each prefetch stage runs (as in the engine's bursts).
constexpr unsigned prefetch_distance = 8;

/// The frame's lines: parse reads the headers, then the engine reads (HMAC, GCM) and writes
/// (decryption) the whole RTP packet. Up to four lines (a 172-octet RTP packet behind 42 octets of
/// headers); longer frames are streamed by the hardware prefetcher once started.
void prefetch_frame(const rte_mbuf& m) noexcept {
    const auto* p = rte_pktmbuf_mtod(&m, const char*);
    const unsigned lines = std::min<unsigned>((m.data_len + 63u) / 64u, 4u);
    for (unsigned l = 0; l < lines; ++l) rte_prefetch0(p + 64 * l);
}

/// The flow entry's three per-packet lines (flow_entry.hpp): action and sessions, owner and
/// counters, status entry and rewrite addresses.
void prefetch_entry(const flow_entry* e) noexcept {
    if (!e) return;
    const auto* p = reinterpret_cast<const char*>(e);
    rte_prefetch0(p);
    rte_prefetch0(p + 64);
    rte_prefetch0(p + 128);
}

/// Line 0 of the entry's sessions; the engine's burst prefetch takes the rest (session_impl.hpp).
void prefetch_sessions(const flow_entry* e) noexcept {
    if (!e) return;
    if (const auto* in = e->in.get()) rte_prefetch0(in);
    if (const auto* out = e->out.get()) rte_prefetch0(out);
}

} // namespace

struct worker::slot {
    rte_mbuf* m = nullptr;
    net::udp_frame f;
    flow_entry* flow = nullptr;
    media_kind kind = media_kind::rtp;
    uint8_t first_cls = none, first_op = 0; ///< unprotect or protect op
    uint8_t second_op = none;               ///< transcrypt: its protect op (class first_cls + 2)
    bool fast = false;
    bool rtcp_port = false; ///< arrived on P + 1 of a flow without rtcp-mux
    bool exc = false; ///< exception path (queued after the lookup, in arrival order)

    /// Ready for a received frame: every field a later step reads before writing it, one by one
    /// (`f` is the parse's to fill). Assigning a whole `slot{}` compiled to `rep stos` over its
    /// ~100 octets, the single most expensive instruction of the receive loop.
    void reset(rte_mbuf* mbuf) noexcept {
        m = mbuf;
        flow = nullptr;
        kind = media_kind::rtp;
        first_cls = none;
        first_op = 0;
        second_op = none;
        fast = rtcp_port = exc = false;
    }
};

/// One received burst (ADR 0023): staged in one poll of its queue, run in the next. Every field
/// is written by an earlier step of the burst before a later one reads it.
struct worker::burst {
    uint16_t n = 0; ///< frames received; 0: nothing held
    std::array<slot, engine::max_burst> slots;
    /// The media frames' flow keys and slots (receive), what the lookup found for each (lookup).
    std::array<flow_key, engine::max_burst> keys;
    std::array<uint8_t, engine::max_burst> key_slot;
    unsigned nkeys = 0;
    std::array<flow_entry*, engine::max_burst> entries; ///< null: no flow
    std::array<bool, engine::max_burst> alias;           ///< the key was the flow's port P + 1
    /// The burst's ops by class (unprotect RTP/RTCP, protect RTP/RTCP).
    std::array<std::array<engine::op, engine::max_burst>, cls_count> ops;
    std::array<uint8_t, cls_count> nops{};
    bool protects = false; ///< it has protect calls (protect or transcrypt flows), not only unprotect
    /// Flows whose status entry this burst updates: one write per flow per burst, at its end.
    std::array<flow_entry*, engine::max_burst> touched{};
    unsigned ntouched = 0;
    uint64_t serial = 0;
    /// authenticate_only verifies a copy: max_burst x scratch_bytes.
    std::unique_ptr<std::byte[]> scratch = std::make_unique<std::byte[]>(engine::max_burst * scratch_bytes);
};

worker::worker(worker_config cfg, flow_registry& reg, std::unique_ptr<engine::worker_ctx> ctx, unsigned lcore)
    : _cfg(std::move(cfg)), _reg(reg), _ctx(std::move(ctx)) {
    _cfg.burst = std::clamp<uint16_t>(_cfg.burst, 1, static_cast<uint16_t>(engine::max_burst));
    _st.lcore = lcore;
    _st.ports.resize(_cfg.nb_ports);
    _st.flows.resize(_cfg.n_static);
    _pipes.resize(_cfg.queues.size());
    for (std::size_t i = 0; i < _pipes.size(); ++i) {
        _pipes[i].q = _cfg.queues[i];
        for (auto& b : _pipes[i].b) b = std::make_unique<burst>();
    }
    _pub.reset(_st);
}

worker::~worker() = default;

void worker::to_exception(rte_mbuf* m) noexcept {
    if (!_cfg.exception_port) {
        ++_st.exception_dropped;
        rte_pktmbuf_free(m);
        return;
    }
    _exc[_nexc++] = m;
}

void worker::flush_exception() noexcept {
    if (_nexc == 0) return;
    const uint16_t sent = rte_eth_tx_burst(*_cfg.exception_port, _cfg.index, _exc.data(), static_cast<uint16_t>(_nexc));
    _st.exception_out += sent;
    _st.ports[*_cfg.exception_port].tx += sent;
    for (unsigned i = sent; i < _nexc; ++i) {
        _st.drop(drop_reason::exception_tx_full);
        rte_pktmbuf_free(_exc[i]);
    }
    _nexc = 0;
}

// Frames the kernel sends on the exception (TAP) port leave through the main port unchanged.
void worker::poll_exception() noexcept {
    std::array<rte_mbuf*, engine::max_burst> pkts;
    const uint16_t n = rte_eth_rx_burst(*_cfg.exception_port, *_cfg.exception_queue, pkts.data(), _cfg.burst);
    if (n == 0) return;
    _st.ports[*_cfg.exception_port].rx += n;
    const uint16_t sent = rte_eth_tx_burst(_cfg.exception_return, _cfg.index, pkts.data(), n);
    _st.ports[_cfg.exception_return].tx += sent;
    _st.ports[_cfg.exception_return].exception_in += sent;
    for (uint16_t i = sent; i < n; ++i) {
        _st.drop(drop_reason::tx_full);
        rte_pktmbuf_free(pkts[i]);
    }
}

// One poll of a queue (ADR 0023). A full burst is received, looked up and its ops built in one
// poll, and runs in the next. Its steps alternate with the held burst's: each step's misses (the
// index buckets, the flow entries, the sessions' line 0, their other lines) are asked for just
// before one of the held burst's engine calls or its rewrite, and are in when the next step
// reads them. A burst that is not full means the rx queue is drained: there is nothing left to
// overlap with, so it runs at once, after the held one (no added latency at light load; a burst
// size of 1 is never held for the same reason).
bool worker::poll(pipe& p) noexcept {
    burst& held = *p.b[p.held];
    burst& next = *p.b[p.held ^ 1u];
    const bool hold = _cfg.burst > 1;
    const bool got = receive(p.q, next, hold);
    const bool ran = held.n != 0;
    if (got && hold && next.n == _cfg.burst) {
        if (ran && held.protects) {
            // Three steps of the held burst to interleave with: buckets (asked for by receive)
            // in during its unprotect, entries during its protect, sessions' line 0 during its
            // rewrite, their other lines during the next poll's receive.
            run_unprotect(held);
            lookup(next);
            run_protect(held);
            build_ops(next);
            run_tx(p.q, held);
            prefetch_burst_sessions(next);
        } else if (ran) {
            // One engine step, unprotect: buckets (asked for during receive's parse loop) in by
            // the lookup, entries during the unprotect, sessions' line 0 (asked for by the ops
            // loop) during the rewrite, their other lines during the next poll's receive.
            lookup(next);
            prefetch_entries(next);
            run_unprotect(held);
            build_ops(next);
            run_tx(p.q, held);
            prefetch_burst_sessions(next);
        } else {
            lookup(next);
            build_ops(next);
            prefetch_burst_sessions(next);
        }
        p.held ^= 1u;
        return true;
    }
    if (ran) finish(p.q, held);
    if (got) {
        lookup(next);
        build_ops(next);
        finish(p.q, next);
    }
    return got || ran;
}

void worker::finish(const queue_io& q, burst& b) noexcept {
    run_unprotect(b);
    run_protect(b);
    run_tx(q, b);
}

void worker::drain() noexcept {
    for (auto& p : _pipes)
        if (p.b[p.held]->n) finish(p.q, *p.b[p.held]);
}

bool worker::receive(const queue_io& q, burst& b, bool may_hold) noexcept {
    std::array<rte_mbuf*, engine::max_burst> pkts;
    const uint16_t n = rte_eth_rx_burst(q.rx_port, q.rx_queue, pkts.data(), _cfg.burst);
    b.n = n;
    if (n == 0) return false;
    ++_st.bursts;
    _st.rx += n;
    _st.ports[q.rx_port].rx += n;

    slot* const slots = b.slots.data();
    auto& keys = b.keys;
    auto& key_slot = b.key_slot;
    unsigned nkeys = 0;

    // Prefetch (ADR 0017) in stages, each far enough ahead of its use that thousands of cold
    // flows cost overlapped misses instead of serial ones: mbuf headers now, frame data a few
    // packets ahead of the parse, flow entries after the lookup, sessions ahead of the ops loop.
    for (uint16_t i = 0; i < n; ++i) rte_prefetch0(pkts[i]);
    for (uint16_t i = 0; i < n && i < prefetch_distance; ++i) prefetch_frame(*pkts[i]);

    // 1. classify: bounds-checked parse, RFC 7983 demux.
    for (uint16_t i = 0; i < n; ++i) {
        if (i + prefetch_distance < n) prefetch_frame(*pkts[i + prefetch_distance]);
        slot& s = slots[i];
        s.reset(pkts[i]);
        if (s.m->nb_segs != 1) {
            _st.drop(drop_reason::multi_seg);
            rte_pktmbuf_free(s.m);
            continue;
        }
        const auto* data = rte_pktmbuf_mtod(s.m, const std::byte*);
        switch (classify_frame({data, s.m->data_len}, s.f)) {
        case frame_class::bad_frame:
            ++_st.frame[static_cast<std::size_t>(s.f.status)];
            _st.drop(drop_reason::bad_frame);
            s.exc = true;
            continue;
        case frame_class::not_media:
            _st.drop(drop_reason::not_media);
            s.exc = true;
            continue;
        case frame_class::media: break;
        }
        if (!checksums_pass(ip_verdict(*s.m), udp_verdict(*s.m), {data, s.m->data_len}, s.f)) {
            _st.drop(drop_reason::bad_checksum);
            rte_pktmbuf_free(s.m);
            continue;
        }
        set_flow_key(keys[nkeys], s.f.dst, s.f.dst_port);
        // A burst that may be held: its index buckets asked for as its keys appear, so that they
        // arrive during the rest of this loop and the held burst's crypto.
        if (may_hold) _reg.prefetch_bulk(&keys[nkeys], 1);
        key_slot[nkeys] = static_cast<uint8_t>(i);
        ++nkeys;
    }
    b.nkeys = nkeys;
    return true;
}

// 2. one bulk lookup for the burst; the entries are prefetched by prefetch_entries (before an
// unprotect-only held burst runs) or by build_ops, ahead of its loop.
void worker::lookup(burst& b) noexcept {
    const unsigned nkeys = b.nkeys;
    std::array<const flow_key*, engine::max_burst> key_ptrs{}; // {}: GCC cannot see that only nkeys are read
    for (unsigned k = 0; k < nkeys; ++k) key_ptrs[k] = &b.keys[k];
    std::array<flow_match, engine::max_burst> refs;
    const uint64_t hit = _reg.lookup_bulk(key_ptrs.data(), nkeys, refs.data());
    for (unsigned k = 0; k < nkeys; ++k) {
        b.entries[k] = hit >> k & 1u ? refs[k].entry : nullptr;
        b.alias[k] = hit >> k & 1u ? refs[k].alias : false;
    }
    b.serial = ++_burst_serial;
    b.ntouched = 0;
}

// 2b. before a held burst's unprotect-only step (poll): every entry's per-packet lines, which
// the ops loop reads after that step. Where the held burst has a protect step too, the ops
// loop's own prefetches do as well as this pass (PERFORMANCE.md §7.9).
void worker::prefetch_entries(const burst& b) noexcept {
    for (unsigned k = 0; k < b.nkeys; ++k) prefetch_entry(b.entries[k]);
}

void worker::build_ops(burst& b) noexcept {
    slot* const slots = b.slots.data();
    const auto& key_slot = b.key_slot;
    const auto& entries = b.entries;
    const unsigned nkeys = b.nkeys;
    // Entries' lines two distances ahead, sessions one distance ahead of the ops loop: a few
    // dozen misses in flight at a time rather than a hundred at once.
    for (unsigned k = 0; k < nkeys && k < 2 * prefetch_distance; ++k) prefetch_entry(entries[k]);
    for (unsigned k = 0; k < nkeys && k < prefetch_distance; ++k) prefetch_sessions(entries[k]);

    // 3. ops, grouped into the four classes.
    auto& ops = b.ops;
    auto& nops = b.nops;
    nops = {};
    b.protects = false;
    for (unsigned k = 0; k < nkeys; ++k) {
        if (k + 2 * prefetch_distance < nkeys) prefetch_entry(entries[k + 2 * prefetch_distance]);
        if (k + prefetch_distance < nkeys) prefetch_sessions(entries[k + prefetch_distance]);
        slot& s = slots[key_slot[k]];
        flow_entry* e = entries[k];
        if (!e) {
            _st.drop(drop_reason::no_flow);
            s.exc = true;
            continue;
        }
        if (!claim(*e)) {
            _st.drop(drop_reason::not_owner);
            rte_pktmbuf_free(s.m);
            continue;
        }
        if (!e->in && !plain_udp_checksum_ok(udp_verdict(*s.m), {rte_pktmbuf_mtod(s.m, const std::byte*), s.m->data_len}, s.f)) {
            _st.drop(drop_reason::bad_checksum);
            rte_pktmbuf_free(s.m);
            continue;
        }
        s.fast = true;
        s.flow = e;
        flow_entry& fl = *e;
        if (fl.static_index != no_static_index) ++_st.flows[fl.static_index].rx;
        auto* payload = rte_pktmbuf_mtod(s.m, std::byte*) + s.f.payload_offset;
        s.rtcp_port = b.alias[k];
        s.kind = kind_of(static_cast<uint8_t>(payload[1]), b.alias[k] || fl.proto == table::flow_proto::rtcp);
        if (fl.live) {
            // The SSRC whose progress the status entry shows (RFC 3550 §5.1 / §6.4.1 offsets).
            const std::size_t at = s.kind == media_kind::rtcp ? 4 : 8;
            if (s.f.payload_len >= at + 4) {
                fl.last_ssrc = uint32_t{static_cast<uint8_t>(payload[at])} << 24 | uint32_t{static_cast<uint8_t>(payload[at + 1])} << 16 |
                               uint32_t{static_cast<uint8_t>(payload[at + 2])} << 8 | uint32_t{static_cast<uint8_t>(payload[at + 3])};
            }
            touch(fl, b);
        }
        ++(s.kind == media_kind::rtcp ? _st.rtcp : _st.rtp);
        const std::size_t room = std::size_t{s.m->data_len} + rte_pktmbuf_tailroom(s.m) - s.f.payload_offset;
        engine::packet_ref pkt{payload, static_cast<uint16_t>(s.f.payload_len),
                               static_cast<uint16_t>(std::min<std::size_t>(room, 65535))};
        const uint8_t rtcp = s.kind == media_kind::rtcp ? 1 : 0;
        switch (fl.act) {
        case action::forward: break;
        case action::authenticate: {
            // Verify a copy: the original bytes leave unchanged (tag, MKI and ciphertext kept).
            if (s.f.payload_len > scratch_bytes) {
                s.fast = false;
                _st.drop(drop_reason::too_large);
                rte_pktmbuf_free(s.m);
                continue;
            }
            std::byte* copy = b.scratch.get() + std::size_t{key_slot[k]} * scratch_bytes;
            std::memcpy(copy, payload, s.f.payload_len);
            pkt = {copy, static_cast<uint16_t>(s.f.payload_len), static_cast<uint16_t>(scratch_bytes)};
            [[fallthrough]];
        }
        case action::unprotect:
        case action::transcrypt:
            b.protects |= fl.act == action::transcrypt;
            s.first_cls = static_cast<uint8_t>(unprotect_rtp + rtcp);
            s.first_op = nops[s.first_cls]++;
            set_op(ops[s.first_cls][s.first_op], fl.in.get(), pkt.data, pkt.len, pkt.capacity);
            break;
        case action::protect:
            b.protects = true;
            s.first_cls = static_cast<uint8_t>(protect_rtp + rtcp);
            s.first_op = nops[s.first_cls]++;
            set_op(ops[s.first_cls][s.first_op], fl.out.get(), pkt.data, pkt.len, pkt.capacity);
            break;
        }
    }
}

// 4. a burst to be held: its sessions' other lines, asked for now, arrive before it runs. Line 0
// of each was prefetched in the ops loop.
void worker::prefetch_burst_sessions(const burst& b) noexcept {
    for (uint16_t i = 0; i < b.n; ++i) {
        const slot& s = b.slots[i];
        if (!s.fast) continue;
        engine::prefetch_session(s.flow->in.get());
        engine::prefetch_session(s.flow->out.get());
    }
}

// 5. crypto: unprotect, then transcrypt's second leg joins protect; at most four calls, in two
// steps so that a staged burst's next step can run between them.
void worker::run_unprotect(burst& b) noexcept {
    const uint16_t n = b.n;
    slot* const slots = b.slots.data();
    auto& ops = b.ops;
    auto& nops = b.nops;
    for (uint16_t i = 0; i < n; ++i)
        if (slots[i].exc) to_exception(slots[i].m);

    // First packet of a new entry: take over its predecessor's stream state (rekey) — here, not
    // when staged, so that the predecessor's packets of the burst before have committed first.
    for (uint16_t i = 0; i < n; ++i)
        if (slots[i].fast && !slots[i].flow->adopted.load(std::memory_order_acquire)) adopt(*slots[i].flow);

    engine::worker_ctx& w = *_ctx;
    if (nops[unprotect_rtp]) engine::unprotect_rtp(w, {ops[unprotect_rtp].data(), nops[unprotect_rtp]});
    if (nops[unprotect_rtcp]) engine::unprotect_rtcp(w, {ops[unprotect_rtcp].data(), nops[unprotect_rtcp]});
}

void worker::run_protect(burst& b) noexcept {
    const uint16_t n = b.n;
    slot* const slots = b.slots.data();
    auto& ops = b.ops;
    auto& nops = b.nops;
    for (uint16_t i = 0; i < n; ++i) {
        slot& s = slots[i];
        if (!s.fast || s.flow->act != action::transcrypt) continue;
        const engine::op& first = ops[s.first_cls][s.first_op];
        if (first.st != engine::status::ok) continue;
        const auto c = static_cast<uint8_t>(s.first_cls + 2);
        s.second_op = nops[c]++;
        set_op(ops[c][s.second_op], s.flow->out.get(), first.pkt.data, first.pkt.len, first.pkt.capacity);
    }
    engine::worker_ctx& w = *_ctx;
    if (nops[protect_rtp]) engine::protect_rtp(w, {ops[protect_rtp].data(), nops[protect_rtp]});
    if (nops[protect_rtcp]) engine::protect_rtcp(w, {ops[protect_rtcp].data(), nops[protect_rtcp]});
}

// 6. fixup and tx, in arrival order.
void worker::run_tx(const queue_io& q, burst& b) noexcept {
    const uint16_t n = b.n;
    b.n = 0;
    slot* const slots = b.slots.data();
    auto& ops = b.ops;
    std::array<rte_mbuf*, engine::max_burst> tx;
    std::array<flow_entry*, engine::max_burst> tx_flow;
    uint16_t ntx = 0;
    for (uint16_t i = 0; i < n; ++i) {
        slot& s = slots[i];
        if (!s.fast) continue;
        flow_entry& fl = *s.flow;
        engine::status st = engine::status::ok;
        std::size_t new_len = s.f.payload_len;
        if (s.first_cls != none) {
            const engine::op& first = ops[s.first_cls][s.first_op];
            st = first.st;
            if (fl.act != action::authenticate) new_len = first.pkt.len;
            if (st == engine::status::ok && s.second_op != none) {
                const engine::op& second = ops[s.first_cls + 2][s.second_op];
                st = second.st;
                new_len = second.pkt.len;
            }
        }
        _st.by_status.add(st);
        if (fl.static_index != no_static_index) _st.flows[fl.static_index].by_status.add(st);
        switch (st) {
        case engine::status::ok:
            ++fl.packets;
            fl.octets += s.f.payload_len;
            break;
        case engine::status::auth_fail: ++fl.auth_fail; break;
        case engine::status::replay_duplicate:
        case engine::status::replay_old: ++fl.replay_drop; break;
        default: break;
        }
        if (st != engine::status::ok) {
            rte_pktmbuf_free(s.m);
            continue;
        }
        auto* frame = rte_pktmbuf_mtod(s.m, std::byte*);
        rewrite_l2(frame, q.l2, fl.has_next_hop ? &fl.next_hop : nullptr);
        const bool unchanged = (fl.act == action::forward || fl.act == action::authenticate) && !fl.send_from && !fl.send_to;
        if (!unchanged) {
            rewrite_endpoints(frame, s.f, fl, s.rtcp_port);
            const std::size_t cap = std::size_t{s.m->data_len} + rte_pktmbuf_tailroom(s.m);
            // l2_len and l3_len are 7 and 9 bits in the mbuf: longer headers get software sums.
            const bool offload = q.tx_csum_offload && s.f.l3_offset <= 0x7f && s.f.l4_offset - s.f.l3_offset <= 0x1ff;
            const auto mode = offload ? net::checksum_mode::offload : net::checksum_mode::software;
            if (net::set_udp_payload_len({frame, cap}, s.f, new_len, mode) != net::rewrite_status::ok) {
                _st.drop(drop_reason::rewrite_failed);
                rte_pktmbuf_free(s.m);
                continue;
            }
            s.m->data_len = static_cast<uint16_t>(s.f.frame_len);
            s.m->pkt_len = s.f.frame_len;
            if (offload) offload_checksums(*s.m, s.f, frame);
        }
        tx_flow[ntx] = s.flow;
        tx[ntx++] = s.m;
    }
    // tx_prepare: drivers fix up what their offloads need (a no-op for most).
    const uint16_t ready = ntx && q.tx_csum_offload ? rte_eth_tx_prepare(q.tx_port, q.tx_queue, tx.data(), ntx) : ntx;
    const uint16_t sent = ready ? rte_eth_tx_burst(q.tx_port, q.tx_queue, tx.data(), ready) : 0;
    _st.tx += sent;
    _st.ports[q.tx_port].tx += sent;
    for (uint16_t i = 0; i < sent; ++i)
        if (tx_flow[i]->static_index != no_static_index) ++_st.flows[tx_flow[i]->static_index].tx;
    // Status region: one update per flow per burst, not per packet.
    for (unsigned i = 0; i < b.ntouched; ++i) write_status(*b.touched[i]);
    b.ntouched = 0;
    for (uint16_t i = sent; i < ntx; ++i) {
        _st.drop(drop_reason::tx_full);
        rte_pktmbuf_free(tx[i]);
    }
    flush_exception();
}

void worker::run(const std::atomic<bool>& stop) noexcept {
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t idle_cycles = hz / 1000 * _cfg.exit_after_idle_ms;
    const uint64_t stats_cycles = hz * _cfg.stats_interval_s;
    const uint64_t start = rte_get_tsc_cycles();
    const uint64_t publish_cycles = hz / 10;
    uint64_t next_publish = start + publish_cycles;
    uint64_t last_rx = start, next_stats = start + stats_cycles, last_stats = start, last_rx_count = 0;
    rte_rcu_qsbr* rcu = _reg.rcu();
    (void)rte_rcu_qsbr_thread_register(rcu, _cfg.index);
    rte_rcu_qsbr_thread_online(rcu, _cfg.index);
    while (!stop.load(std::memory_order_relaxed)) {
        // Entry pointers are held from a burst's staging in one loop to its end in the next, across
        // this report: the registry frees an entry after two grace periods (flow_registry.hpp).
        rte_rcu_qsbr_quiescent(rcu, _cfg.index);
        bool any = false;
        for (auto& p : _pipes) any |= poll(p);
        if (_cfg.exception_queue) poll_exception();
        const uint64_t now = rte_get_tsc_cycles();
        if (any) last_rx = now;
        else if (idle_cycles && now - last_rx > idle_cycles) break;
        if (now >= next_publish) {
            _pub.publish(_st);
            next_publish = now + publish_cycles;
        }
        if (stats_cycles && now >= next_stats) {
            // Periodic one-line summary: rates since the last line, totals so far.
            const double dt = static_cast<double>(now - last_stats) / static_cast<double>(hz);
            worker_stats window = _st;
            window.rx = _st.rx - last_rx_count;
            std::printf("srtpo-pmd: lcore %u: %s\n", _st.lcore, summary_line(window, dt).c_str());
            std::fflush(stdout);
            last_rx_count = _st.rx;
            last_stats = now;
            next_stats = now + stats_cycles;
        }
    }
    drain(); // the bursts staged last: sent, counted
    flush_exception();
    rte_rcu_qsbr_thread_offline(rcu, _cfg.index);
    (void)rte_rcu_qsbr_thread_unregister(rcu, _cfg.index);
    _pub.publish(_st);
}

void worker::online() noexcept {
    (void)rte_rcu_qsbr_thread_register(_reg.rcu(), _cfg.index);
    rte_rcu_qsbr_thread_online(_reg.rcu(), _cfg.index);
}

bool worker::poll_once() noexcept {
    rte_rcu_qsbr_quiescent(_reg.rcu(), _cfg.index);
    bool any = false;
    for (auto& p : _pipes) any |= poll(p);
    return any;
}

void worker::offline() noexcept {
    drain();
    flush_exception();
    rte_rcu_qsbr_thread_offline(_reg.rcu(), _cfg.index);
    (void)rte_rcu_qsbr_thread_unregister(_reg.rcu(), _cfg.index);
}

// A flow's sessions have one owner worker (ARCHITECTURE.md principle 5). The owner of a rekeyed
// flow's new entry must be the owner of its predecessor, whose stream state it takes over: a
// worker that is not may not claim it (the predecessor's owner will, on its next packet).
bool worker::claim(flow_entry& e) noexcept {
    uint16_t o = e.owner.load(std::memory_order_acquire);
    if (o == _cfg.index) return true;
    if (o != no_owner) return false;
    for (const flow_entry* p = e.pred; p; p = p->pred) {
        const uint16_t po = p->owner.load(std::memory_order_acquire);
        if (po == no_owner) continue;
        if (po != _cfg.index) return false;
        break;
    }
    return e.owner.compare_exchange_strong(o, _cfg.index, std::memory_order_acq_rel) || o == _cfg.index;
}

// Recursive over entries not yet used: a flow rekeyed twice before its next packet adopts the
// first entry's state through the second. Depth = rekeys since the flow's last packet.
void worker::adopt(flow_entry& e) noexcept {
    if (e.adopted.load(std::memory_order_acquire)) return;
    if (flow_entry* p = e.pred) {
        adopt(*p);
        if (e.in && p->in) (void)engine::session_transfer_streams(*p->in, *e.in);
        if (e.out && p->out) (void)engine::session_transfer_streams(*p->out, *e.out);
        e.packets = p->packets;
        e.octets = p->octets;
        e.auth_fail = p->auth_fail;
        e.replay_drop = p->replay_drop;
        e.last_ssrc = p->last_ssrc;
    }
    // This worker now owns the status entry for the new generation (docs/shm-abi.md).
    if (e.live && !e.resume) table::reset(*e.live, e.generation);
    // release: the sync thread may free the predecessor once it sees this.
    e.adopted.store(true, std::memory_order_release);
}

void worker::touch(flow_entry& e, burst& b) noexcept {
    if (e.touched == b.serial) return;
    e.touched = b.serial;
    b.touched[b.ntouched++] = &e;
}

namespace {

uint8_t pressure_of(const engine::session_rt& s, std::size_t key) noexcept {
    // The engine reports one soft/expired signal per master key (SRTP or SRTCP limit reached);
    // it is shown on the SRTP bits.
    const auto u = engine::session_key_usage(s, key);
    return static_cast<uint8_t>((u.soft_limit ? table::pressure::srtp_soft : 0) | (u.expired ? table::pressure::srtp_expired : 0));
}

} // namespace

void worker::write_status(flow_entry& e) noexcept {
    table::live_state& l = *e.live;
    table::srtcp_progress rtcp;
    if (e.in) {
        if (const auto st = engine::session_stream(*e.in, e.last_ssrc)) {
            if (st->srtp_seen) table::store(l.in_index, table::pack_index(st->roc, st->highest_seq, pressure_of(*e.in, 0)));
            if (st->srtcp_packets) {
                rtcp.in_valid = true;
                rtcp.in_index = st->srtcp_index;
            }
        }
    }
    if (e.out) {
        if (const auto st = engine::session_stream(*e.out, e.last_ssrc)) {
            if (st->srtp_seen)
                table::store(l.out_index, table::pack_index(st->roc, st->highest_seq, pressure_of(*e.out, engine::session_active_key(*e.out))));
            if (st->srtcp_packets) {
                rtcp.out_valid = true;
                rtcp.out_index = (st->srtcp_index - 1) & 0x7fffffffu; // the next to send, minus one
            }
        }
    }
    if (rtcp.in_valid || rtcp.out_valid) table::store(l.srtcp_index, table::pack_srtcp(rtcp));
    table::store(l.packets, e.packets);
    table::store(l.octets, e.octets);
    table::store(l.auth_fail, e.auth_fail);
    table::store(l.replay_drop, e.replay_drop);
}

} // namespace srtpo::pmd
