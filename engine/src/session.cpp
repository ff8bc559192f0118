// Session construction (control path): validation, key derivation, expansion, stream memory.

#include "session_impl.hpp"

#include <srtpo/engine/kdf.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace srtpo::engine {
namespace {

using detail::stream;
using detail::stream_state;

std::size_t hash_ssrc(uint32_t ssrc) noexcept {
    // SSRCs are random (RFC 3550 §8.1) but may be chosen by an attacker: mix them anyway.
    uint64_t x = ssrc * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(x >> 32);
}

result<void> validate(const session_config& c, const suite_traits*& t) {
    t = traits_of(c.s);
    if (!t) return make_error(errc::unknown_suite, "unknown crypto suite value " + std::to_string(static_cast<unsigned>(c.s)));
    if (c.keys.empty() || c.keys.size() > max_master_keys)
        return make_error(errc::invalid_argument, "a session needs 1.." + std::to_string(max_master_keys) +
                                                      " master keys, got " + std::to_string(c.keys.size()));
    const std::size_t mki_len = c.keys.front().mki.size();
    for (std::size_t i = 0; i < c.keys.size(); ++i) {
        const auto& k = c.keys[i];
        const std::string which = "master key " + std::to_string(i) + ": ";
        if ((k.srtp_keys == nullptr) != (k.srtcp_keys == nullptr))
            return make_error(errc::invalid_argument, which + "pre-derived keys need both the SRTP and the SRTCP set");
        if (k.srtp_keys) {
            // pre-derived: lengths are fixed by the suite
        } else if (k.key.size() != t->master_key_len)
            return make_error(errc::bad_key_length, which + std::string(t->name) + " needs a " +
                                                        std::to_string(t->master_key_len) + "-octet master key, got " +
                                                        std::to_string(k.key.size()));
        if (!k.srtp_keys && k.salt.size() != t->master_salt_len)
            return make_error(errc::bad_key_length, which + std::string(t->name) + " needs a " +
                                                        std::to_string(t->master_salt_len) + "-octet master salt, got " +
                                                        std::to_string(k.salt.size()));
        if (k.mki.size() > max_mki_len)
            return make_error(errc::invalid_argument, which + "MKI longer than 128 octets");
        if (k.mki.size() != mki_len)
            return make_error(errc::invalid_argument, which + "every master key of a session needs an MKI of the same length");
        if (c.keys.size() > 1 && mki_len == 0)
            return make_error(errc::invalid_argument, "several master keys need MKIs to tell them apart (RFC 3711 §3.3)");
        for (std::size_t j = 0; j < i; ++j)
            if (mki_len && std::memcmp(c.keys[j].mki.data(), k.mki.data(), mki_len) == 0)
                return make_error(errc::invalid_argument, which + "MKI equals that of master key " + std::to_string(j));
    }
    if (c.replay_window < min_replay_window || c.replay_window > max_replay_window)
        return make_error(errc::invalid_argument, "replay window must be 64..32768 packets, got " + std::to_string(c.replay_window));
    if (c.kdr != 0)
        return make_error(errc::unsupported, "key derivation rate " + std::to_string(c.kdr) +
                                                 " is not supported: only KDR 0 (derive once, RFC 3711 §4.3.1)");
    if (t->aead() && c.unauthenticated_srtp)
        return make_error(errc::unsupported, std::string(t->name) + ": UNAUTHENTICATED_SRTP is not defined for AEAD suites (RFC 7714 §13)");
    if (c.cryptex && c.unencrypted_srtp)
        return make_error(errc::invalid_argument, "cryptex (RFC 9335) needs SRTP encryption; UNENCRYPTED_SRTP contradicts it");
    if (c.max_streams == 0 || c.max_streams > 65535)
        return make_error(errc::invalid_argument, "max_streams must be 1..65535");
    for (auto id : c.encrypted_extension_ids)
        if (id == 0) return make_error(errc::invalid_argument, "header extension ID 0 is padding, not an element (RFC 8285 §4.2)");
    if (c.cryptex && !c.encrypted_extension_ids.empty())
        return make_error(errc::invalid_argument, "cryptex (RFC 9335) encrypts the whole extension block; do not also list RFC 6904 IDs");
    if (!c.encrypted_extension_ids.empty() && (c.unencrypted_srtp || t->cipher == cipher_kind::null))
        return make_error(errc::invalid_argument, "encrypted header extensions (RFC 6904) need SRTP encryption; "
                                                  "the NULL cipher or UNENCRYPTED_SRTP leaves nothing to encrypt them with");
    if (t->cipher == cipher_kind::aes_f8 && (c.cryptex || !c.encrypted_extension_ids.empty()))
        return make_error(errc::unsupported, "header extension encryption is not supported with F8");
    return {};
}

uint64_t lifetime_cap(uint64_t configured, uint64_t rfc_max) noexcept {
    return configured == 0 ? rfc_max : std::min(configured, rfc_max);
}


/// Where each part of a session's block lies (ADR 0017); offsets from the block's start.
struct block_layout {
    std::size_t keys = 0, streams = 0, expanded = 0, index = 0, free_list = 0, pool = 0, total = 0;
    std::size_t index_entries = 0, words = 0, pool_words = 0;
    bool rtp_inline = false;
};

std::size_t round_up(std::size_t n, std::size_t a) noexcept { return (n + a - 1) / a * a; }

block_layout layout_of(std::size_t n_keys, std::size_t n_streams, std::size_t per_block, uint32_t window) noexcept {
    block_layout l;
    l.words = std::bit_ceil(std::size_t{window}) / 64;
    l.rtp_inline = l.words <= detail::inline_replay_words;
    l.index_entries = std::bit_ceil(n_streams * 2);
    l.pool_words = n_streams * l.words * (l.rtp_inline ? 1 : 2);
    std::size_t at = round_up(sizeof(session_rt), 64);
    l.keys = at;
    at += n_keys * sizeof(detail::master_key);
    l.streams = at;
    at += n_streams * sizeof(detail::stream);
    l.expanded = at;
    at += per_block * 2 * n_keys;
    l.index = at;
    at += l.index_entries * sizeof(uint16_t);
    l.free_list = at;
    at += n_streams * sizeof(uint16_t);
    l.pool = round_up(at, 64);
    at = l.pool + l.pool_words * sizeof(uint64_t);
    l.total = round_up(at, 64);
    return l;
}

/// session_rt::hot_runs for the active key: the backend's runs, moved from the key block's start
/// to the session's. Left empty where a line number would not fit (blocks over 4 MiB).
void set_hot_runs(session_rt& s) noexcept {
    s.hot_runs = {};
    const std::byte* e = s.keys[s.active_key].srtp.expanded;
    if (!e || !s.be) return;
    const auto from = static_cast<std::size_t>(e - reinterpret_cast<const std::byte*>(&s)) / 64;
    const auto runs = s.be->hot_runs(*s.traits);
    for (std::size_t r = 0; r < runs.size(); ++r) {
        const std::size_t first = from + runs[r].first;
        if (first + runs[r].count > 0xffff) return;
        s.hot_runs[r] = {static_cast<uint16_t>(first), runs[r].count};
    }
}

} // namespace

void session_deleter::operator()(session_rt* s) const noexcept {
    if (!s) return;
    for (auto& k : s->keys) {
        secure_zero(&k, sizeof k);
        k.~master_key();
    }
    if (s->expanded) secure_zero(s->expanded, s->expanded_bytes);
    s->~session_rt();
    ::operator delete(static_cast<void*>(s), std::align_val_t{64});
}

result<session_ptr> make_session(const session_config& c) {
    const suite_traits* t = nullptr;
    if (auto v = validate(c, t); !v) return v.err();

    const detail::crypto_backend* be = detail::get_backend(c.backend);
    if (!be)
        return make_error(errc::unsupported, "backend " + std::string(to_string(c.backend)) + " is not available on this build or CPU");
    if (!be->supports(*t)) be = &detail::openssl_backend(); // e.g. F8 and NULL on IPsec-MB

    // One block for everything the session owns (ADR 0017): hot parts first, nothing allocated later.
    const uint32_t window = (c.replay_window + 31u) / 32u * 32u;
    const std::size_t per_block = be->expanded_size(*t);
    const std::size_t n = c.max_streams;
    const block_layout l = layout_of(c.keys.size(), n, per_block, window);
    auto* mem = static_cast<std::byte*>(::operator new(l.total, std::align_val_t{64}));
    std::memset(mem, 0, l.total);
    session_ptr s{new (mem) session_rt};
    s->block_bytes = l.total;
    auto* keys = reinterpret_cast<detail::master_key*>(mem + l.keys);
    for (std::size_t i = 0; i < c.keys.size(); ++i) new (keys + i) detail::master_key;
    s->keys = {keys, c.keys.size()};
    auto* streams = reinterpret_cast<stream*>(mem + l.streams);
    for (std::size_t i = 0; i < n; ++i) new (streams + i) stream;
    s->streams = {streams, n};
    s->traits = t;
    s->dir = c.dir;
    s->be = be;
    s->backend = be->kind();
    s->encrypt_srtp = !c.unencrypted_srtp && t->cipher != cipher_kind::null;
    s->encrypt_srtcp = !c.unencrypted_srtcp && t->cipher != cipher_kind::null;
    s->auth_srtp = !c.unauthenticated_srtp;
    s->cryptex = c.cryptex;
    s->mki_len = static_cast<uint8_t>(c.keys.front().mki.size());
    s->replay_window = window;
    s->initial_roc = c.initial_roc;
    s->initial_srtcp_index = c.initial_srtcp_index & 0x7fffffffu;
    s->soft_margin = c.soft_limit_margin;
    for (auto id : c.encrypted_extension_ids) s->encrypted_ext[id] = true;
    s->any_encrypted_ext = !c.encrypted_extension_ids.empty();

    // Keys: derive, then expand for the backend into the block's key area.
    s->expanded_bytes = per_block * 2 * c.keys.size();
    if (s->expanded_bytes) s->expanded = mem + l.expanded;
    for (std::size_t i = 0; i < c.keys.size(); ++i) {
        auto& mk = s->keys[i];
        const auto& kc = c.keys[i];
        std::copy(kc.mki.begin(), kc.mki.end(), mk.mki.begin());
        if (kc.srtp_keys) {
            mk.srtp.raw = *kc.srtp_keys;
            mk.srtcp.raw = *kc.srtcp_keys;
        } else {
            if (auto r = derive_session_keys(*t, kc.key, kc.salt, false, mk.srtp.raw); !r) return r.err();
            if (auto r = derive_session_keys(*t, kc.key, kc.salt, true, mk.srtcp.raw); !r) return r.err();
        }
        std::copy(mk.srtp.raw.k_s.begin(), mk.srtp.raw.k_s.end(), mk.srtp.salt.begin());
        std::copy(mk.srtcp.raw.k_s.begin(), mk.srtcp.raw.k_s.end(), mk.srtcp.salt.begin());
        if (per_block) {
            mk.srtp.expanded = s->expanded + per_block * (2 * i);
            mk.srtcp.expanded = s->expanded + per_block * (2 * i + 1);
        }
        if (auto r = be->expand(*t, mk.srtp); !r) return r.err();
        if (auto r = be->expand(*t, mk.srtcp); !r) return r.err();
        mk.srtp_limit = lifetime_cap(kc.lifetime, srtp_max_lifetime);
        mk.srtcp_limit = lifetime_cap(kc.lifetime, srtcp_max_lifetime);
    }

    set_hot_runs(*s);

    // Streams: all memory now, none on the data path.
    s->index = reinterpret_cast<uint16_t*>(mem + l.index);
    s->index_mask = static_cast<uint32_t>(l.index_entries - 1);
    s->free_list = reinterpret_cast<uint16_t*>(mem + l.free_list);
    auto* pool = reinterpret_cast<uint64_t*>(mem + l.pool);
    for (std::size_t i = 0; i < n; ++i) {
        auto& st = s->streams[i];
        if (l.rtp_inline) {
            st.rtp_replay = replay_window({st.rtp_bits.data(), l.words}, window);
            st.rtcp_replay = replay_window({pool + i * l.words, l.words}, window);
        } else {
            st.rtp_replay = replay_window({pool + (2 * i) * l.words, l.words}, window);
            st.rtcp_replay = replay_window({pool + (2 * i + 1) * l.words, l.words}, window);
        }
        s->free_list[s->n_free++] = static_cast<uint16_t>(n - 1 - i);
    }
    return s;
}

std::size_t session_memory(const session_rt& s) noexcept { return s.block_bytes; }

detail::stream* session_rt::find_indexed(uint32_t ssrc) noexcept {
    for (std::size_t i = hash_ssrc(ssrc) & index_mask;; i = (i + 1) & index_mask) {
        auto e = index[i];
        if (e == 0) return nullptr;
        auto& st = streams[e - 1u];
        if (st.ssrc == ssrc) return &st;
    }
}

detail::stream* session_rt::reserve(uint32_t ssrc) noexcept {
    if (n_free == 0) return nullptr;
    const auto n = free_list[--n_free];
    auto& st = streams[n];
    const auto rtp = st.rtp_replay, rtcp = st.rtcp_replay;
    st = stream{};
    st.rtp_replay = rtp;
    st.rtcp_replay = rtcp;
    st.ssrc = ssrc;
    st.state = stream_state::pending;
    st.roc = initial_roc;
    st.next_srtcp_index = initial_srtcp_index;
    std::size_t i = hash_ssrc(ssrc) & index_mask;
    while (index[i] != 0) i = (i + 1) & index_mask;
    index[i] = static_cast<uint16_t>(n + 1);
    return &st;
}

void session_rt::release(detail::stream* s) noexcept {
    const auto n = static_cast<uint16_t>(s - streams.data());
    std::size_t i = hash_ssrc(s->ssrc) & index_mask;
    while (index[i] != n + 1) i = (i + 1) & index_mask;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (std::size_t j = (i + 1) & index_mask; index[j] != 0; j = (j + 1) & index_mask) {
        const std::size_t home = hash_ssrc(streams[index[j] - 1u].ssrc) & index_mask;
        // Move j into the hole i if its home is not cyclically in (i, j].
        const bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            index[i] = index[j];
            i = j;
        }
    }
    index[i] = 0;
    s->state = stream_state::empty;
    free_list[n_free++] = n;
}

detail::master_key* session_rt::key_by_mki(const std::byte* mki) noexcept {
    if (mki_len == 0) return &keys[0];
    for (auto& k : keys)
        if (std::memcmp(k.mki.data(), mki, mki_len) == 0) return &k;
    return nullptr;
}

const suite_traits& session_suite(const session_rt& s) noexcept { return *s.traits; }
direction session_direction(const session_rt& s) noexcept { return s.dir; }
backend_kind session_backend(const session_rt& s) noexcept { return s.backend; }
std::size_t session_key_count(const session_rt& s) noexcept { return s.keys.size(); }
std::size_t session_active_key(const session_rt& s) noexcept { return s.active_key; }

std::size_t session_stream_count(const session_rt& s) noexcept {
    return static_cast<std::size_t>(std::count_if(s.streams.begin(), s.streams.end(),
                                                  [](const stream& st) { return st.state == stream_state::active; }));
}

static stream_stats stats_of(const stream& st, direction dir) noexcept {
    stream_stats r;
    r.ssrc = st.ssrc;
    r.roc = st.roc;
    r.highest_seq = st.s_l;
    r.srtp_packets = st.srtp_packets;
    r.srtp_octets = st.srtp_octets;
    r.srtcp_packets = st.srtcp_packets;
    r.srtp_seen = st.srtp_seen;
    r.srtcp_index = dir == direction::protect ? st.next_srtcp_index
                                              : static_cast<uint32_t>(st.rtcp_replay.highest());
    return r;
}

std::optional<stream_stats> session_stream(const session_rt& s, uint32_t ssrc) noexcept {
    auto* st = const_cast<session_rt&>(s).find(ssrc);
    if (!st || st->state != stream_state::active) return std::nullopt;
    return stats_of(*st, s.dir);
}

void session_for_each_stream(const session_rt& s, void (*fn)(const stream_stats&, void*), void* arg) {
    for (const auto& st : s.streams)
        if (st.state == stream_state::active) fn(stats_of(st, s.dir), arg);
}

key_usage session_key_usage(const session_rt& s, std::size_t i) noexcept {
    key_usage u;
    if (i >= s.keys.size()) return u;
    const auto& k = s.keys[i];
    u.srtp_packets = k.srtp_used;
    u.srtcp_packets = k.srtcp_used;
    u.expired = k.srtp_used >= k.srtp_limit || k.srtcp_used >= k.srtcp_limit;
    u.soft_limit = k.srtp_used + s.soft_margin >= k.srtp_limit || k.srtcp_used + s.soft_margin >= k.srtcp_limit;
    return u;
}

result<void> session_set_active_key(session_rt& s, std::size_t i) {
    if (i >= s.keys.size())
        return make_error(errc::invalid_argument, "key index " + std::to_string(i) + " out of range (session has " +
                                                      std::to_string(s.keys.size()) + " keys)");
    s.active_key = static_cast<uint8_t>(i);
    set_hot_runs(s);
    return {};
}

namespace {
bool same_key(const detail::master_key& a, const detail::master_key& b, std::size_t mki_len) noexcept {
    if (mki_len && std::memcmp(a.mki.data(), b.mki.data(), mki_len) != 0) return false;
    // Constant time: the derived keys are secret, only equality is wanted.
    return CRYPTO_memcmp(&a.srtp.raw, &b.srtp.raw, sizeof a.srtp.raw) == 0 &&
           CRYPTO_memcmp(&a.srtcp.raw, &b.srtcp.raw, sizeof a.srtcp.raw) == 0;
}
} // namespace

stream_transfer session_transfer_streams(const session_rt& from, session_rt& to) noexcept {
    stream_transfer r;
    if (&from == &to || from.dir != to.dir) return r;
    r.ok = true;
    for (const auto& src : from.streams) {
        if (src.state != stream_state::active) continue;
        stream* dst = to.find(src.ssrc);
        if (!dst) dst = to.reserve(src.ssrc);
        if (!dst) {
            ++r.dropped;
            continue;
        }
        dst->state = stream_state::active;
        dst->srtp_seen = src.srtp_seen;
        dst->roc = src.roc;
        dst->s_l = src.s_l;
        dst->rtp_replay.assign(src.rtp_replay);
        dst->srtcp_seen = src.srtcp_seen;
        dst->rtcp_replay.assign(src.rtcp_replay);
        dst->next_srtcp_index = src.next_srtcp_index;
        dst->srtp_packets = src.srtp_packets;
        dst->srtp_octets = src.srtp_octets;
        dst->srtcp_packets = src.srtcp_packets;
        dst->spec_epoch = 0; // burst scratch: never valid across sessions
        ++r.moved;
    }
    if (from.mki_len == to.mki_len) {
        for (auto& k : to.keys)
            for (const auto& o : from.keys)
                if (same_key(o, k, to.mki_len)) {
                    k.srtp_used = o.srtp_used;
                    k.srtcp_used = o.srtcp_used;
                    ++r.keys_matched;
                    break;
                }
    }
    return r;
}

result<void> session_set_roc(session_rt& s, uint32_t ssrc, uint32_t roc) {
    auto* st = s.find(ssrc);
    if (!st) {
        st = s.reserve(ssrc);
        if (!st) return make_error(errc::invalid_argument, "stream table full");
        st->state = detail::stream_state::active;
    }
    st->roc = roc;
    return {};
}

} // namespace srtpo::engine
