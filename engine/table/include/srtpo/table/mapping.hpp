#pragma once
// RAII mappings of the two shared-memory regions (POSIX shm_open + mmap), with their roles:
//
//   region     writer (read_write, 0600, exclusive flock)     readers (PROT_READ, validated)
//   sessions   srtpo-cp: create() / reopen() / open_or_create()  the pmd's sync thread: attach()
//   status     srtpo-pmd: create() / reopen() / open_or_create() srtpo-cp, keying-ctl: attach()
//
// A reader opens the file O_RDONLY and maps it PROT_READ, so it cannot write the region even by
// mistake (a store faults; mprotect(PROT_WRITE) fails with EACCES because the descriptor is
// read-only). attach() checks every header field and says precisely which one is wrong.
// A writer holds an exclusive flock on the file for the mapping's lifetime: a second writer is
// refused, and a writer that dies (even kill -9) releases it, so a restarted one can reopen().
// Mappings never unlink: the tables outlive both processes, which is what lets either restart
// without losing a flow. unlink() removes a name explicitly.
//
// Thread-safety: construction and destruction are the caller's business (one thread). Reader
// operations (read, peek_generation, load, the const accessors) may run on any number of threads
// and processes concurrently with the one writer thread. Writer operations (install, retire,
// erase, connect_consumer, heartbeat, live) must come from one thread at a time.

#include <srtpo/engine/result.hpp>
#include <srtpo/table/abi.hpp>
#include <srtpo/table/doorbell.hpp>
#include <srtpo/table/slot.hpp>
#include <srtpo/table/status_region.hpp>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srtpo::table {

using engine::errc;
using engine::result;

enum class access : uint8_t { read_only, read_write };

/// "/name" from "name" or "/name". Errors (invalid_argument): empty, a '/' after the first
/// character, longer than NAME_MAX, "." or "..".
result<std::string> normalize_shm_name(std::string_view name);

/// shm_unlink. Errors: io_error (ENOENT included, with the name and strerror).
result<void> unlink_shm(std::string_view name);

/// One mmap of one named shm file, unmapped (and its flock released) on destruction. Move-only.
class shm_file {
public:
    shm_file() = default;
    shm_file(shm_file&& o) noexcept;
    shm_file& operator=(shm_file&& o) noexcept;
    shm_file(const shm_file&) = delete;
    shm_file& operator=(const shm_file&) = delete;
    ~shm_file();

    /// Creates a new file (O_EXCL) of `size` bytes with permissions exactly `mode` (fchmod, so the
    /// umask cannot widen or narrow them), takes the writer lock, maps it read-write. The content
    /// is zero. Errors: io_error naming the call that failed (EEXIST: "already exists").
    static result<shm_file> create(std::string_view name, std::size_t size, mode_t mode);
    /// Opens an existing file and maps all of it. read_write also takes the writer lock (refused if
    /// another live process holds it). Errors: io_error.
    static result<shm_file> open(std::string_view name, access a);

    std::byte* data() const noexcept { return _base; }
    std::size_t size() const noexcept { return _size; }
    access mode() const noexcept { return _access; }
    const std::string& name() const noexcept { return _name; }
    /// st_mode & 07777 and st_uid of the file when it was opened.
    mode_t file_mode() const noexcept { return _file_mode; }
    uid_t owner() const noexcept { return _owner; }

private:
    std::byte* _base = nullptr;
    std::size_t _size = 0;
    int _fd = -1; ///< kept open by writers only (it holds the flock)
    access _access = access::read_only;
    mode_t _file_mode = 0;
    uid_t _owner = 0;
    std::string _name;
};

/// What a reader expects beyond a well-formed header.
struct attach_expect {
    attach_expect() = default;
    attach_expect(uint32_t cap, std::optional<uid_t> own = std::nullopt) : capacity(cap), owner(own) {}

    uint32_t capacity = 0;  ///< 0 = any valid capacity
    /// Refuse a file owned by another user. /dev/shm is world-writable (sticky), so anyone can
    /// create a name first; a pmd that knows which user runs srtpo-cp should say so here.
    std::optional<uid_t> owner;
};

// ------------------------------------------------------------------------------------------

struct sessions_options {
    uint32_t capacity = default_capacity;         ///< 1..max_capacity
    uint32_t doorbell_size = default_doorbell_size; ///< power of two, 16..max_doorbell_size
    bool header_ext_keys = false;                 ///< allocate RFC 6904 records (+160 B per flow)
    mode_t mode = 0600;                           ///< keys inside: no bits beyond 0640 accepted
    /// create() only: allocate every page of the new file up front (MADV_POPULATE_WRITE, or a
    /// touch loop on kernels before 5.14), so that installs never take a first-touch page fault.
    /// Costs start-up time and makes the whole region resident at once.
    bool prefault = false;
};

enum class read_outcome : uint8_t {
    ok,           ///< `out` holds a consistent copy
    busy,         ///< a write was in progress for every attempt; try again later
    out_of_range, ///< id >= capacity
};

class status_mapping;

/// The sessions region: srtpo-cp writes it, the pmd reads it.
class sessions_mapping {
public:
    sessions_mapping() = default;

    /// Writer: creates a new table (the name must not exist). Errors: invalid_argument for an
    /// out-of-range option, io_error from the system (EEXIST names the table).
    static result<sessions_mapping> create(std::string_view name, uint32_t capacity = default_capacity);
    static result<sessions_mapping> create(std::string_view name, const sessions_options& o);
    /// Writer restart: maps an existing table read-write after the same checks as attach(), and
    /// repairs a slot a dead writer left mid-write (odd sequence) by erasing it: its content
    /// cannot be trusted. Counts repaired slots in `repaired()`.
    static result<sessions_mapping> reopen(std::string_view name, attach_expect e = {});
    /// reopen() if the name exists (refused if its capacity, doorbell size or header-extension
    /// records differ from `o`), else create().
    static result<sessions_mapping> open_or_create(std::string_view name, const sessions_options& o);
    /// Reader: maps PROT_READ and checks every header field. Errors: invalid_argument with the
    /// field, its value and the expected one ("slot_size is 512, this build expects 448").
    static result<sessions_mapping> attach(std::string_view name, attach_expect e = {});

    bool writable() const noexcept { return _file.mode() == access::read_write; }
    uint32_t capacity() const noexcept { return _hdr ? _hdr->n_slots : 0; }
    bool has_header_ext_keys() const noexcept { return _hdr && _hdr->hdrext_size != 0; }
    uint64_t instance_id() const noexcept { return _hdr ? _hdr->instance_id : 0; }
    const table_header& header() const noexcept { return *_hdr; }
    const std::string& name() const noexcept { return _file.name(); }
    const shm_file& file() const noexcept { return _file; }
    uint32_t repaired() const noexcept { return _repaired; }
    /// Raw slot (tests and tools; use read() to get a consistent copy). id < capacity().
    const session_slot& slot(uint32_t id) const noexcept { return _slots[id]; }
    /// Current `resync` epoch and producer index (for health output).
    uint64_t resync_epoch() const noexcept;
    uint64_t doorbell_produced() const noexcept;

    // ---- readers (any thread or process) ----

    /// Copies slot `id` (and its header-extension record if `hx` is non-null and the table has
    /// them) through the seqlock, trying up to `max_attempts` times. noexcept, no allocation.
    /// Ownership: `out` and `*hx` hold keys afterwards; the caller wipes them (table::wipe).
    read_outcome read(uint32_t id, slot_data& out, hdrext_record* hx = nullptr,
                      unsigned max_attempts = 1024) const noexcept;
    /// The slot's generation, one atomic load (cheap resync comparison). 0 for an id out of range.
    uint64_t peek_generation(uint32_t id) const noexcept;

    // ---- writer (one thread of the process that created or reopened the table) ----

    /// Publishes `d` in slot `id` under a fresh generation (d.generation is ignored), then rings
    /// the doorbell. The header-extension record is written too (zero when `hx` is null), so no
    /// key of a previous flow lingers. Errors: invalid_argument (read-only mapping, id out of
    /// range, or validate() refused `d`, whose message is passed on); nothing is written then.
    /// Returns the new generation.
    result<uint64_t> install(uint32_t id, const slot_data& d, const hdrext_record* hx = nullptr);
    /// Marks an installed slot `retiring` (new generation). Errors: invalid_argument, including
    /// for an empty slot.
    result<uint64_t> retire(uint32_t id);
    /// Deletes the flow: zeroizes the slot and its record (every word but `generation`, which is
    /// fresh) and rings the doorbell. Erasing an empty slot is allowed (it re-zeroizes).
    result<uint64_t> erase(uint32_t id);
    /// Lets the doorbell see how far the pmd has consumed (its status region, mapped read-only).
    /// Until this is called every push falls back to a resync. The status mapping must outlive
    /// this one's use of it, or be disconnected with disconnect_consumer().
    void connect_consumer(const status_mapping& st) noexcept;
    void disconnect_consumer() noexcept { _producer.consumer = nullptr; }
    const doorbell_producer& producer() const noexcept { return _producer; }

    /// The pmd's end of the doorbell: this (read-only) table's producer side with `st`'s consumer
    /// words. If `st` last consumed for another table instance (or never), the consumer index is
    /// moved to the current producer and the resync acknowledgement is invalidated, so the caller's
    /// first resync_needed() is true and it rescans. Errors: invalid_argument if `st` is read-only
    /// or its capacity differs.
    result<doorbell_consumer> make_consumer(status_mapping& st) const;

private:
    void write_slot(uint32_t id, const slot_data* d, const hdrext_record* hx, uint64_t generation) noexcept;
    uint64_t next_generation() noexcept;
    void bind() noexcept;

    shm_file _file;
    table_header* _hdr = nullptr;   ///< written only when writable()
    session_slot* _slots = nullptr;
    hdrext_slot* _hdrext = nullptr; ///< null when the table has no header-extension records
    doorbell_producer _producer;
    uint32_t _repaired = 0;
};

// ------------------------------------------------------------------------------------------

/// The status region: the pmd writes it, srtpo-cp and keying-ctl read it.
class status_mapping {
public:
    status_mapping() = default;

    /// Writer (pmd): a new region, all entries zero. Errors as sessions_mapping::create.
    static result<status_mapping> create(std::string_view name, uint32_t capacity = default_capacity,
                                         mode_t mode = 0600);
    /// Writer restart: keeps every entry (the ROCs to resume). Checks as attach().
    static result<status_mapping> reopen(std::string_view name, attach_expect e = {});
    static result<status_mapping> open_or_create(std::string_view name, uint32_t capacity, mode_t mode = 0600);
    /// Reader: PROT_READ, every header field checked.
    static result<status_mapping> attach(std::string_view name, attach_expect e = {});

    bool writable() const noexcept { return _file.mode() == access::read_write; }
    uint32_t capacity() const noexcept { return _hdr ? _hdr->n_slots : 0; }
    uint64_t instance_id() const noexcept { return _hdr ? _hdr->instance_id : 0; }
    const status_header& header() const noexcept { return *_hdr; }
    const std::string& name() const noexcept { return _file.name(); }
    const shm_file& file() const noexcept { return _file; }

    /// Reader: a snapshot of entry `id` (< capacity()). Any thread or process.
    live_snapshot load(uint32_t id) const noexcept { return table::load(_entries[id]); }
    const live_state& live(uint32_t id) const noexcept { return _entries[id]; }
    /// Writer: entry `id` for its owner lcore to update with table::store/add/reset.
    /// Precondition: writable() (the pages are read-only otherwise and a store faults).
    live_state& live(uint32_t id) noexcept { return _entries[id]; }
    /// Writer: records liveness (CLOCK_MONOTONIC ns). Sync thread.
    void heartbeat(uint64_t now_ns) noexcept;
    uint64_t last_heartbeat() const noexcept;
    uint64_t writer_pid() const noexcept;

private:
    friend class sessions_mapping;
    void bind() noexcept;

    shm_file _file;
    status_header* _hdr = nullptr;
    live_state* _entries = nullptr;
};

} // namespace srtpo::table
