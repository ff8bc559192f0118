// SRTCP protect and unprotect over bursts (RFC 3711 §3.4, RFC 7714 §9).
//
// Wire layouts (E = encryption flag, 31-bit SRTCP index):
//   AES-CM/F8/NULL: RTCP header(8) | body | E‖index(4) | MKI | tag        tag over header..E‖index
//   AEAD:           RTCP header(8) | body | tag(16) | E‖index(4) | MKI    AAD = header ‖ E‖index,
//                   or with E=0 the whole RTCP packet ‖ E‖index (RFC 7714 §9.2)
// The SRTCP index is explicit, so no estimation is needed and a burst is trivially equivalent to
// sequential processing: replay is re-checked at commit, in packet order.

#include "burst_common.hpp"
#include "iv.hpp"

#include <srtpo/engine/rtp_header.hpp>

namespace srtpo::engine {
using namespace detail;

namespace {

inline constexpr uint32_t e_flag = 0x80000000u;
inline constexpr uint32_t max_srtcp_index = 0x7fffffffu;

std::size_t rtcp_trailer(const session_rt& s) noexcept { return 4u + s.mki_len + s.traits->srtcp_tag_len; }

status prepare_protect(op& o, op_scratch& sc) noexcept {
    if (!o.session) return status::no_session;
    session_rt& s = *o.session;
    if (s.dir != direction::protect) return status::wrong_direction;
    rtcp_header_view h;
    if (auto r = parse_rtcp_header(o.pkt.bytes(), h); r != status::ok) return r;
    if (o.pkt.tailroom() < rtcp_trailer(s)) return status::no_tailroom;
    master_key& key = s.keys[s.active_key];
    if (key_exhausted(key.srtcp_used, key.srtcp_limit)) return status::key_expired;
    stream* st = s.find(h.ssrc);
    // RFC 3711 §3.4: the index must never wrap under one master key.
    if (st && st->next_srtcp_index > max_srtcp_index) return status::key_expired;
    if (!st) {
        st = s.reserve(h.ssrc);
        if (!st) return status::stream_limit;
        st->state = stream_state::active;
    }
    sc.st = st;
    sc.key = &key;
    sc.index = st->next_srtcp_index++;
    sc.encrypted = s.encrypt_srtcp;
    sc.hdr_len = rtcp_fixed_header_len;
    sc.body_len = static_cast<uint16_t>(o.pkt.len - rtcp_fixed_header_len);
    sc.group = group_of(s);
    st->srtcp_seen = true;
    ++key.srtcp_used;
    ++st->srtcp_packets;
    return status::ok;
}

uint32_t e_index(const op_scratch& sc) noexcept {
    return static_cast<uint32_t>(sc.index) | (sc.encrypted ? e_flag : 0u);
}

void protect_group(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx) noexcept {
    const session_rt& s0 = *ops[idx[0]].session;
    const suite_traits& t = *s0.traits;
    backend_worker& bw = w.worker(s0.backend);
    std::size_t n = 0;

    if (t.aead()) {
        for (auto i : idx) {
            auto& sc = w.ops[i];
            std::byte* p = ops[i].pkt.data;
            auto& j = w.jobs[n++];
            j = crypto_job{};
            j.op = i;
            j.keys = &sc.key->srtcp;
            gcm_srtcp_iv(j.iv, sc.key->srtcp.salt.data(), sc.st->ssrc, static_cast<uint32_t>(sc.index));
            if (sc.encrypted) {
                auto& aad = w.aad[i];
                std::memcpy(aad.data(), p, 8);
                put32(aad.data() + 8, e_index(sc));
                j.auth = aad.data();
                j.auth_len = 12;
                j.data = p + 8;
                j.data_len = sc.body_len;
                j.tag = p + 8 + sc.body_len;
            } else {
                // E=0: everything is AAD; put E‖index right after the packet to make it contiguous.
                put32(p + 8 + sc.body_len, e_index(sc));
                j.auth = p;
                j.auth_len = 8u + sc.body_len + 4u;
                j.tag = w.tags[i].data();
            }
        }
        bw.gcm(t, true, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            auto& o = ops[j.op];
            auto& sc = w.ops[j.op];
            if (j.failed) { o.st = status::backend_error; continue; }
            std::byte* tail = o.pkt.data + 8 + sc.body_len;
            if (!sc.encrypted) copy_small(tail, j.tag, 16);
            put32(tail + 16, e_index(sc));
            copy_small(tail + 20, sc.key->mki.data(), o.session->mki_len);
            o.pkt.len = static_cast<uint16_t>(8 + sc.body_len + rtcp_trailer(*o.session));
        }
        return;
    }

    for (auto i : idx) {
        auto& sc = w.ops[i];
        if (!sc.encrypted) continue;
        std::byte* p = ops[i].pkt.data;
        auto& j = w.jobs[n++];
        j = crypto_job{};
        j.op = i;
        j.keys = &sc.key->srtcp;
        if (t.cipher == cipher_kind::aes_f8) f8_srtcp_iv(j.iv, p, e_index(sc));
        else aes_cm_iv(j.iv, sc.key->srtcp.salt.data(), 14, sc.st->ssrc, sc.index);
        j.data = p + 8;
        j.data_len = sc.body_len;
    }
    if (n) bw.keystream_xor(t, {w.jobs.data(), n});
    for (std::size_t k = 0; k < n; ++k)
        if (w.jobs[k].failed) ops[w.jobs[k].op].st = status::backend_error;

    n = 0;
    for (auto i : idx) {
        if (ops[i].st != status::ok) continue;
        auto& sc = w.ops[i];
        std::byte* p = ops[i].pkt.data;
        put32(p + 8 + sc.body_len, e_index(sc));
        auto& j = w.jobs[n];
        j = crypto_job{};
        j.op = i;
        j.keys = &sc.key->srtcp;
        j.auth = p;
        j.auth_len = 8u + sc.body_len + 4u; // RFC 3711 §3.4: the tag covers E‖index too
        j.tag = w.tags[n].data();
        ++n;
    }
    if (n) bw.hmac_sha1(t, {w.jobs.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        auto& j = w.jobs[k];
        auto& o = ops[j.op];
        auto& sc = w.ops[j.op];
        if (j.failed) { o.st = status::backend_error; continue; }
        std::byte* tail = o.pkt.data + 8 + sc.body_len + 4;
        copy_small(tail, sc.key->mki.data(), o.session->mki_len);
        copy_small(tail + o.session->mki_len, j.tag, t.srtcp_tag_len);
        o.pkt.len = static_cast<uint16_t>(8 + sc.body_len + rtcp_trailer(*o.session));
    }
}

status prepare_unprotect(worker_ctx::impl& w, op& o, op_scratch& sc) noexcept {
    if (!o.session) return status::no_session;
    session_rt& s = *o.session;
    if (s.dir != direction::unprotect) return status::wrong_direction;
    rtcp_header_view h;
    if (auto r = parse_rtcp_header(o.pkt.bytes(), h); r != status::ok) return r;
    const suite_traits& t = *s.traits;
    if (o.pkt.len < rtcp_fixed_header_len + rtcp_trailer(s)) return status::too_short;
    const auto body = static_cast<uint16_t>(o.pkt.len - rtcp_fixed_header_len - rtcp_trailer(s));
    std::byte* p = o.pkt.data;
    std::byte* eidx = p + 8 + body + (t.aead() ? 16 : 0);
    master_key* key = s.key_by_mki(eidx + 4);
    if (!key) return status::mki_unknown;
    if (key_exhausted(key->srtcp_used, key->srtcp_limit)) return status::key_expired;
    const uint32_t word = get32(eidx);
    sc.index = word & max_srtcp_index;
    sc.encrypted = (word & e_flag) != 0;

    stream* st = s.find(h.ssrc);
    if (!st) {
        st = s.reserve(h.ssrc);
        if (!st) return status::stream_limit;
        w.pending[w.n_pending++] = {&s, st};
    }
    if (st->srtcp_seen) {
        switch (st->rtcp_replay.check(static_cast<int64_t>(sc.index) - static_cast<int64_t>(st->rtcp_replay.highest()))) {
        case replay_verdict::duplicate:
            sc.st = st; // re-checked at commit against the state a sequential receiver would see
            return status::replay_duplicate;
        case replay_verdict::too_old: return status::replay_old;
        case replay_verdict::fresh: break;
        }
    }
    sc.st = st;
    sc.key = key;
    sc.hdr_len = rtcp_fixed_header_len;
    sc.body_len = body;
    sc.new_len = static_cast<uint16_t>(8 + body);
    sc.group = group_of(s);
    if (t.aead() && !sc.encrypted) {
        // RFC 7714 §9.2: AAD = RTCP packet ‖ E‖index. Move the tag aside and put the ESRTCP
        // word in its place so the AAD is contiguous; undone on failure.
        copy_small(sc.saved_tag.data(), p + 8 + body, 16);
        put32(p + 8 + body, word);
    } else if (!t.aead()) {
        copy_small(sc.saved_tag.data(), eidx + 4 + s.mki_len, t.srtcp_tag_len);
    }
    return status::ok;
}

void unprotect_group(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx) noexcept {
    const session_rt& s0 = *ops[idx[0]].session;
    const suite_traits& t = *s0.traits;
    backend_worker& bw = w.worker(s0.backend);
    std::size_t n = 0;

    if (t.aead()) {
        for (auto i : idx) {
            auto& sc = w.ops[i];
            std::byte* p = ops[i].pkt.data;
            auto& j = w.jobs[n++];
            j = crypto_job{};
            j.op = i;
            j.keys = &sc.key->srtcp;
            gcm_srtcp_iv(j.iv, sc.key->srtcp.salt.data(), sc.st->ssrc, static_cast<uint32_t>(sc.index));
            if (sc.encrypted) {
                auto& aad = w.aad[i];
                std::memcpy(aad.data(), p, 8);
                put32(aad.data() + 8, e_index(sc));
                j.auth = aad.data();
                j.auth_len = 12;
                j.data = p + 8;
                j.data_len = sc.body_len;
                j.tag = p + 8 + sc.body_len;
            } else {
                j.auth = p;
                j.auth_len = 8u + sc.body_len + 4u;
                j.tag = sc.saved_tag.data();
            }
        }
        bw.gcm(t, false, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            auto& o = ops[j.op];
            auto& sc = w.ops[j.op];
            if (j.failed) o.st = status::backend_error;
            else if (!j.auth_ok) o.st = status::auth_fail;
            if (o.st != status::ok && !sc.encrypted) copy_small(o.pkt.data + 8 + sc.body_len, sc.saved_tag.data(), 16);
        }
        return;
    }

    for (auto i : idx) {
        auto& sc = w.ops[i];
        auto& j = w.jobs[n];
        j = crypto_job{};
        j.op = i;
        j.keys = &sc.key->srtcp;
        j.auth = ops[i].pkt.data;
        j.auth_len = 8u + sc.body_len + 4u;
        j.tag = w.tags[n].data();
        ++n;
    }
    bw.hmac_sha1(t, {w.jobs.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        auto& j = w.jobs[k];
        if (j.failed) ops[j.op].st = status::backend_error;
        else if (!tags_equal(j.tag, w.ops[j.op].saved_tag.data(), t.srtcp_tag_len)) ops[j.op].st = status::auth_fail;
    }
    n = 0;
    for (auto i : idx) {
        auto& sc = w.ops[i];
        if (ops[i].st != status::ok || !sc.encrypted) continue;
        std::byte* p = ops[i].pkt.data;
        auto& j = w.jobs[n++];
        j = crypto_job{};
        j.op = i;
        j.keys = &sc.key->srtcp;
        if (t.cipher == cipher_kind::aes_f8) f8_srtcp_iv(j.iv, p, e_index(sc));
        else aes_cm_iv(j.iv, sc.key->srtcp.salt.data(), 14, sc.st->ssrc, sc.index);
        j.data = p + 8;
        j.data_len = sc.body_len;
    }
    if (n) bw.keystream_xor(t, {w.jobs.data(), n});
    for (std::size_t k = 0; k < n; ++k)
        if (w.jobs[k].failed) ops[w.jobs[k].op].st = status::backend_error;
}

std::size_t protect_rtcp_chunk(worker_ctx::impl& w, std::span<op> ops) noexcept {
    for (std::size_t i = 0; i < ops.size(); ++i) {
        w.ops[i].reset();
        ops[i].st = prepare_protect(ops[i], w.ops[i]);
    }
    sort_by_group(w, ops);
    for_each_group(w, [&](std::size_t, std::span<const uint16_t> idx) { protect_group(w, ops, idx); });
    return static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [](const op& o) { return o.st == status::ok; }));
}

std::size_t unprotect_rtcp_chunk(worker_ctx::impl& w, std::span<op> ops) noexcept {
    w.n_pending = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        w.ops[i].reset();
        ops[i].st = prepare_unprotect(w, ops[i], w.ops[i]);
    }
    sort_by_group(w, ops);
    for_each_group(w, [&](std::size_t, std::span<const uint16_t> idx) { unprotect_group(w, ops, idx); });
    std::size_t ok = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        auto& o = ops[i];
        auto& sc = w.ops[i];
        if (o.st != status::ok) {
            // Prepare checked replay against the state before this burst. A sequential receiver
            // checks it (before the tag, RFC 3711 §3.3.2) against a state that includes the
            // earlier ops: report the drop as it would.
            if (sc.st && sc.st->srtcp_seen && (o.st == status::auth_fail || o.st == status::replay_duplicate)) {
                const auto v = sc.st->rtcp_replay.check(static_cast<int64_t>(sc.index) -
                                                        static_cast<int64_t>(sc.st->rtcp_replay.highest()));
                if (v == replay_verdict::duplicate) o.st = status::replay_duplicate;
                if (v == replay_verdict::too_old) o.st = status::replay_old;
            }
            continue;
        }
        stream& st = *sc.st;
        int64_t delta = 1;
        if (st.srtcp_seen) {
            delta = static_cast<int64_t>(sc.index) - static_cast<int64_t>(st.rtcp_replay.highest());
            const auto v = st.rtcp_replay.check(delta);
            if (v == replay_verdict::duplicate) { o.st = status::replay_duplicate; continue; }
            if (v == replay_verdict::too_old) { o.st = status::replay_old; continue; }
        }
        if (key_exhausted(sc.key->srtcp_used, sc.key->srtcp_limit)) { o.st = status::key_expired; continue; }
        if (!st.srtcp_seen) {
            st.rtcp_replay.reset(sc.index);
            st.srtcp_seen = true;
        } else {
            st.rtcp_replay.commit(delta);
        }
        st.state = stream_state::active;
        ++sc.key->srtcp_used;
        ++st.srtcp_packets;
        o.pkt.len = sc.new_len;
        ++ok;
    }
    release_unused(w);
    return ok;
}

} // namespace

std::size_t protect_rtcp(worker_ctx& w, std::span<op> ops) noexcept { return in_chunks(w, ops, protect_rtcp_chunk); }
std::size_t unprotect_rtcp(worker_ctx& w, std::span<op> ops) noexcept { return in_chunks(w, ops, unprotect_rtcp_chunk); }

} // namespace srtpo::engine
