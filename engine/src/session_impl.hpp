#pragma once
// The inside of session_rt. Private to the engine: the pmd and tools hold only pointers.

#include "backend/crypto_backend.hpp"

#include <srtpo/engine/replay_window.hpp>
#include <srtpo/engine/session.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace srtpo::engine::detail {

/// One master key with its derived SRTP and SRTCP key blocks and its usage (RFC 3711 §9.2).
struct master_key {
    std::array<std::byte, max_mki_len> mki{};
    key_block srtp;
    key_block srtcp;
    uint64_t srtp_limit = 0;   ///< hard limit, packets
    uint64_t srtcp_limit = 0;
    uint64_t srtp_used = 0;    ///< written by the owner thread only
    uint64_t srtcp_used = 0;
};

enum class stream_state : uint8_t { empty, pending, active };

/// Per-SSRC state. Written only by the session's owner thread.
struct stream {
    uint32_t ssrc = 0;
    stream_state state = stream_state::empty;
    // SRTP (RFC 3711 §3.3.1): the highest index is (roc, s_l).
    bool srtp_seen = false;
    uint32_t roc = 0;
    uint16_t s_l = 0;
    replay_window rtp_replay;
    // SRTCP (RFC 3711 §3.4): receive window, or the next index to send.
    bool srtcp_seen = false;
    replay_window rtcp_replay;
    uint32_t next_srtcp_index = 0;
    uint64_t srtp_packets = 0, srtp_octets = 0, srtcp_packets = 0;
    // Burst scratch: what the stream would look like if every earlier op of the current burst
    // succeeded. Valid only while spec_epoch equals the worker's epoch.
    uint64_t spec_epoch = 0;
    bool spec_seen = false;
    uint32_t spec_roc = 0;
    uint16_t spec_s_l = 0;
};

} // namespace srtpo::engine::detail

namespace srtpo::engine {

class session_rt {
public:
    const suite_traits* traits = nullptr;
    direction dir = direction::protect;
    backend_kind backend = backend_kind::openssl;
    const detail::crypto_backend* be = nullptr;
    bool encrypt_srtp = true;
    bool encrypt_srtcp = true;
    bool auth_srtp = true;
    bool cryptex = false;
    bool any_encrypted_ext = false;
    uint8_t mki_len = 0;
    uint8_t active_key = 0;
    uint32_t replay_window = 128;
    uint32_t initial_roc = 0;
    uint32_t initial_srtcp_index = 0;
    uint64_t soft_margin = 0;
    std::array<bool, 256> encrypted_ext{};
    std::vector<detail::master_key> keys;
    std::unique_ptr<std::byte[], void (*)(std::byte*)> expanded{nullptr, nullptr};
    std::size_t expanded_bytes = 0;

    // Streams: a fixed array plus an open-addressing index (linear probing, backward-shift delete).
    std::vector<detail::stream> streams;
    std::vector<uint16_t> free_list;
    std::vector<uint16_t> index;    ///< stream number + 1, 0 = empty; size is a power of two
    std::vector<uint64_t> replay_pool;

    detail::stream* find(uint32_t ssrc) noexcept;
    /// Takes a free stream for ssrc in state pending; nullptr when all are taken.
    detail::stream* reserve(uint32_t ssrc) noexcept;
    /// Returns a pending stream that never committed a packet to the free list.
    void release(detail::stream* s) noexcept;
    std::size_t mask() const noexcept { return index.size() - 1; }
    /// Finds the master key named by an MKI; nullptr if none. With no MKI: key 0.
    detail::master_key* key_by_mki(const std::byte* mki) noexcept;
};

} // namespace srtpo::engine
