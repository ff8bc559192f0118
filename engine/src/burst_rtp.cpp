// SRTP protect and unprotect over bursts (RFC 3711 §3.3, RFC 7714 §8, RFC 6904, RFC 9335).
//
// Phases, as in DPDK's prepare/process split:
//   1. parse, pick the key, estimate the index, check replay — read-only for unprotect;
//   2. group the surviving ops by (backend, suite) and run each group through its backend;
//   3. unprotect only: commit, in packet order, what passed.
// A burst behaves exactly like the same packets unprotected one at a time: phase 1 estimates
// each index as if earlier ops of the burst succeed; phase 3 re-checks against what really
// committed and, where an earlier failure changed the answer, runs the op again.

#include "burst_common.hpp"
#include "iv.hpp"

#include <srtpo/engine/roc.hpp>
#include <srtpo/engine/rtp_header.hpp>

namespace srtpo::engine {
using namespace detail;

namespace {

void put16(std::byte* p, uint16_t v) noexcept {
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v & 0xff);
}

/// The RTP header of nearly every packet: V=2, no CSRC, no extension (RFC 3550 §5.1), parsed
/// inline; anything else goes through the general parser, which gives the same answers (and the
/// precise error). Runs once per packet, where a call to the general parser cost ~50 instructions.
inline status parse_header(std::span<const std::byte> pkt, rtp_header_view& h) noexcept {
    const auto* b = reinterpret_cast<const uint8_t*>(pkt.data());
    // Byte 0 is V(2) P(1) X(1) CC(4): V=2, X=0, CC=0 whatever P is.
    if (pkt.size() < rtp_fixed_header_len || pkt.size() > 0xffff || (b[0] & 0xdf) != 0x80) return parse_rtp_header(pkt, h);
    h.header_len = rtp_fixed_header_len;
    h.cc = 0;
    h.padding = (b[0] & 0x20) != 0;
    h.extension = false;
    h.marker = (b[1] & 0x80) != 0;
    h.pt = b[1] & 0x7f;
    h.seq = static_cast<uint16_t>(b[2] << 8 | b[3]);
    h.timestamp = load_be32(b + 4);
    h.ssrc = load_be32(b + 8);
    h.ext_offset = 0;
    h.ext_profile = 0;
    h.ext_data_len = 0;
    return status::ok;
}

/// RFC 3550 §5.1 padding of a plaintext packet whose header is `hdr_len` octets and whose P bit
/// is `padding`: the last octet counts the padding octets, at least 1 and at most the payload.
/// Same rule as check_rtp_padding, without a header view (unprotect knows both from phase 1).
inline bool padding_ok(const std::byte* pkt, std::size_t len, std::size_t hdr_len, bool padding) noexcept {
    if (!padding) return true;
    const std::size_t payload = len - hdr_len;
    const std::size_t n = static_cast<uint8_t>(pkt[len - 1]);
    return payload != 0 && n != 0 && n <= payload;
}

bool is_rfc8285(uint16_t profile, bool& two_byte) noexcept {
    two_byte = (profile & ext_profile_two_byte_mask) == ext_profile_two_byte;
    return two_byte || profile == ext_profile_one_byte;
}

/// RFC 6904 §4: XORs the header-extension keystream (k_he, k_hs) into the data of the elements
/// whose IDs the session encrypts. Keystream octet k covers extension data octet k. The same
/// call encrypts and decrypts.
bool crypt_header_extension(worker_ctx::impl& w, const session_rt& s, const key_block& kb, std::byte* pkt,
                            std::size_t len, uint32_t ssrc, uint64_t index) noexcept {
    rtp_header_view h;
    if (parse_rtp_header({pkt, len}, h) != status::ok || !h.extension) return true;
    bool two = false;
    if (!is_rfc8285(h.ext_profile, two) || h.ext_data_len == 0) return true;
    crypto_job j;
    j.keys = &kb;
    j.header_keys = true;
    j.data = w.ext_keystream.data();
    j.data_len = h.ext_data_len;
    std::memset(j.data, 0, j.data_len);
    aes_cm_iv(j.iv, kb.raw.k_hs.data(), s.traits->master_salt_len, ssrc, index);
    w.worker(s.backend).keystream_xor(header_cipher_traits(*s.traits), {&j, 1});
    if (j.failed) return false;
    const std::size_t base = h.ext_offset + 4u;
    (void)for_each_extension_element({pkt, len}, h, two, [&](uint8_t id, std::size_t off, std::size_t n) {
        if (!s.encrypted_ext[id]) return;
        for (std::size_t k = 0; k < n; ++k) pkt[off + k] ^= j.data[off - base + k];
    });
    return true;
}

/// Validates the RFC 8285 element list when the session encrypts some elements: a malformed
/// list would make sender and receiver disagree on which octets are encrypted.
inline status check_extension_elements(const session_rt& s, std::span<const std::byte> pkt, const rtp_header_view& h) noexcept {
    bool two = false;
    if (!s.any_encrypted_ext || !h.extension || !is_rfc8285(h.ext_profile, two)) return status::ok;
    return for_each_extension_element(pkt, h, two, [](uint8_t, std::size_t, std::size_t) {});
}

/// The AEAD job of one SRTP packet (RFC 7714 §8): nonce, AAD = header, data = payload, tag
/// after the payload. With cryptex the caller's packet is rotated here (RFC 9335 §5.2, undone by
/// the caller after the backend ran); with UNENCRYPTED_SRTP the whole packet is AAD (RFC 7714
/// §16.x.3 vectors).
void gcm_job(crypto_job& j, const op& o, const op_scratch& sc) noexcept {
    std::byte* p = o.pkt.data;
    if (sc.cryptex) cryptex_rotate(p, static_cast<uint8_t>(p[0]) & 0x0f, true);
    const uint16_t aad = sc.cryptex ? 16 : o.session->encrypt_srtp ? sc.hdr_len : static_cast<uint16_t>(sc.hdr_len + sc.body_len);
    // Every field gcm() reads is written here (no clearing of the whole job: this runs per packet).
    j.keys = &sc.key->srtp;
    j.header_keys = false;
    gcm_srtp_iv(j.iv, sc.key->srtp.salt.data(), sc.st->ssrc, sc.roc, static_cast<uint16_t>(sc.index));
    j.auth = p;
    j.auth_len = aad;
    j.data = p + aad;
    j.data_len = static_cast<uint32_t>(sc.hdr_len + sc.body_len - aad);
    j.tag = p + sc.hdr_len + sc.body_len;
}

/// The AES-CM or AES-f8 job of one SRTP packet (RFC 3711 §4.1): the payload, or with cryptex the
/// rotated CSRCs + extension data + payload (rotated here, undone by the caller).
void cipher_job(crypto_job& j, const suite_traits& t, const op& o, const op_scratch& sc) noexcept {
    std::byte* p = o.pkt.data;
    if (sc.cryptex) cryptex_rotate(p, static_cast<uint8_t>(p[0]) & 0x0f, true);
    const uint16_t start = sc.cryptex ? 16 : sc.hdr_len;
    j = crypto_job{};
    j.keys = &sc.key->srtp;
    if (t.cipher == cipher_kind::aes_f8) f8_srtp_iv(j.iv, p, sc.roc);
    else aes_cm_iv(j.iv, sc.key->srtp.salt.data(), 14, sc.st->ssrc, sc.index);
    j.data = p + start;
    j.data_len = static_cast<uint32_t>(sc.hdr_len + sc.body_len - start);
}

// ---------------------------------------------------------------------------------------------
// protect

/// RFC 9335 §5.1: mark the extension block as encrypted; with CSRCs but no extension, insert an
/// empty one so the receiver knows the CSRCs are encrypted. Returns the new header view.
status cryptex_prepare(packet_ref& p, rtp_header_view& h, std::size_t need_tail) noexcept {
    if (h.extension) {
        if (h.ext_profile == ext_profile_one_byte) put16(p.data + h.ext_offset, ext_profile_cryptex_one_byte);
        else if (h.ext_profile == ext_profile_two_byte) put16(p.data + h.ext_offset, ext_profile_cryptex_two_byte);
        else return status::unsupported; // RFC 9335 §5.1 defines cryptex for RFC 8285 blocks only
    } else {
        if (std::size_t{p.len} + 4 + need_tail > p.capacity) return status::no_tailroom;
        const std::size_t at = rtp_fixed_header_len + 4u * h.cc;
        std::memmove(p.data + at + 4, p.data + at, p.len - at);
        put16(p.data + at, ext_profile_cryptex_one_byte);
        put16(p.data + at + 2, 0);
        p.data[0] |= std::byte{0x10};
        p.len = static_cast<uint16_t>(p.len + 4);
    }
    return parse_rtp_header(p.bytes(), h);
}

status prepare_protect(op& o, op_scratch& sc) noexcept {
    if (!o.session) return status::no_session;
    session_rt& s = *o.session;
    if (s.dir != direction::protect) return status::wrong_direction;
    rtp_header_view h;
    if (auto r = parse_header(o.pkt.bytes(), h); r != status::ok) return r;
    if (!padding_ok(o.pkt.data, o.pkt.len, h.header_len, h.padding)) return status::bad_padding;
    if (auto r = check_extension_elements(s, o.pkt.bytes(), h); r != status::ok) return r;
    const std::size_t tail = s.mki_len + srtp_tag_len(s);
    if (o.pkt.tailroom() < tail) return status::no_tailroom;
    master_key& key = s.keys[s.active_key];
    if (key_exhausted(key.srtp_used, key.srtp_limit)) return status::key_expired;

    stream* st = s.find(h.ssrc);
    uint64_t index;
    int64_t delta = 1;
    if (st && st->srtp_seen) {
        const auto g = estimate_index<uint16_t>(st->roc, st->s_l, h.seq);
        index = packet_index(g.roc, h.seq);
        delta = g.delta;
        // A sender never reuses an index: that would reuse keystream (RFC 3711 §9.1).
        switch (st->rtp_replay.check(delta)) {
        case replay_verdict::duplicate: return status::replay_duplicate;
        case replay_verdict::too_old: return status::replay_old;
        case replay_verdict::fresh: break;
        }
    } else {
        index = packet_index(st ? st->roc : s.initial_roc, h.seq);
    }
    sc.cryptex = s.cryptex && (h.extension || h.cc > 0);
    if (sc.cryptex)
        if (auto r = cryptex_prepare(o.pkt, h, tail); r != status::ok) return r;
    if (!st) {
        st = s.reserve(h.ssrc);
        if (!st) return status::stream_limit;
        st->state = stream_state::active;
    }

    // Nothing after this point can fail, so the sender's state is committed now.
    if (!st->srtp_seen) {
        st->rtp_replay.reset(index);
        st->srtp_seen = true;
    } else {
        st->rtp_replay.commit(delta);
    }
    if (st->rtp_replay.highest() == index) {
        st->roc = static_cast<uint32_t>(index >> 16);
        st->s_l = h.seq;
    }
    ++key.srtp_used;
    ++st->srtp_packets;

    sc.st = st;
    sc.key = &key;
    sc.index = index;
    sc.roc = static_cast<uint32_t>(index >> 16);
    sc.hdr_len = h.header_len;
    sc.body_len = static_cast<uint16_t>(o.pkt.len - h.header_len);
    st->srtp_octets += sc.body_len;
    sc.group = group_of(s);
    return status::ok;
}

/// Octets of HMAC-SHA1 the backend writes at a packet's tag (it computes 12 and the wire keeps
/// 10 or 4, RFC 3711 §4.2.1; IPsec-MB 1.3 refuses to truncate to 10).
inline constexpr std::size_t hmac_written = 12;

/// AES-CM with HMAC-SHA1, the common suites: one pass from the prepared ops to the backend's
/// packet list (ADR 0019), encrypt-then-MAC in one backend call, the tag written straight into
/// the packet where its tailroom holds the 12 computed octets. False, with nothing changed that
/// the general path does not redo, if an op uses cryptex (its rotated header must be restored
/// between the keystream and the HMAC).
bool protect_cm_hmac(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx, const suite_traits& t,
                     backend_worker& bw) noexcept {
    std::size_t n = 0;
    for (auto i : idx) {
        const op& o = ops[i];
        if (o.st != status::ok) continue;
        const op_scratch& sc = w.ops[i];
        if (sc.cryptex) return false;
        const session_rt& s = *o.session;
        std::byte* p = o.pkt.data;
        const std::size_t len = std::size_t{sc.hdr_len} + sc.body_len;
        auto& j = w.cm[n];
        j.keys = &sc.key->srtp;
        j.pkt = p;
        j.index = sc.index;
        j.ssrc = sc.st->ssrc;
        j.cipher_off = sc.hdr_len;
        j.cipher_len = s.encrypt_srtp ? sc.body_len : 0;
        j.op = i;
        if (s.auth_srtp) {
            // Authenticated portion ‖ ROC, made contiguous by writing the ROC where MKI/tag go
            // (RFC 3711 §4.2: M = authenticated portion ‖ ROC).
            put32(p + len, sc.roc);
            j.auth_len = static_cast<uint16_t>(len + 4);
            j.tag = o.pkt.capacity - len - s.mki_len >= hmac_written ? p + len + s.mki_len : w.tags[n].data();
        } else {
            j.auth_len = 0;
            j.tag = nullptr;
        }
        ++n;
    }
    bw.srtp_cm_hmac(t, {w.cm.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        const auto& j = w.cm[k];
        auto& o = ops[j.op];
        if (j.failed) {
            o.st = status::backend_error;
            continue;
        }
        const auto& sc = w.ops[j.op];
        const session_rt& s = *o.session;
        std::byte* end = o.pkt.data + sc.hdr_len + sc.body_len;
        copy_small(end, sc.key->mki.data(), s.mki_len); // after the HMAC: it overwrites the ROC
        const std::size_t tag = s.auth_srtp ? t.srtp_tag_len : 0;
        if (tag && j.tag != end + s.mki_len) copy_small(end + s.mki_len, j.tag, tag);
        o.pkt.len = static_cast<uint16_t>(sc.hdr_len + sc.body_len + s.mki_len + tag);
    }
    return true;
}

void protect_group(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx) noexcept {
    const session_rt& s0 = *ops[idx[0]].session;
    const suite_traits& t = *s0.traits;
    backend_worker& bw = w.worker(s0.backend);
    std::size_t n = 0;

    // RFC 6904 first: the tag covers the encrypted header.
    for (auto i : idx) {
        const session_rt& s = *ops[i].session;
        if (s.any_encrypted_ext && !crypt_header_extension(w, s, w.ops[i].key->srtp, ops[i].pkt.data, ops[i].pkt.len,
                                                           w.ops[i].st->ssrc, w.ops[i].index))
            ops[i].st = status::backend_error;
    }

    if (t.aead()) {
        for (auto i : idx) {
            if (ops[i].st != status::ok) continue;
            auto& j = w.jobs[n++];
            gcm_job(j, ops[i], w.ops[i]);
            j.op = i;
        }
        bw.gcm(t, true, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            auto& o = ops[j.op];
            auto& sc = w.ops[j.op];
            if (sc.cryptex) cryptex_rotate(o.pkt.data, static_cast<uint8_t>(o.pkt.data[0]) & 0x0f, false);
            if (j.failed) { o.st = status::backend_error; continue; }
            // RFC 7714 §8: the MKI, if any, follows the AEAD tag.
            std::byte* end = o.pkt.data + sc.hdr_len + sc.body_len + t.srtp_tag_len;
            copy_small(end, sc.key->mki.data(), o.session->mki_len);
            o.pkt.len = static_cast<uint16_t>(sc.hdr_len + sc.body_len + t.srtp_tag_len + o.session->mki_len);
        }
        return;
    }

    if (t.cipher == cipher_kind::aes_cm && protect_cm_hmac(w, ops, idx, t, bw)) return;

    // F8 / NULL (and AES-CM with cryptex) with HMAC-SHA1: encrypt, then authenticate (RFC 3711
    // §3.3 steps 5-7).
    for (auto i : idx) {
        if (ops[i].st != status::ok || !ops[i].session->encrypt_srtp) continue;
        auto& j = w.jobs[n++];
        cipher_job(j, t, ops[i], w.ops[i]);
        j.op = i;
    }
    if (n) bw.keystream_xor(t, {w.jobs.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        auto& j = w.jobs[k];
        if (w.ops[j.op].cryptex) cryptex_rotate(ops[j.op].pkt.data, static_cast<uint8_t>(ops[j.op].pkt.data[0]) & 0x0f, false);
        if (j.failed) ops[j.op].st = status::backend_error;
    }

    n = 0;
    for (auto i : idx) {
        if (ops[i].st != status::ok || !ops[i].session->auth_srtp) continue;
        auto& sc = w.ops[i];
        std::byte* p = ops[i].pkt.data;
        // Authenticated portion ‖ ROC, made contiguous by writing the ROC where MKI/tag go
        // (RFC 3711 §4.2: M = authenticated portion ‖ ROC).
        put32(p + sc.hdr_len + sc.body_len, sc.roc);
        auto& j = w.jobs[n];
        j = crypto_job{};
        j.op = i;
        j.keys = &sc.key->srtp;
        j.auth = p;
        j.auth_len = static_cast<uint32_t>(sc.hdr_len + sc.body_len + 4);
        j.tag = w.tags[n].data();
        ++n;
    }
    if (n) bw.hmac_sha1(t, {w.jobs.data(), n});
    std::size_t k = 0;
    for (auto i : idx) {
        auto& o = ops[i];
        if (o.st != status::ok) continue;
        auto& sc = w.ops[i];
        const session_rt& s = *o.session;
        std::byte* end = o.pkt.data + sc.hdr_len + sc.body_len;
        copy_small(end, sc.key->mki.data(), s.mki_len);
        std::size_t tag = 0;
        if (s.auth_srtp) {
            auto& j = w.jobs[k++];
            if (j.failed) { o.st = status::backend_error; continue; }
            tag = t.srtp_tag_len;
            copy_small(end + s.mki_len, j.tag, tag);
        }
        o.pkt.len = static_cast<uint16_t>(sc.hdr_len + sc.body_len + s.mki_len + tag);
    }
}

std::size_t protect_rtp_chunk(worker_ctx::impl& w, std::span<op> ops) noexcept {
    load_session_lines(ops);
    // No scratch reset: phase 2 reads the scratch of ops that prepared successfully only, and
    // prepare_protect writes every field it reads on that path.
    for (std::size_t i = 0; i < ops.size(); ++i) ops[i].st = prepare_protect(ops[i], w.ops[i]);
    sort_by_group(w, ops);
    for_each_group(w, [&](std::size_t, std::span<const uint16_t> idx) { protect_group(w, ops, idx); });
    return static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [](const op& o) { return o.st == status::ok; }));
}

// ---------------------------------------------------------------------------------------------
// unprotect

/// The index the stream would give this packet from the committed state alone.
uint64_t committed_index(const session_rt& s, const stream& st, uint16_t seq) noexcept {
    if (!st.srtp_seen) return packet_index(st.state == stream_state::empty ? s.initial_roc : st.roc, seq);
    return packet_index(estimate_index<uint16_t>(st.roc, st.s_l, seq).roc, seq);
}

status prepare_unprotect(worker_ctx::impl& w, op& o, op_scratch& sc) noexcept {
    if (!o.session) return status::no_session;
    session_rt& s = *o.session;
    if (s.dir != direction::unprotect) return status::wrong_direction;
    rtp_header_view h;
    if (auto r = parse_header(o.pkt.bytes(), h); r != status::ok) return r;
    const std::size_t tag_len = srtp_tag_len(s);
    if (o.pkt.len < std::size_t{h.header_len} + tag_len + s.mki_len) return status::too_short;
    const auto body = static_cast<uint16_t>(o.pkt.len - h.header_len - tag_len - s.mki_len);
    std::byte* p = o.pkt.data;
    const std::byte* mki = p + h.header_len + body + (s.traits->aead() ? tag_len : 0);
    master_key* key = s.mki_len == 0 ? &s.keys[0] : s.key_by_mki(mki); // no MKI: key 0 (session.cpp)
    if (!key) return status::mki_unknown;
    if (auto r = check_extension_elements(s, o.pkt.bytes(), h); r != status::ok) return r;
    if (key_exhausted(key->srtp_used, key->srtp_limit)) return status::key_expired;

    stream* st = s.find(h.ssrc);
    if (!st) {
        st = s.reserve(h.ssrc);
        if (!st) return status::stream_limit;
        w.pending[w.n_pending++] = {&s, st};
    }
    // Speculative view: the stream as it will be if every earlier op of this burst succeeds.
    const bool spec = st->spec_epoch == w.epoch;
    const bool seen = spec ? st->spec_seen : st->srtp_seen;
    const uint32_t roc = spec ? st->spec_roc : st->roc;
    const uint16_t s_l = spec ? st->spec_s_l : st->s_l;
    const uint64_t index = seen ? packet_index(estimate_index<uint16_t>(roc, s_l, h.seq).roc, h.seq) : packet_index(roc, h.seq);
    if (st->srtp_seen) {
        // RFC 3711 §3.3.2: drop replays before spending cycles on the tag; read-only.
        const int64_t delta = static_cast<int64_t>(index) - static_cast<int64_t>(packet_index(st->roc, st->s_l));
        switch (st->rtp_replay.check(delta)) {
        case replay_verdict::duplicate:
            // Checked against the state before this burst; the commit phase re-checks it against
            // the state a sequential receiver would see (it may be too old by then).
            sc.st = st;
            sc.index = index;
            return status::replay_duplicate;
        case replay_verdict::too_old: return status::replay_old;
        case replay_verdict::fresh: break;
        }
    }
    st->spec_epoch = w.epoch;
    if (!seen || index > packet_index(roc, s_l)) {
        st->spec_seen = true;
        st->spec_roc = static_cast<uint32_t>(index >> 16);
        st->spec_s_l = h.seq;
    } else {
        st->spec_seen = seen;
        st->spec_roc = roc;
        st->spec_s_l = s_l;
    }

    sc.st = st;
    sc.key = key;
    sc.index = index;
    sc.roc = static_cast<uint32_t>(index >> 16);
    sc.hdr_len = h.header_len;
    sc.body_len = body;
    sc.new_len = static_cast<uint16_t>(h.header_len + body);
    sc.padding = h.padding;
    sc.garbled = false;
    sc.group = group_of(s);
    sc.cryptex = s.cryptex && h.extension &&
                 (h.ext_profile == ext_profile_cryptex_one_byte || h.ext_profile == ext_profile_cryptex_two_byte);
    if (tag_len && !s.traits->aead()) {
        // Write the ROC after the authenticated portion, so that the HMAC input (authenticated
        // portion ‖ ROC, RFC 3711 §4.2) is contiguous; the 4 octets it covers are put back once
        // the HMAC ran. AES-CM compares the received tag in place after that; the general path
        // (F8, NULL) moves it aside first.
        std::byte* tail = p + h.header_len + body;
        if (s.traits->cipher != cipher_kind::aes_cm) copy_small(sc.saved_tag.data(), tail + s.mki_len, tag_len);
        std::memcpy(sc.saved_tail.data(), tail, 4);
        put32(tail, sc.roc);
    }
    return status::ok;
}

void restore_tail(op& o, const op_scratch& sc) noexcept {
    std::memcpy(o.pkt.data + sc.hdr_len + sc.body_len, sc.saved_tail.data(), 4);
}

/// RFC 9335 §5.3: after decryption the block is an ordinary RFC 8285 one again.
void cryptex_unmark(std::byte* p, const op_scratch& sc) noexcept {
    rtp_header_view h;
    if (parse_rtp_header({p, sc.new_len}, h) != status::ok) return;
    put16(p + h.ext_offset, h.ext_profile == ext_profile_cryptex_two_byte ? ext_profile_two_byte : ext_profile_one_byte);
}

/// AES-CM with HMAC-SHA1 (ADR 0019): HMAC of every op in one backend call, the received tag
/// compared where it lies (the ROC's 4 octets put back first), then the keystream of what
/// authenticated in a second call (RFC 3711 §3.3 receiver steps 5-6: decrypt only what passed).
void unprotect_cm_hmac(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx, const suite_traits& t,
                       backend_worker& bw) noexcept {
    std::size_t n = 0;
    for (auto i : idx) {
        const op_scratch& sc = w.ops[i];
        auto& j = w.cm[n];
        j.keys = &sc.key->srtp;
        j.pkt = ops[i].pkt.data;
        j.index = sc.index;
        j.ssrc = sc.st->ssrc;
        j.cipher_len = 0;
        j.auth_len = ops[i].session->auth_srtp ? static_cast<uint16_t>(sc.hdr_len + sc.body_len + 4) : 0;
        j.tag = w.tags[n].data();
        j.op = i;
        ++n;
    }
    bw.srtp_cm_hmac(t, {w.cm.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        auto& j = w.cm[k];
        auto& o = ops[j.op];
        auto& sc = w.ops[j.op];
        if (j.auth_len) {
            restore_tail(o, sc);
            const std::byte* received = o.pkt.data + sc.hdr_len + sc.body_len + o.session->mki_len;
            if (j.failed) o.st = status::backend_error;
            else if (!tags_equal(j.tag, received, t.srtp_tag_len)) o.st = status::auth_fail;
        } else if (j.failed) {
            o.st = status::backend_error;
        }
        j.auth_len = 0;
        j.cipher_len = 0;
        if (o.st != status::ok || !o.session->encrypt_srtp) continue;
        // The payload, or with cryptex the rotated CSRCs + extension data + payload (RFC 9335
        // §5.2), rotated back below.
        std::byte* p = o.pkt.data;
        if (sc.cryptex) cryptex_rotate(p, static_cast<uint8_t>(p[0]) & 0x0f, true);
        j.cipher_off = sc.cryptex ? 16 : sc.hdr_len;
        j.cipher_len = static_cast<uint16_t>(sc.hdr_len + sc.body_len - j.cipher_off);
    }
    bw.srtp_cm_hmac(t, {w.cm.data(), n});
    for (std::size_t k = 0; k < n; ++k) {
        const auto& j = w.cm[k];
        auto& o = ops[j.op];
        if (o.st != status::ok || !o.session->encrypt_srtp) continue;
        if (w.ops[j.op].cryptex) cryptex_rotate(o.pkt.data, static_cast<uint8_t>(o.pkt.data[0]) & 0x0f, false);
        if (j.failed) o.st = status::backend_error;
    }
}

void unprotect_group(worker_ctx::impl& w, std::span<op> ops, std::span<const uint16_t> idx) noexcept {
    const session_rt& s0 = *ops[idx[0]].session;
    const suite_traits& t = *s0.traits;
    backend_worker& bw = w.worker(s0.backend);
    std::size_t n = 0;

    if (t.aead()) {
        for (auto i : idx) {
            auto& j = w.jobs[n++];
            gcm_job(j, ops[i], w.ops[i]);
            j.op = i;
        }
        bw.gcm(t, false, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            auto& o = ops[j.op];
            auto& sc = w.ops[j.op];
            if (sc.cryptex) cryptex_rotate(o.pkt.data, static_cast<uint8_t>(o.pkt.data[0]) & 0x0f, false);
            if (j.failed) o.st = status::backend_error;
            else if (!j.auth_ok) {
                o.st = status::auth_fail;
                sc.garbled = true;
            }
        }
    } else if (t.cipher == cipher_kind::aes_cm) {
        unprotect_cm_hmac(w, ops, idx, t, bw);
    } else {
        for (auto i : idx) {
            if (!ops[i].session->auth_srtp) continue;
            auto& sc = w.ops[i];
            auto& j = w.jobs[n];
            j = crypto_job{};
            j.op = i;
            j.keys = &sc.key->srtp;
            j.auth = ops[i].pkt.data;
            j.auth_len = static_cast<uint32_t>(sc.hdr_len + sc.body_len + 4);
            j.tag = w.tags[n].data();
            ++n;
        }
        if (n) bw.hmac_sha1(t, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            auto& o = ops[j.op];
            auto& sc = w.ops[j.op];
            if (j.failed) o.st = status::backend_error;
            else if (!tags_equal(j.tag, sc.saved_tag.data(), t.srtp_tag_len)) o.st = status::auth_fail;
            if (o.st != status::ok) restore_tail(o, sc);
        }
        // Decrypt only what authenticated (RFC 3711 §3.3 receiver steps 5-6).
        n = 0;
        for (auto i : idx) {
            if (ops[i].st != status::ok || !ops[i].session->encrypt_srtp) continue;
            auto& j = w.jobs[n++];
            cipher_job(j, t, ops[i], w.ops[i]);
            j.op = i;
        }
        if (n) bw.keystream_xor(t, {w.jobs.data(), n});
        for (std::size_t k = 0; k < n; ++k) {
            auto& j = w.jobs[k];
            if (w.ops[j.op].cryptex)
                cryptex_rotate(ops[j.op].pkt.data, static_cast<uint8_t>(ops[j.op].pkt.data[0]) & 0x0f, false);
            if (j.failed) ops[j.op].st = status::backend_error;
        }
    }
    for (auto i : idx) {
        auto& o = ops[i];
        if (o.st != status::ok) continue;
        auto& sc = w.ops[i];
        if (o.session->any_encrypted_ext &&
            !crypt_header_extension(w, *o.session, sc.key->srtp, o.pkt.data, sc.new_len, sc.st->ssrc, sc.index))
            o.st = status::backend_error;
        if (sc.cryptex) cryptex_unmark(o.pkt.data, sc);
    }
}

/// The verdict of a sequential receiver's replay check (RFC 3711 §3.3.2, made before the tag is
/// checked) on index `i` against the stream as committed now; `otherwise` when it passes.
status replay_status(const stream& st, uint64_t i, status otherwise) noexcept {
    if (!st.srtp_seen) return otherwise;
    switch (st.rtp_replay.check(static_cast<int64_t>(i) - static_cast<int64_t>(packet_index(st.roc, st.s_l)))) {
    case replay_verdict::duplicate: return status::replay_duplicate;
    case replay_verdict::too_old: return status::replay_old;
    case replay_verdict::fresh: break;
    }
    return otherwise;
}

/// Undoes an AEAD open that failed: GCM's keystream is CTR, so encrypting the garbled bytes again
/// under the same nonce restores the ciphertext, and the op can be tried again.
void ungarble(worker_ctx::impl& w, op& o, op_scratch& sc) noexcept {
    crypto_job j;
    gcm_job(j, o, sc);
    std::array<std::byte, 16> scratch_tag;
    j.tag = scratch_tag.data();
    w.worker(o.session->backend).gcm(*o.session->traits, true, {&j, 1});
    if (sc.cryptex) cryptex_rotate(o.pkt.data, static_cast<uint8_t>(o.pkt.data[0]) & 0x0f, false);
}

std::size_t unprotect_rtp_chunk(worker_ctx::impl& w, std::span<op> ops) noexcept {
    ++w.epoch;
    w.n_pending = 0;
    load_session_lines(ops);
    // Only the stream pointer is cleared: the commit loop skips ops without one, and every other
    // field it or phase 2 reads is written by prepare_unprotect on the paths that set it.
    for (std::size_t i = 0; i < ops.size(); ++i) {
        w.ops[i].st = nullptr;
        ops[i].st = prepare_unprotect(w, ops[i], w.ops[i]);
    }
    sort_by_group(w, ops);
    for_each_group(w, [&](std::size_t, std::span<const uint16_t> idx) { unprotect_group(w, ops, idx); });

    // Commit in packet order against the real state (RFC 3711 §3.3.1 update of ROC and s_l,
    // §3.3.2 window update) — only for packets that authenticated. Counts what ends ok: every
    // such op reaches the end of the loop body, or comes back ok from the nested retry.
    std::size_t ok = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        auto& o = ops[i];
        auto& sc = w.ops[i];
        if (!sc.st) continue;
        session_rt& s = *o.session;
        stream& st = *sc.st;
        const uint64_t truth = committed_index(s, st, static_cast<uint16_t>(sc.index));
        if (o.st == status::auth_fail) {
            if (truth != sc.index) {
                // Failed under a guess that assumed an earlier op of this burst would succeed, and
                // it did not: run it again against what really committed — now, alone, so that it
                // commits before every later op of the burst, as it would one at a time. (Run
                // after them, a later op could move the window past it.) Its stream exists, so the
                // nested call reserves none; it only resets the count of this chunk's reservations.
                if (sc.garbled) ungarble(w, o, sc);
                const auto n_pending = w.n_pending;
                ok += unprotect_rtp_chunk(w, {&o, 1}); // reuses scratch slot 0; ops before i are done
                w.n_pending = n_pending;
            } else {
                o.st = replay_status(st, truth, status::auth_fail);
            }
            continue;
        }
        if (o.st == status::replay_duplicate) { o.st = replay_status(st, truth, o.st); continue; }
        if (o.st != status::ok) continue;
        // Passed under an index the sequential receiver would not have chosen: the sequential
        // receiver would have failed the tag (or dropped a replay first), and so do we.
        if (truth != sc.index) { o.st = replay_status(st, truth, status::auth_fail); continue; }
        int64_t delta = 1;
        if (st.srtp_seen) {
            delta = static_cast<int64_t>(sc.index) - static_cast<int64_t>(packet_index(st.roc, st.s_l));
            const auto v = st.rtp_replay.check(delta);
            if (v == replay_verdict::duplicate) { o.st = status::replay_duplicate; continue; }
            if (v == replay_verdict::too_old) { o.st = status::replay_old; continue; }
        }
        if (key_exhausted(sc.key->srtp_used, sc.key->srtp_limit)) { o.st = status::key_expired; continue; }
        // The P bit and the header length are not encrypted (RFC 3711 §3.1; RFC 9335 leaves the
        // extension's length word in the clear), so phase 1's parse still holds: only the
        // decrypted last octet is new.
        if (!padding_ok(o.pkt.data, sc.new_len, sc.hdr_len, sc.padding)) {
            o.st = status::bad_padding;
            continue;
        }
        if (!st.srtp_seen) {
            st.rtp_replay.reset(sc.index);
            st.srtp_seen = true;
            st.roc = sc.roc;
            st.s_l = static_cast<uint16_t>(sc.index);
        } else {
            st.rtp_replay.commit(delta);
            if (delta > 0) {
                st.roc = sc.roc;
                st.s_l = static_cast<uint16_t>(sc.index);
            }
        }
        st.state = stream_state::active;
        ++sc.key->srtp_used;
        ++st.srtp_packets;
        st.srtp_octets += sc.body_len;
        o.pkt.len = sc.new_len;
        ++ok;
    }
    // A new SSRC whose packets all failed leaves no trace (libsrtp: a stream is created from the
    // template only once a packet authenticated).
    release_unused(w);
    return ok;
}

} // namespace

std::size_t protect_rtp(worker_ctx& w, std::span<op> ops) noexcept { return in_chunks(w, ops, protect_rtp_chunk); }
std::size_t unprotect_rtp(worker_ctx& w, std::span<op> ops) noexcept { return in_chunks(w, ops, unprotect_rtp_chunk); }

} // namespace srtpo::engine
