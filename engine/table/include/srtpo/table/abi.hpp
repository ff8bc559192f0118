#pragma once
// The sessions region's header and layout: the part of the shared-memory ABI that a reader checks,
// field by field, before it trusts a single slot (docs/shm-abi.md, ARCHITECTURE.md "Shared-memory
// session table"). Like rtpengine's msg_size[] check, a mismatch is refused, never "adapted to".
//
// Region layout (offsets from the start of the shm file; every offset is recorded in the header
// and must equal what layout_of() computes from the counts):
//   0                  table_header (192 bytes), rest of the first page reserved (zero)
//   slots_offset       session_slot[n_slots]            (page-aligned, 448 bytes each)
//   doorbell_offset    uint32_t ring[doorbell_size]     (64-aligned)
//   hdrext_offset      hdrext_slot[n_slots]             (64-aligned; only with RFC 6904 support)
//   total_size         rounded up to a page

#include <srtpo/table/slot.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace srtpo::table {

/// An 8-character ASCII tag read as a little-endian word, so `xxd` of the file shows the name.
constexpr uint64_t make_magic(const char (&s)[9]) noexcept {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[i]);
    return v;
}

inline constexpr uint64_t sessions_magic = make_magic("SRTPOSES");
inline constexpr uint64_t status_magic = make_magic("SRTPOSTA");
/// Bumped on any change of a layout, a field's meaning or the slot protocol. Readers accept only
/// their own version: both processes ship from one tree, so there is no cross-version promise.
inline constexpr uint32_t abi_version = 1;

inline constexpr uint32_t default_capacity = 65536;
inline constexpr uint32_t max_capacity = uint32_t{1} << 24; ///< 16 Mi slots = 7 GiB of sessions
inline constexpr uint32_t default_doorbell_size = 16384;     ///< ~80 ms of installs at 200 k/s
inline constexpr uint32_t min_doorbell_size = 16;
inline constexpr uint32_t max_doorbell_size = uint32_t{1} << 22;
/// Granule of the region layout (the first page holds only the header). A layout constant, not a
/// query of the MMU: the file must look the same whatever the page size of the host.
inline constexpr std::size_t region_page = 4096;
inline constexpr std::size_t cache_line = 64;

/// Header of the `sessions` region, written by srtpo-cp (the only writer).
/// Line 0 and line 1 are written once, before `magic`, and never change: a reader loads `magic`
/// with acquire (mapping.cpp) and may then read them as plain fields.
/// Line 2 is written by the writer at run time and is accessed only through std::atomic_ref.
struct alignas(cache_line) table_header {
    // --- line 0: identity and geometry (constant) ---
    uint64_t magic;              ///< sessions_magic; stored last at creation (release)
    uint32_t abi_version;        ///< table::abi_version
    uint32_t header_size;        ///< sizeof(table_header)
    uint32_t slot_size;          ///< sizeof(session_slot)
    uint32_t n_slots;            ///< capacity, 1..max_capacity
    uint32_t doorbell_size;      ///< ring entries, a power of two
    uint32_t hdrext_size;        ///< sizeof(hdrext_slot), or 0 when the table has no RFC 6904 keys
    uint64_t slots_offset;
    uint64_t doorbell_offset;
    uint64_t hdrext_offset;      ///< 0 when hdrext_size is 0
    uint64_t total_size;         ///< size of the shm file
    // --- line 1: instance (constant) ---
    uint64_t instance_id;        ///< random per creation: a reader can tell a recreated table apart
    uint64_t created_unix_ns;    ///< CLOCK_REALTIME at creation, for operators
    uint64_t reserved1[6];
    // --- line 2: run-time words of the writer (std::atomic_ref only) ---
    uint64_t doorbell_producer;  ///< ids pushed so far; ring index = producer & (doorbell_size - 1)
    /// The resync flag, as an epoch: the writer increments it whenever a doorbell push could not be
    /// made (ring full, or no consumer known). A reader cannot clear a flag in a region it maps
    /// read-only, so it acknowledges the epoch in its own region (status_header::resync_ack) after
    /// a full rescan that compares every slot's generation.
    uint64_t resync;
    uint64_t next_generation;    ///< last generation handed out; survives a writer restart
    uint64_t writer_pid;         ///< pid of the process that created or reopened the table
    uint64_t reserved2[4];
};
static_assert(sizeof(table_header) == 192);
static_assert(std::is_trivially_copyable_v<table_header> && std::is_standard_layout_v<table_header>);

/// Where everything lives for a given geometry. The only source of truth for offsets.
struct sessions_layout {
    uint64_t slots_offset;
    uint64_t doorbell_offset;
    uint64_t hdrext_offset; ///< 0 when there are no header-extension records
    uint64_t total_size;
};

constexpr uint64_t align_up(uint64_t v, uint64_t a) noexcept { return (v + a - 1) / a * a; }

/// Layout of a sessions region. Thread-safe (pure). Callers pass validated counts.
constexpr sessions_layout layout_of(uint32_t n_slots, uint32_t doorbell_size, bool hdrext) noexcept {
    sessions_layout l{};
    l.slots_offset = region_page;
    l.doorbell_offset = align_up(l.slots_offset + uint64_t{n_slots} * sizeof(session_slot), cache_line);
    uint64_t end = l.doorbell_offset + uint64_t{doorbell_size} * sizeof(uint32_t);
    if (hdrext) {
        l.hdrext_offset = align_up(end, cache_line);
        end = l.hdrext_offset + uint64_t{n_slots} * sizeof(hdrext_slot);
    }
    l.total_size = align_up(end, region_page);
    return l;
}

static_assert(layout_of(1, 16, false).doorbell_offset == 4096 + 448);
static_assert(layout_of(default_capacity, default_doorbell_size, false).total_size ==
              4096 + uint64_t{65536} * 448 + 16384 * 4);

} // namespace srtpo::table
