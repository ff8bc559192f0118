#pragma once
// Doorbell: a single-producer single-consumer ring of changed slot ids, so that the pmd's sync
// thread applies a change within one poll instead of rescanning a million slots.
//
// Who writes what (one writer per word, as everywhere in the table):
//   sessions region (srtpo-cp writes):  table_header::doorbell_producer, table_header::resync,
//                                        the ring entries
//   status region (pmd writes):          status_header::doorbell_consumer, status_header::resync_ack
// Each side maps the other's region PROT_READ, so neither can corrupt the other's index.
//
// Overflow is not an error (model-codebases.md §7.6): when the ring is full, or when no consumer
// is known yet, the producer drops the id and increments the `resync` epoch. The consumer sees
// `resync != resync_ack`, rescans every slot comparing generations, and acknowledges the epoch
// it read *before* the rescan, so an overflow during the rescan triggers another one.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::table {

inline uint32_t load_entry(const uint32_t& e, std::memory_order o) noexcept {
    return std::atomic_ref<uint32_t>(const_cast<uint32_t&>(e)).load(o);
}

/// Producer end (srtpo-cp's single writer thread). Plain pointers into the mappings; copyable.
/// Thread-safety: one thread at a time. Ownership: borrows the mappings, which must outlive it.
struct doorbell_producer {
    uint64_t* producer = nullptr;        ///< table_header::doorbell_producer
    uint64_t* resync = nullptr;          ///< table_header::resync
    uint32_t* ring = nullptr;
    uint32_t mask = 0;                   ///< doorbell_size - 1
    const uint64_t* consumer = nullptr;  ///< status_header::doorbell_consumer, or null: unknown

    /// Rings the bell for `slot_id`, after the slot's write section has ended. Returns false when
    /// the id could not be queued (ring full or no consumer): the resync epoch was bumped instead.
    bool push(uint32_t slot_id) noexcept {
        std::atomic_ref<uint64_t> p_ref(*producer);
        const uint64_t p = p_ref.load(std::memory_order_relaxed);
        // acquire: the consumer's reads of the entries it has passed happen before we reuse them.
        // A consumer index ahead of ours (a status region left from another table instance) makes
        // p - c wrap to a huge value, which is treated as full: safe.
        if (consumer == nullptr ||
            p - std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*consumer)).load(std::memory_order_acquire) > mask) {
            bump_resync();
            return false;
        }
        std::atomic_ref<uint32_t>(ring[p & mask]).store(slot_id, std::memory_order_relaxed);
        p_ref.store(p + 1, std::memory_order_release); // publishes the entry
        return true;
    }

    /// Asks the consumer for a full rescan (also used after repairing slots on reopen).
    void bump_resync() noexcept {
        std::atomic_ref<uint64_t> r(*resync);
        // release: the slot writes that preceded the lost push are visible to whoever sees the epoch.
        r.store(r.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    /// Ids queued and not yet consumed (0 when no consumer is known).
    uint64_t pending() const noexcept {
        if (consumer == nullptr) return 0;
        const uint64_t p = std::atomic_ref<uint64_t>(*producer).load(std::memory_order_relaxed);
        const uint64_t c = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*consumer)).load(std::memory_order_acquire);
        return p - c > mask + uint64_t{1} ? 0 : p - c;
    }
};

/// Consumer end (the pmd's sync thread). Thread-safety: one thread at a time. Ownership: borrows
/// both mappings, which must outlive it.
struct doorbell_consumer {
    const uint64_t* producer = nullptr;  ///< table_header::doorbell_producer (read-only mapping)
    const uint64_t* resync = nullptr;    ///< table_header::resync
    const uint32_t* ring = nullptr;
    uint32_t mask = 0;
    uint32_t n_slots = 0;                ///< ids >= n_slots are dropped (never trusted as an index)
    uint64_t* consumer = nullptr;        ///< status_header::doorbell_consumer
    uint64_t* resync_ack = nullptr;      ///< status_header::resync_ack

    /// Epoch the producer asked for, if it differs from the last acknowledged one.
    bool resync_needed(uint64_t& epoch) const noexcept {
        epoch = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*resync)).load(std::memory_order_acquire);
        return epoch != std::atomic_ref<uint64_t>(*resync_ack).load(std::memory_order_relaxed);
    }

    /// Takes up to out.size() changed slot ids, oldest first. The same id may appear twice (two
    /// changes); the caller reads the slot once and acts on its current generation. Returns the
    /// count, or 0. If the indices are inconsistent (more queued than the ring holds) it returns 0
    /// and sets `overrun`: the caller must resync.
    std::size_t poll(std::span<uint32_t> out, bool& overrun) noexcept {
        overrun = false;
        std::atomic_ref<uint64_t> c_ref(*consumer);
        uint64_t c = c_ref.load(std::memory_order_relaxed);
        const uint64_t p = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*producer)).load(std::memory_order_acquire);
        if (p - c > mask + uint64_t{1}) {
            overrun = true;
            return 0;
        }
        std::size_t n = 0;
        while (c != p && n < out.size()) {
            const uint32_t id = load_entry(ring[c & mask], std::memory_order_relaxed);
            ++c;
            if (id < n_slots) out[n++] = id;
        }
        c_ref.store(c, std::memory_order_release); // hands the entries back to the producer
        return n;
    }

    /// First half of a resync: reads the epoch and drops every queued id (the rescan covers them).
    /// Returns the epoch to pass to end_resync() once every slot has been compared.
    uint64_t begin_resync() noexcept {
        const uint64_t epoch = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*resync)).load(std::memory_order_acquire);
        const uint64_t p = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(*producer)).load(std::memory_order_acquire);
        std::atomic_ref<uint64_t>(*consumer).store(p, std::memory_order_release);
        return epoch;
    }
    void end_resync(uint64_t epoch) noexcept {
        std::atomic_ref<uint64_t>(*resync_ack).store(epoch, std::memory_order_release);
    }
};

} // namespace srtpo::table
