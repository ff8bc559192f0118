#pragma once
// One flow of the session table: what srtpo-cp publishes and the pmd's sync thread copies out.
//
// The shared memory holds only 8-byte words (`session_slot::words`), touched only through the
// seqlock helpers (seqlock.hpp), so there is no typed object in shared memory to alias and no
// plain access to race on. `slot_data` is the typed image of those words, living in the caller's
// own memory: install() copies it in word by word, read() copies it out (the "copy, then check the
// sequence" of a seqlock).
//
// Budget: ≤ 512 bytes per flow across both regions (issue 5). A slot is 448 bytes (7 cache lines)
// and a status entry 64, so 512. The bulk is keys: two legs × (SRTP + SRTCP) × (k_e 32 + k_a 20 +
// k_s 14) = 264 bytes. The RFC 6904 header-extension keys k_he/k_hs (2 × 46 bytes) and the
// encrypted-ID bitmaps are *not* in the slot: few sessions use RFC 6904, so they live in an
// optional companion array (`hdrext_slot`, 160 bytes per flow) that exists only in tables created
// with header-extension support, and is guarded by the same per-slot sequence word.
//
// Byte order: addresses are in network order (as on the wire); ports and every other integer are
// in host order (both processes run on one host). IPv4 addresses are IPv4-mapped IPv6
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so every address is 16 octets and no family byte is needed.
// The all-zero address "::" means "unspecified".

#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace srtpo::table {

/// Life cycle of a slot. A zeroized slot is `empty`.
enum class slot_state : uint8_t {
    empty = 0,    ///< no flow; every byte but `generation` is zero
    active = 1,   ///< the pmd processes this flow
    retiring = 2, ///< being torn down: the pmd drains it (no new streams) until erase()
};

/// What the pmd does with a packet that matches the flow key.
enum class leg_action : uint8_t {
    none = 0,       ///< invalid in an installed slot (a zero byte must never mean something)
    protect = 1,    ///< plain in, SRTP out (out leg keyed)
    unprotect = 2,  ///< SRTP in (in leg keyed), plain out
    transcrypt = 3, ///< SRTP in with one key set, SRTP out with another (both legs keyed)
    auth_only = 4,  ///< verify the in leg's tag and replay state, forward the packet as received
    tap = 5,        ///< forward unchanged, no crypto (neither leg keyed)
};

/// Which packets of the 5-tuple the flow key matches (RFC 5761 §4 tells RTP from RTCP on a muxed port).
enum class flow_proto : uint8_t { none = 0, rtp = 1, rtcp = 2, mux = 3 };

/// 16 octets in network order; IPv4 as IPv4-mapped IPv6.
struct ip_address {
    std::array<uint8_t, 16> octets{};

    static constexpr ip_address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
        return ip_address{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}};
    }
    static constexpr ip_address v6(const std::array<uint8_t, 16>& o) noexcept { return ip_address{o}; }
    constexpr bool is_v4() const noexcept {
        for (int i = 0; i < 10; ++i)
            if (octets[i] != 0) return false;
        return octets[10] == 0xff && octets[11] == 0xff;
    }
    constexpr bool is_unspecified() const noexcept {
        for (auto o : octets)
            if (o != 0) return false;
        return true;
    }
    friend constexpr bool operator==(const ip_address&, const ip_address&) = default;
};
static_assert(sizeof(ip_address) == 16);

/// Address and port of one end of a leg. Port 0 with "::" means "not set".
struct endpoint {
    ip_address addr;
    uint16_t port = 0;
    friend constexpr bool operator==(const endpoint&, const endpoint&) = default;
};
static_assert(sizeof(endpoint) == 18);

/// What the pmd looks a received packet up by (its rte_hash key as is: no implicit padding, and
/// `reserved` must be zero so that equal flows have equal bytes).
struct flow_key {
    ip_address local;          ///< destination address of received packets
    uint16_t port = 0;         ///< destination UDP port, host order
    flow_proto proto = flow_proto::none;
    uint8_t reserved = 0;
    friend constexpr bool operator==(const flow_key&, const flow_key&) = default;
};
static_assert(sizeof(flow_key) == 20 && std::has_unique_object_representations_v<flow_key>);

/// Derived session keys of SRTP or of SRTCP (RFC 3711 §4.3). Only the suite's lengths are used
/// (k_e: master key length, k_a: 20 or 0 for AEAD, k_s: 14, or 12 for AEAD); the rest is zero.
struct key_material {
    std::array<std::byte, 32> k_e{};
    std::array<std::byte, 20> k_a{};
    std::array<std::byte, 14> k_s{};
};
static_assert(sizeof(key_material) == 66);

inline constexpr std::size_t max_slot_mki_len = 16; ///< longer MKIs are refused by install()

/// Per-leg option bits (leg_crypto::flags).
namespace leg_flag {
inline constexpr uint8_t unencrypted_srtp = 0x01;     ///< RFC 4568 §6.3.3
inline constexpr uint8_t unencrypted_srtcp = 0x02;    ///< RFC 4568 §6.3.3
inline constexpr uint8_t unauthenticated_srtp = 0x04; ///< RFC 4568 §6.3.4 (not with AEAD)
inline constexpr uint8_t cryptex = 0x08;              ///< RFC 9335 (uses the normal session keys)
inline constexpr uint8_t header_ext = 0x10;           ///< RFC 6904: keys and IDs in the hdrext record
inline constexpr uint8_t all = 0x1f;
} // namespace leg_flag

/// Crypto of one leg: `in` is what arrives at the flow key (unprotected by the pmd), `out` what
/// the pmd sends (protected by it). suite 0 = this leg carries plain RTP, and then every other
/// field of the leg is zero.
struct leg_crypto {
    uint16_t suite = 0;               ///< engine::suite value (IANA), 0 = none
    uint16_t replay_window = 0;       ///< in leg: packets, 64..32768 (RFC 3711 §3.3.2); out: 0
    uint32_t initial_roc = 0;         ///< ROC for streams not yet seen (SDES/MIKEY signalled)
    uint64_t lifetime = 0;            ///< packets per key (RFC 4568 §6.1), 0 = RFC 3711 §9.2 max
    uint32_t initial_srtcp_index = 0; ///< out leg: first SRTCP index sent (RFC 3711 §3.4)
    uint8_t mki_len = 0;              ///< 0..max_slot_mki_len
    uint8_t flags = 0;                ///< leg_flag bits
    std::array<uint8_t, max_slot_mki_len> mki{};
    key_material srtp;                ///< labels 0x00..0x02
    key_material srtcp;               ///< labels 0x03..0x05
    std::array<uint8_t, 6> reserved{};
};
static_assert(sizeof(leg_crypto) == 176);

/// The typed image of a slot's payload. Plain data, trivially copyable, no padding: the bytes are
/// the ABI (offsets pinned by tests/table/abi_test.cpp and listed in docs/shm-abi.md; add 8 for
/// the offset inside session_slot).
struct slot_data {
    uint64_t generation = 0;          ///< assigned by install()/erase(); never reused in a table
    flow_key key;
    slot_state state = slot_state::empty;
    leg_action action = leg_action::none;
    uint8_t reserved0 = 0;
    uint8_t reserved1 = 0;
    /// After the in leg's keys change (rekey under a new MKI), the pmd keeps accepting the previous
    /// key for this long, or until a packet under the new key authenticates (make-before-break).
    uint16_t rekey_grace_ms = 0;
    endpoint in_peer;                 ///< expected source of received packets; unset = any
    endpoint out_local;               ///< source address/port of sent packets; unset = flow key's
    endpoint out_peer;                ///< destination of sent packets
    leg_crypto in;
    leg_crypto out;
};
static_assert(sizeof(slot_data) == 440 && alignof(slot_data) == 8);
static_assert(std::is_trivially_copyable_v<slot_data> && std::is_standard_layout_v<slot_data>);
static_assert(std::has_unique_object_representations_v<slot_data>, "slot_data must have no padding");

inline constexpr std::size_t slot_payload_words = sizeof(slot_data) / sizeof(uint64_t);

/// A slot as it sits in shared memory: the sequence word and the payload words. `alignas(64)` so
/// that a slot never shares a cache line with its neighbour (no false sharing between the
/// writer's stores to one slot and a reader's copy of the next).
struct alignas(64) session_slot {
    uint64_t seq;                           ///< seqlock word: odd while being written
    uint64_t words[slot_payload_words];     ///< slot_data image, word by word
};
static_assert(sizeof(session_slot) == 448);
static_assert(std::is_trivially_copyable_v<session_slot>);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint64_t>::required_alignment <= alignof(uint64_t));

/// RFC 6904 material of one leg: header-extension keys and which extension IDs are encrypted.
struct hdrext_leg {
    std::array<std::byte, 32> k_he{};        ///< label 0x06, master key length used
    std::array<std::byte, 14> k_hs{};        ///< label 0x07, master salt length used
    std::array<uint8_t, 2> reserved{};
    /// Bit i (byte i / 8, bit i % 8) set: extension element ID i is encrypted. One-byte form IDs
    /// are 1..14, two-byte form 1..255 (RFC 8285 §4).
    std::array<uint8_t, 32> encrypted_ids{};

    constexpr void set_encrypted(uint8_t id) noexcept { encrypted_ids[id / 8] |= static_cast<uint8_t>(1u << (id % 8)); }
    constexpr bool encrypted(uint8_t id) const noexcept { return (encrypted_ids[id / 8] >> (id % 8)) & 1u; }
};
static_assert(sizeof(hdrext_leg) == 80);

struct hdrext_record {
    hdrext_leg in;
    hdrext_leg out;
};
static_assert(sizeof(hdrext_record) == 160 && std::is_trivially_copyable_v<hdrext_record>);
static_assert(std::has_unique_object_representations_v<hdrext_record>);

inline constexpr std::size_t hdrext_payload_words = sizeof(hdrext_record) / sizeof(uint64_t);

/// The companion record in shared memory, guarded by its slot's `seq`.
struct alignas(32) hdrext_slot {
    uint64_t words[hdrext_payload_words];
};
static_assert(sizeof(hdrext_slot) == 160);

// ---- helpers (control path; thread-safe: they touch only their arguments) ----

constexpr std::string_view to_string(slot_state s) noexcept {
    switch (s) {
    case slot_state::empty: return "empty";
    case slot_state::active: return "active";
    case slot_state::retiring: return "retiring";
    }
    return "invalid";
}
constexpr std::string_view to_string(leg_action a) noexcept {
    switch (a) {
    case leg_action::none: return "none";
    case leg_action::protect: return "protect";
    case leg_action::unprotect: return "unprotect";
    case leg_action::transcrypt: return "transcrypt";
    case leg_action::auth_only: return "auth_only";
    case leg_action::tap: return "tap";
    }
    return "invalid";
}
constexpr std::string_view to_string(flow_proto p) noexcept {
    switch (p) {
    case flow_proto::none: return "none";
    case flow_proto::rtp: return "rtp";
    case flow_proto::rtcp: return "rtcp";
    case flow_proto::mux: return "mux";
    }
    return "invalid";
}
/// Whether an action runs the in leg's keys (unprotect or verify) and the out leg's (protect).
constexpr bool in_leg_keyed(leg_action a) noexcept {
    return a == leg_action::unprotect || a == leg_action::transcrypt || a == leg_action::auth_only;
}
constexpr bool out_leg_keyed(leg_action a) noexcept {
    return a == leg_action::protect || a == leg_action::transcrypt;
}


/// Checks a slot image before install() publishes it, and after the pmd copies it out.
/// Refuses: state empty, unknown action/proto/suite, a leg keyed or not keyed against the action,
/// replay window or lifetime out of range, mki_len > 16, unknown flag bits, AEAD with
/// unauthenticated SRTP, header_ext on a table without header-extension records, non-zero
/// reserved bytes, and key bytes beyond the suite's lengths (a sign of a packing bug).
/// The message names the field and never contains key bytes.
engine::result<void> validate(const slot_data& d, bool table_has_hdrext);

/// Copies the k_e, k_a and k_s a suite uses from `in` into `out`; the other bytes become zero.
void store_keys(const engine::suite_traits& t, const engine::session_keys& in, key_material& out) noexcept;
/// Copies k_e, k_a, k_s into `out` (what session_config's pre-derived `srtp_keys` take). k_he/k_hs
/// are left as they are: they come from the hdrext record (load_header_keys).
void load_keys(const key_material& in, engine::session_keys& out) noexcept;
/// Copies the RFC 6904 k_he/k_hs of a suite into a hdrext leg (other bytes zero).
void store_header_keys(const engine::suite_traits& t, const engine::session_keys& in, hdrext_leg& out) noexcept;
void load_header_keys(const hdrext_leg& in, engine::session_keys& out) noexcept;

/// Zeroizes a caller-owned copy (slot_data is trivially copyable, so it cannot wipe itself).
void wipe(slot_data& d) noexcept;
void wipe(hdrext_record& r) noexcept;

} // namespace srtpo::table
