#pragma once
// The `status` region: live per-flow state written by the pmd, read by srtpo-cp and keying-ctl
// (which map it PROT_READ). Entry i belongs to session slot i.
//
// Every field is one 8-byte word, written only by the lcore that owns the flow (one writer per
// word) with a relaxed std::atomic_ref store and read with a relaxed atomic load: each word is
// always whole, no seqlock is needed, and a reader in another process never slows the owner down.
// Fields that must agree with each other share a word (ROC with s_l, key pressure with the index).
//
// Layout: status_header (192 bytes) in the first page, then live_state[n_slots] at
// entries_offset (page-aligned), 64 bytes each, so that two lcores never write one cache line.
//
// After a pmd restart the entry survives (the region is a named shm file): if its `generation`
// equals the slot's, the pmd resumes the flow's ROC and SRTCP index from it (issue 5, "kill -9 of
// srtpo-pmd ... resumes every flow with its ROC").

#include <srtpo/table/abi.hpp>
#include <srtpo/table/seqlock.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace srtpo::table {

/// Header of the status region (the pmd creates it and is its only writer).
struct alignas(cache_line) status_header {
    // --- line 0: identity and geometry (constant after creation; magic stored last) ---
    uint64_t magic;            ///< status_magic
    uint32_t abi_version;
    uint32_t header_size;      ///< sizeof(status_header)
    uint32_t entry_size;       ///< sizeof(live_state)
    uint32_t n_slots;          ///< equals the sessions table's n_slots
    uint64_t entries_offset;
    uint64_t total_size;
    uint64_t instance_id;
    uint64_t created_unix_ns;
    uint64_t reserved0;
    // --- line 1: doorbell consumer side (pmd sync thread; std::atomic_ref only) ---
    uint64_t doorbell_consumer; ///< ids consumed so far (see doorbell.hpp)
    uint64_t resync_ack;        ///< last table_header::resync epoch fully rescanned
    uint64_t sessions_instance; ///< table_header::instance_id these two words refer to
    uint64_t reserved1[5];
    // --- line 2: liveness (pmd; std::atomic_ref only) ---
    uint64_t writer_pid;
    uint64_t heartbeat_ns;      ///< CLOCK_MONOTONIC, stored by the sync thread on every poll
    uint64_t reserved2[6];
};
static_assert(sizeof(status_header) == 192);
static_assert(std::is_trivially_copyable_v<status_header> && std::is_standard_layout_v<status_header>);

/// Key-lifetime pressure bits of one leg (RFC 3711 §9.2: 2^48 SRTP, 2^31 SRTCP packets per key;
/// or the SDES lifetime). "soft" = within the session's soft-limit margin: rekey now.
namespace pressure {
inline constexpr uint8_t srtp_soft = 0x1;
inline constexpr uint8_t srtp_expired = 0x2;
inline constexpr uint8_t srtcp_soft = 0x4;
inline constexpr uint8_t srtcp_expired = 0x8;
} // namespace pressure

/// Live state of one flow: eight words, one cache line.
struct alignas(cache_line) live_state {
    uint64_t generation;  ///< slot generation this entry describes; other words are stale if it differs
    /// Packed progress of the in leg (unprotect): bits 0..47 the highest accepted SRTP packet
    /// index i = 2^16 * ROC + SEQ (RFC 3711 §3.3.1), bits 48..51 `pressure` bits, bit 63 valid.
    uint64_t in_index;
    uint64_t out_index;   ///< same for the out leg (protect): the last index sent
    /// bits 0..30: in leg's highest accepted SRTCP index, bit 31 valid;
    /// bits 32..62: out leg's last SRTCP index sent, bit 63 valid (RFC 3711 §3.4: 31-bit index).
    uint64_t srtcp_index;
    uint64_t packets;     ///< packets of this flow that the pmd forwarded
    uint64_t octets;      ///< their payload octets
    uint64_t auth_fail;   ///< in-leg packets whose tag did not verify
    uint64_t replay_drop; ///< in-leg packets refused by the replay window (duplicate or too old)
};
static_assert(sizeof(live_state) == 64 && alignof(live_state) == 64);
static_assert(std::is_trivially_copyable_v<live_state>);

struct status_layout {
    uint64_t entries_offset;
    uint64_t total_size;
};
constexpr status_layout status_layout_of(uint32_t n_slots) noexcept {
    return {region_page, align_up(region_page + uint64_t{n_slots} * sizeof(live_state), region_page)};
}

// ---- packing of the combined words ----

inline constexpr uint64_t index_mask = (uint64_t{1} << 48) - 1;
inline constexpr uint64_t index_valid = uint64_t{1} << 63;

/// One leg's SRTP progress, unpacked.
struct leg_progress {
    bool valid = false;       ///< false until the leg's first packet
    uint32_t roc = 0;
    uint16_t seq = 0;         ///< s_l (in) or the last SEQ sent (out)
    uint8_t pressure = 0;     ///< `pressure` bits
    uint64_t packet_index() const noexcept { return (uint64_t{roc} << 16) | seq; }
};

constexpr uint64_t pack_index(uint32_t roc, uint16_t seq, uint8_t pressure_bits) noexcept {
    return index_valid | (uint64_t{pressure_bits & 0xfu} << 48) | (((uint64_t{roc} << 16) | seq) & index_mask);
}
constexpr leg_progress unpack_index(uint64_t w) noexcept {
    leg_progress p;
    p.valid = (w & index_valid) != 0;
    p.roc = static_cast<uint32_t>((w & index_mask) >> 16);
    p.seq = static_cast<uint16_t>(w & 0xffff);
    p.pressure = static_cast<uint8_t>((w >> 48) & 0xf);
    return p;
}

struct srtcp_progress {
    bool in_valid = false;
    uint32_t in_index = 0;
    bool out_valid = false;
    uint32_t out_index = 0;
};
constexpr uint64_t pack_srtcp(const srtcp_progress& s) noexcept {
    uint64_t lo = s.in_valid ? (0x80000000u | (s.in_index & 0x7fffffffu)) : 0;
    uint64_t hi = s.out_valid ? (0x80000000u | (s.out_index & 0x7fffffffu)) : 0;
    return lo | (hi << 32);
}
constexpr srtcp_progress unpack_srtcp(uint64_t w) noexcept {
    srtcp_progress s;
    s.in_valid = (w & 0x80000000u) != 0;
    s.in_index = static_cast<uint32_t>(w & 0x7fffffffu);
    s.out_valid = ((w >> 32) & 0x80000000u) != 0;
    s.out_index = static_cast<uint32_t>((w >> 32) & 0x7fffffffu);
    return s;
}

/// A reader's copy of one entry, unpacked. Each field is exact; fields in different words may be
/// from slightly different moments (a counter may be one burst ahead of another).
struct live_snapshot {
    uint64_t generation = 0; ///< 0: the entry was being reset during the copy (or never used)
    leg_progress in, out;
    srtcp_progress srtcp;
    uint64_t packets = 0, octets = 0, auth_fail = 0, replay_drop = 0;
};

/// Reads an entry. Thread-safe: any thread or process, on a read-only mapping too. `generation`
/// is read before and after the other words; if reset() ran in between, the snapshot says 0.
inline live_snapshot load(const live_state& e) noexcept {
    constexpr auto acq = std::memory_order_acquire;
    live_snapshot s;
    const uint64_t g = load_word(e.generation, acq);
    s.in = unpack_index(load_word(e.in_index, acq));
    s.out = unpack_index(load_word(e.out_index, acq));
    s.srtcp = unpack_srtcp(load_word(e.srtcp_index, acq));
    s.packets = load_word(e.packets, acq);
    s.octets = load_word(e.octets, acq);
    s.auth_fail = load_word(e.auth_fail, acq);
    s.replay_drop = load_word(e.replay_drop, acq);
    s.generation = load_word(e.generation, std::memory_order_relaxed) == g ? g : 0;
    return s;
}

// ---- owner-lcore writers (the only writer of the entry; noexcept, no RMW instructions) ----

/// Sets one word. Owner lcore only.
inline void store(uint64_t& word, uint64_t v) noexcept { store_word(word, v, std::memory_order_relaxed); }

/// Adds to a counter. Owner lcore only: a load and a store, not a locked fetch_add, because there
/// is a single writer (ARCHITECTURE.md principle 5) and readers only need whole words.
inline void add(uint64_t& counter, uint64_t n) noexcept {
    store_word(counter, load_word(counter, std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// Starts describing a new generation of the slot. Owner lcore (or the sync thread before any
/// lcore owns the flow). Same ordering as the seqlock (seqlock.hpp), with generation 0 as "being
/// written": a reader that sees the new generation before and after its copy sees the zeroes.
inline void reset(live_state& e, uint64_t generation) noexcept {
    store_word(e.generation, 0, std::memory_order_relaxed);
    for (uint64_t* w : {&e.in_index, &e.out_index, &e.srtcp_index, &e.packets, &e.octets, &e.auth_fail, &e.replay_drop})
        store_word(*w, 0, std::memory_order_release);
    store_word(e.generation, generation, std::memory_order_release);
}

} // namespace srtpo::table
