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

void free_aligned(std::byte* p) { ::operator delete[](p, std::align_val_t{64}); }

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

} // namespace

void session_deleter::operator()(session_rt* s) const noexcept {
    if (!s) return;
    for (auto& k : s->keys) secure_zero(&k, sizeof k);
    if (s->expanded) secure_zero(s->expanded.get(), s->expanded_bytes);
    delete s;
}

result<session_ptr> make_session(const session_config& c) {
    const suite_traits* t = nullptr;
    if (auto v = validate(c, t); !v) return v.err();

    const detail::crypto_backend* be = detail::get_backend(c.backend);
    if (!be)
        return make_error(errc::unsupported, "backend " + std::string(to_string(c.backend)) + " is not available on this build or CPU");
    if (!be->supports(*t)) be = &detail::openssl_backend(); // e.g. F8 and NULL on IPsec-MB

    session_ptr s{new session_rt};
    s->traits = t;
    s->dir = c.dir;
    s->be = be;
    s->backend = be->kind();
    s->encrypt_srtp = !c.unencrypted_srtp && t->cipher != cipher_kind::null;
    s->encrypt_srtcp = !c.unencrypted_srtcp && t->cipher != cipher_kind::null;
    s->auth_srtp = !c.unauthenticated_srtp;
    s->cryptex = c.cryptex;
    s->mki_len = static_cast<uint8_t>(c.keys.front().mki.size());
    s->replay_window = (c.replay_window + 31u) / 32u * 32u;
    s->initial_roc = c.initial_roc;
    s->initial_srtcp_index = c.initial_srtcp_index & 0x7fffffffu;
    s->soft_margin = c.soft_limit_margin;
    for (auto id : c.encrypted_extension_ids) s->encrypted_ext[id] = true;
    s->any_encrypted_ext = !c.encrypted_extension_ids.empty();

    // Keys: derive, then expand for the backend into one aligned block.
    const std::size_t per_block = be->expanded_size(*t);
    s->expanded_bytes = per_block * 2 * c.keys.size();
    if (s->expanded_bytes) {
        auto* mem = static_cast<std::byte*>(::operator new[](s->expanded_bytes, std::align_val_t{64}));
        std::memset(mem, 0, s->expanded_bytes);
        s->expanded = {mem, free_aligned};
    }
    s->keys.resize(c.keys.size());
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
        if (per_block) {
            mk.srtp.expanded = s->expanded.get() + per_block * (2 * i);
            mk.srtcp.expanded = s->expanded.get() + per_block * (2 * i + 1);
        }
        if (auto r = be->expand(*t, mk.srtp); !r) return r.err();
        if (auto r = be->expand(*t, mk.srtcp); !r) return r.err();
        mk.srtp_limit = lifetime_cap(kc.lifetime, srtp_max_lifetime);
        mk.srtcp_limit = lifetime_cap(kc.lifetime, srtcp_max_lifetime);
    }

    // Streams: all memory now, none on the data path.
    const std::size_t n = c.max_streams;
    s->streams.resize(n);
    s->index.assign(std::bit_ceil(n * 2), 0);
    const std::size_t words = std::bit_ceil(std::size_t{s->replay_window}) / 64;
    s->replay_pool.assign(n * words * 2, 0);
    s->free_list.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto& st = s->streams[i];
        st.rtp_replay = replay_window({s->replay_pool.data() + (2 * i) * words, words}, s->replay_window);
        st.rtcp_replay = replay_window({s->replay_pool.data() + (2 * i + 1) * words, words}, s->replay_window);
        s->free_list.push_back(static_cast<uint16_t>(n - 1 - i));
    }
    return s;
}

detail::stream* session_rt::find(uint32_t ssrc) noexcept {
    for (std::size_t i = hash_ssrc(ssrc) & mask();; i = (i + 1) & mask()) {
        auto e = index[i];
        if (e == 0) return nullptr;
        auto& st = streams[e - 1u];
        if (st.ssrc == ssrc) return &st;
    }
}

detail::stream* session_rt::reserve(uint32_t ssrc) noexcept {
    if (free_list.empty()) return nullptr;
    auto n = free_list.back();
    free_list.pop_back();
    auto& st = streams[n];
    const auto rtp = st.rtp_replay, rtcp = st.rtcp_replay;
    st = stream{};
    st.rtp_replay = rtp;
    st.rtcp_replay = rtcp;
    st.ssrc = ssrc;
    st.state = stream_state::pending;
    st.roc = initial_roc;
    st.next_srtcp_index = initial_srtcp_index;
    std::size_t i = hash_ssrc(ssrc) & mask();
    while (index[i] != 0) i = (i + 1) & mask();
    index[i] = static_cast<uint16_t>(n + 1);
    return &st;
}

void session_rt::release(detail::stream* s) noexcept {
    const auto n = static_cast<uint16_t>(s - streams.data());
    std::size_t i = hash_ssrc(s->ssrc) & mask();
    while (index[i] != n + 1) i = (i + 1) & mask();
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (std::size_t j = (i + 1) & mask(); index[j] != 0; j = (j + 1) & mask()) {
        const std::size_t home = hash_ssrc(streams[index[j] - 1u].ssrc) & mask();
        // Move j into the hole i if its home is not cyclically in (i, j].
        const bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            index[i] = index[j];
            i = j;
        }
    }
    index[i] = 0;
    s->state = stream_state::empty;
    free_list.push_back(n);
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
