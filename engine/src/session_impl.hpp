#pragma once
// The inside of session_rt. Private to the engine: the pmd and tools hold only pointers.
//
// Memory layout (ADR 0017): one 64-byte aligned block per session, allocated once by
// make_session and freed by session_deleter; the data path never allocates. In order:
//
//   session_rt              line 0: everything protect/unprotect read per packet; cold fields after
//   master_key[n_keys]      line 0 of each: SRTP usage count, limit, expanded-key pointer, salt
//   stream[max_streams]     two lines each: ROC, s_l, the SRTP replay window with its bitmap
//                           inline (windows up to 128 packets), counters; then SRTCP state
//   expanded keys           backend layout, per key: SRTP block, SRTCP block (key schedule and
//                           HMAC pads, or GCM key data, in the block's first lines)
//   SSRC index, free list, replay bitmaps that do not fit inline (SRTCP; SRTP windows > 128)
//
// A packet of a session's first SSRC touches session line 0, master key line 0, stream 0's two
// lines and some lines of the SRTP expanded block, all at addresses the session's line 0 names:
// a burst loads the first four before its prepare loop (burst_common.hpp, load_session_lines),
// the backend the key block's before its jobs run. A caller that knows a burst's sessions one
// burst ahead prefetches all of them then (prefetch_session.cpp, ADR 0023).

#include "backend/crypto_backend.hpp"

#include <srtpo/engine/replay_window.hpp>
#include <srtpo/engine/session.hpp>

#include <array>
#include <bitset>
#include <cstdint>
#include <span>

namespace srtpo::engine::detail {

/// One master key with its derived SRTP and SRTCP key blocks and its usage (RFC 3711 §9.2).
struct alignas(64) master_key {
    // line 0: read (and counted) by every SRTP packet
    uint64_t srtp_used = 0;    ///< written by the owner thread only
    uint64_t srtp_limit = 0;   ///< hard limit, packets
    key_block srtp;            ///< its expanded pointer and salt are in line 0
    // cold
    uint64_t srtcp_used = 0;
    uint64_t srtcp_limit = 0;
    key_block srtcp;
    std::array<std::byte, max_mki_len> mki{};
};
static_assert(offsetof(master_key, srtp) + offsetof(key_block, raw) <= 64, "SRTP key hot fields span one line");

enum class stream_state : uint8_t { empty, pending, active };

/// Bitmap words kept inside the stream for its SRTP replay window (capacity 128 packets, the
/// default window); larger windows use the session's out-of-line pool.
inline constexpr std::size_t inline_replay_words = 2;

/// Per-SSRC state. Written only by the session's owner thread.
struct alignas(64) stream {
    // line 0: what every SRTP packet reads and writes
    uint32_t ssrc = 0;
    stream_state state = stream_state::empty;
    // SRTP (RFC 3711 §3.3.1): the highest index is (roc, s_l).
    bool srtp_seen = false;
    uint16_t s_l = 0;
    uint32_t roc = 0;
    // Burst scratch: what the stream would look like if every earlier op of the current burst
    // succeeded. Valid only while spec_epoch equals the worker's epoch.
    bool spec_seen = false;
    uint16_t spec_s_l = 0;
    uint32_t spec_roc = 0;
    uint64_t spec_epoch = 0;
    replay_window rtp_replay;
    uint64_t srtp_packets = 0;
    // line 1
    uint64_t srtp_octets = 0;
    std::array<uint64_t, inline_replay_words> rtp_bits{}; ///< rtp_replay's bitmap when it fits
    // SRTCP (RFC 3711 §3.4): receive window, or the next index to send.
    bool srtcp_seen = false;
    uint32_t next_srtcp_index = 0;
    uint64_t srtcp_packets = 0;
    replay_window rtcp_replay; ///< bitmap in the session's pool
};
static_assert(sizeof(stream) == 128, "a stream is two cache lines");
static_assert(offsetof(stream, srtp_packets) < 64 && offsetof(stream, srtp_octets) == 64);

} // namespace srtpo::engine::detail

namespace srtpo::engine {

class alignas(64) session_rt {
public:
    // ---- line 0: read for every packet ----
    const suite_traits* traits = nullptr;
    std::span<detail::master_key> keys;   ///< in this session's block
    std::span<detail::stream> streams;    ///< in this session's block; stream 0 is taken first
    direction dir = direction::protect;
    backend_kind backend = backend_kind::openssl;
    bool encrypt_srtp = true;
    bool encrypt_srtcp = true;
    bool auth_srtp = true;
    bool cryptex = false;
    bool any_encrypted_ext = false;
    uint8_t mki_len = 0;
    uint8_t active_key = 0;
    /// The active key's SRTP expanded lines a packet reads (the backend's hot_runs), in lines
    /// from this session's start; prefetch_session's list, kept with the active key (ADR 0023).
    std::array<detail::line_run, 2> hot_runs{};

    // ---- cold: set-up, new SSRCs, SRTCP, RFC 6904, introspection ----
    const detail::crypto_backend* be = nullptr;
    uint32_t replay_window = 128;
    uint32_t initial_roc = 0;
    uint32_t initial_srtcp_index = 0;
    uint64_t soft_margin = 0;
    std::bitset<256> encrypted_ext;
    std::byte* expanded = nullptr;   ///< all expanded key blocks, in this session's block
    std::size_t expanded_bytes = 0;
    // Streams: a fixed array plus an open-addressing index (linear probing, backward-shift delete).
    uint16_t* index = nullptr;       ///< stream number + 1, 0 = empty; index_mask + 1 entries
    uint32_t index_mask = 0;
    uint16_t* free_list = nullptr;   ///< stack of free stream numbers
    uint32_t n_free = 0;
    std::size_t block_bytes = 0;     ///< size of this session's block (memory per session)

    detail::stream* find(uint32_t ssrc) noexcept {
        // Most sessions carry one SSRC, in stream 0: no index probe (one cache line fewer).
        detail::stream& s0 = streams[0];
        if (s0.ssrc == ssrc && s0.state != detail::stream_state::empty) return &s0;
        return find_indexed(ssrc);
    }
    /// Takes a free stream for ssrc in state pending; nullptr when all are taken.
    detail::stream* reserve(uint32_t ssrc) noexcept;
    /// Returns a pending stream that never committed a packet to the free list.
    void release(detail::stream* s) noexcept;
    /// Finds the master key named by an MKI; nullptr if none. With no MKI: key 0.
    detail::master_key* key_by_mki(const std::byte* mki) noexcept;

private:
    detail::stream* find_indexed(uint32_t ssrc) noexcept;
};
static_assert(offsetof(session_rt, hot_runs) + sizeof(session_rt::hot_runs) <= 64, "the per-packet fields of a session fit one cache line");

} // namespace srtpo::engine
