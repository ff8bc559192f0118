// shm_open/mmap plumbing, header creation and the field-by-field checks of attach().

#include <srtpo/table/mapping.hpp>

#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace srtpo::table {
namespace {

using engine::make_error;

engine::error sys_error(const std::string& what, const std::string& name, int err) {
    return make_error(errc::io_error, what + " '" + name + "': " + std::strerror(err));
}
engine::error bad(std::string m) { return make_error(errc::invalid_argument, std::move(m)); }

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%016" PRIx64, v);
    return b;
}
std::string octal(mode_t m) {
    char b[8];
    std::snprintf(b, sizeof b, "0%03o", static_cast<unsigned>(m & 07777));
    return b;
}
std::string num(uint64_t v) { return std::to_string(v); }

uint64_t random_id() noexcept {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v) || v == 0) {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (static_cast<uint64_t>(ts.tv_nsec) << 20) ^ static_cast<uint64_t>(ts.tv_sec) ^
            (static_cast<uint64_t>(getpid()) << 40) ^ 1u;
    }
    return v;
}

uint64_t realtime_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

/// Mode checks shared by creators: keys (sessions) must never be readable by others, and no
/// region may be writable by anyone but its owner (a reader would trust what a stranger wrote).
engine::result<void> check_create_mode(mode_t mode, mode_t most, const char* what) {
    if ((mode & ~most) != 0)
        return bad(std::string("mode ") + octal(mode) + " for a " + what + " region grants more than " + octal(most));
    return {};
}

/// The checks every reader (and a restarting writer) applies before trusting a header field.
engine::result<void> check_common(const shm_file& f, attach_expect e, std::size_t header_size, uint64_t magic,
                                  uint64_t expected_magic, uint64_t other_magic, const char* what, const char* other) {
    const std::string& n = f.name();
    if (e.owner && f.owner() != *e.owner)
        return bad("'" + n + "' is owned by uid " + num(f.owner()) + ", expected uid " + num(*e.owner));
    if (f.size() < header_size)
        return bad("'" + n + "' is " + num(f.size()) + " bytes, smaller than the " + num(header_size) + "-byte " + what +
                   " header (truncated, or not a " + what + " region)");
    if (magic == 0)
        return bad("'" + n + "' has no magic yet: not initialised (its creator is still starting, or died while creating it)");
    if (magic == other_magic) return bad("'" + n + "' is a " + other + " region, not a " + what + " region");
    if (magic != expected_magic)
        return bad("'" + n + "' has magic " + hex(magic) + ", expected " + hex(expected_magic) + ": not a " + what + " region");
    if ((f.file_mode() & (S_IWGRP | S_IWOTH)) != 0)
        return bad("'" + n + "' has mode " + octal(f.file_mode()) +
                   ": writable by group or others, so its content cannot be trusted");
    return {};
}

engine::result<void> check_field(const std::string& n, const char* field, uint64_t have, uint64_t want) {
    if (have != want) return bad("'" + n + "': " + field + " is " + num(have) + ", expected " + num(want));
    return {};
}

bool is_pow2(uint64_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

} // namespace

// ---------------------------------------------------------------------------------------- names

result<std::string> normalize_shm_name(std::string_view name) {
    std::string n(name);
    if (!n.empty() && n[0] != '/') n.insert(n.begin(), '/');
    if (n.size() <= 1) return bad("shared-memory name is empty");
    if (n.find('/', 1) != std::string::npos) return bad("shared-memory name '" + n + "' contains a '/' after the first character");
    if (n == "/." || n == "/..") return bad("shared-memory name '" + n + "' is not a file name");
    if (n.size() - 1 > NAME_MAX) return bad("shared-memory name is longer than " + num(NAME_MAX) + " characters");
    return n;
}

result<void> unlink_shm(std::string_view name) {
    auto n = normalize_shm_name(name);
    if (!n) return n.err();
    if (shm_unlink(n->c_str()) != 0) return sys_error("shm_unlink", *n, errno);
    return {};
}

// ------------------------------------------------------------------------------------- shm_file

shm_file::shm_file(shm_file&& o) noexcept
    : _base(std::exchange(o._base, nullptr)), _size(std::exchange(o._size, 0)), _fd(std::exchange(o._fd, -1)),
      _access(o._access), _file_mode(o._file_mode), _name(std::move(o._name)) {}

shm_file& shm_file::operator=(shm_file&& o) noexcept {
    if (this != &o) {
        shm_file tmp(std::move(o));
        std::swap(_base, tmp._base);
        std::swap(_size, tmp._size);
        std::swap(_fd, tmp._fd);
        std::swap(_access, tmp._access);
        std::swap(_file_mode, tmp._file_mode);
        std::swap(_name, tmp._name);
    } // tmp now holds our old mapping and releases it
    return *this;
}

shm_file::~shm_file() {
    if (_base != nullptr) munmap(_base, _size);
    if (_fd >= 0) close(_fd); // releases the writer's flock
    _base = nullptr;
    _fd = -1;
}

result<shm_file> shm_file::create(std::string_view name, std::size_t size, mode_t mode) {
    auto n = normalize_shm_name(name);
    if (!n) return n.err();
    if (size == 0) return bad("cannot create an empty region '" + *n + "'");
    const int fd = shm_open(n->c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0700);
    if (fd < 0) {
        const int e = errno;
        if (e == EEXIST)
            return make_error(errc::io_error, "shared memory '" + *n + "' already exists (reopen it, or unlink it first)");
        return sys_error("shm_open(O_CREAT)", *n, e);
    }
    auto fail = [&](const char* what) -> engine::error {
        const int e = errno;
        close(fd);
        shm_unlink(n->c_str()); // never leave a half-made region behind for a reader to trip on
        return sys_error(what, *n, e);
    };
    // fchmod after creation: the umask only narrows shm_open's mode, and we want exactly `mode`.
    if (fchmod(fd, mode) != 0) return fail("fchmod");
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) return fail("flock");
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) return fail("ftruncate");
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail("mmap");
    shm_file f;
    f._base = static_cast<std::byte*>(p);
    f._size = size;
    f._fd = fd;
    f._access = access::read_write;
    f._file_mode = mode & 07777;
    f._owner = geteuid();
    f._name = std::move(*n);
    return f;
}

result<shm_file> shm_file::open(std::string_view name, access a) {
    auto n = normalize_shm_name(name);
    if (!n) return n.err();
    const bool rw = a == access::read_write;
    const int fd = shm_open(n->c_str(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
    if (fd < 0) return sys_error(rw ? "shm_open(O_RDWR)" : "shm_open(O_RDONLY)", *n, errno);
    auto fail = [&](const char* what, int e) -> engine::error {
        close(fd);
        return sys_error(what, *n, e);
    };
    if (rw && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return make_error(errc::io_error, "'" + *n + "' is already open for writing by another process");
        return sys_error("flock", *n, e);
    }
    struct stat st{};
    if (fstat(fd, &st) != 0) return fail("fstat", errno);
    shm_file f;
    f._size = static_cast<std::size_t>(st.st_size);
    f._file_mode = st.st_mode & 07777;
    f._owner = st.st_uid;
    f._access = a;
    f._name = std::move(*n);
    if (f._size != 0) {
        void* p = mmap(nullptr, f._size, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return fail("mmap", errno);
        f._base = static_cast<std::byte*>(p);
    }
    if (rw) {
        f._fd = fd; // keep the lock
    } else {
        close(fd); // a reader needs only the mapping
    }
    return f;
}

// ------------------------------------------------------------------------------- sessions table

namespace {

engine::result<void> check_sessions(const shm_file& f, attach_expect e) {
    const uint64_t magic = f.size() >= sizeof(table_header)
        ? load_word(reinterpret_cast<const table_header*>(f.data())->magic, std::memory_order_acquire)
        : 0;
    if (auto r = check_common(f, e, sizeof(table_header), magic, sessions_magic, status_magic, "sessions", "status"); !r)
        return r;
    // magic was loaded with acquire: the constant fields written before it are visible.
    const auto& h = *reinterpret_cast<const table_header*>(f.data());
    const std::string& n = f.name();
    if (h.abi_version != abi_version)
        return bad("'" + n + "' has ABI version " + num(h.abi_version) + ", this build speaks version " + num(abi_version));
    if (auto r = check_field(n, "header_size", h.header_size, sizeof(table_header)); !r) return r;
    if (auto r = check_field(n, "slot_size", h.slot_size, sizeof(session_slot)); !r) return r;
    if (h.n_slots == 0 || h.n_slots > max_capacity)
        return bad("'" + n + "': n_slots is " + num(h.n_slots) + ", outside 1.." + num(max_capacity));
    if (e.capacity != 0 && h.n_slots != e.capacity)
        return bad("'" + n + "': capacity is " + num(h.n_slots) + ", expected " + num(e.capacity));
    if (!is_pow2(h.doorbell_size) || h.doorbell_size < min_doorbell_size || h.doorbell_size > max_doorbell_size)
        return bad("'" + n + "': doorbell_size is " + num(h.doorbell_size) + ", not a power of two in " +
                   num(min_doorbell_size) + ".." + num(max_doorbell_size));
    if (h.hdrext_size != 0 && h.hdrext_size != sizeof(hdrext_slot))
        return bad("'" + n + "': hdrext_size is " + num(h.hdrext_size) + ", expected 0 or " + num(sizeof(hdrext_slot)));
    const auto l = layout_of(h.n_slots, h.doorbell_size, h.hdrext_size != 0);
    if (auto r = check_field(n, "slots_offset", h.slots_offset, l.slots_offset); !r) return r;
    if (auto r = check_field(n, "doorbell_offset", h.doorbell_offset, l.doorbell_offset); !r) return r;
    if (auto r = check_field(n, "hdrext_offset", h.hdrext_offset, l.hdrext_offset); !r) return r;
    if (auto r = check_field(n, "total_size", h.total_size, l.total_size); !r) return r;
    if (f.size() < h.total_size)
        return bad("'" + n + "' is " + num(f.size()) + " bytes but its header says " + num(h.total_size) + " (truncated)");
    if (f.size() > h.total_size)
        return bad("'" + n + "' is " + num(f.size()) + " bytes but its header says " + num(h.total_size));
    return {};
}

engine::result<void> check_status(const shm_file& f, attach_expect e) {
    const uint64_t magic = f.size() >= sizeof(status_header)
        ? load_word(reinterpret_cast<const status_header*>(f.data())->magic, std::memory_order_acquire)
        : 0;
    if (auto r = check_common(f, e, sizeof(status_header), magic, status_magic, sessions_magic, "status", "sessions"); !r)
        return r;
    const auto& h = *reinterpret_cast<const status_header*>(f.data());
    const std::string& n = f.name();
    if (h.abi_version != abi_version)
        return bad("'" + n + "' has ABI version " + num(h.abi_version) + ", this build speaks version " + num(abi_version));
    if (auto r = check_field(n, "header_size", h.header_size, sizeof(status_header)); !r) return r;
    if (auto r = check_field(n, "entry_size", h.entry_size, sizeof(live_state)); !r) return r;
    if (h.n_slots == 0 || h.n_slots > max_capacity)
        return bad("'" + n + "': n_slots is " + num(h.n_slots) + ", outside 1.." + num(max_capacity));
    if (e.capacity != 0 && h.n_slots != e.capacity)
        return bad("'" + n + "': capacity is " + num(h.n_slots) + ", expected " + num(e.capacity));
    const auto l = status_layout_of(h.n_slots);
    if (auto r = check_field(n, "entries_offset", h.entries_offset, l.entries_offset); !r) return r;
    if (auto r = check_field(n, "total_size", h.total_size, l.total_size); !r) return r;
    if (f.size() < h.total_size)
        return bad("'" + n + "' is " + num(f.size()) + " bytes but its header says " + num(h.total_size) + " (truncated)");
    if (f.size() > h.total_size)
        return bad("'" + n + "' is " + num(f.size()) + " bytes but its header says " + num(h.total_size));
    return {};
}

engine::result<void> check_capacity(uint32_t capacity) {
    if (capacity == 0 || capacity > max_capacity)
        return bad("capacity " + num(capacity) + " is outside 1.." + num(max_capacity));
    return {};
}

} // namespace

void sessions_mapping::bind() noexcept {
    auto* base = _file.data();
    auto* h = reinterpret_cast<table_header*>(base);
    _hdr = h;
    _slots = reinterpret_cast<session_slot*>(base + h->slots_offset);
    _hdrext = h->hdrext_size != 0 ? reinterpret_cast<hdrext_slot*>(base + h->hdrext_offset) : nullptr;
    _producer = doorbell_producer{};
    // The producer words are written only through a writable mapping; a reader's copy of these
    // pointers is never used to push (install() checks writable() first).
    _producer.producer = &h->doorbell_producer;
    _producer.resync = &h->resync;
    _producer.ring = reinterpret_cast<uint32_t*>(base + h->doorbell_offset);
    _producer.mask = h->doorbell_size - 1;
}

namespace {
/// Allocates every page of a fresh, not yet published mapping. MADV_POPULATE_WRITE (Linux 5.14)
/// faults them in writable in one call; older kernels refuse it (EINVAL), and then one write per
/// page does the same. The region is all zeroes and has no magic yet, so the writes change nothing
/// a reader could see.
void prefault_pages(std::byte* base, std::size_t size) noexcept {
#ifndef MADV_POPULATE_WRITE
    constexpr int MADV_POPULATE_WRITE = 23;
#endif
    if (madvise(base, size, MADV_POPULATE_WRITE) == 0) return;
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    for (std::size_t off = 0; off < size; off += page) reinterpret_cast<volatile std::byte*>(base)[off] = std::byte{0};
}
} // namespace

result<sessions_mapping> sessions_mapping::create(std::string_view name, uint32_t capacity) {
    sessions_options o;
    o.capacity = capacity;
    return create(name, o);
}

result<sessions_mapping> sessions_mapping::create(std::string_view name, const sessions_options& o) {
    if (auto r = check_capacity(o.capacity); !r) return r.err();
    if (!is_pow2(o.doorbell_size) || o.doorbell_size < min_doorbell_size || o.doorbell_size > max_doorbell_size)
        return bad("doorbell_size " + num(o.doorbell_size) + " is not a power of two in " + num(min_doorbell_size) +
                   ".." + num(max_doorbell_size));
    if (auto r = check_create_mode(o.mode, 0640, "sessions (it holds keys)"); !r) return r.err();
    const auto l = layout_of(o.capacity, o.doorbell_size, o.header_ext_keys);
    auto f = shm_file::create(name, l.total_size, o.mode);
    if (!f) return f.err();
    if (o.prefault) prefault_pages(f->data(), l.total_size);

    // ftruncate gave zeroes: fill the constant fields, then publish with the magic (release).
    auto* h = reinterpret_cast<table_header*>(f->data());
    h->abi_version = abi_version;
    h->header_size = sizeof(table_header);
    h->slot_size = sizeof(session_slot);
    h->n_slots = o.capacity;
    h->doorbell_size = o.doorbell_size;
    h->hdrext_size = o.header_ext_keys ? sizeof(hdrext_slot) : 0;
    h->slots_offset = l.slots_offset;
    h->doorbell_offset = l.doorbell_offset;
    h->hdrext_offset = l.hdrext_offset;
    h->total_size = l.total_size;
    h->instance_id = random_id();
    h->created_unix_ns = realtime_ns();
    store_word(h->writer_pid, static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
    store_word(h->magic, sessions_magic, std::memory_order_release);

    sessions_mapping m;
    m._file = std::move(*f);
    m.bind();
    return m;
}

result<sessions_mapping> sessions_mapping::reopen(std::string_view name, attach_expect e) {
    auto f = shm_file::open(name, access::read_write);
    if (!f) return f.err();
    if (auto r = check_sessions(*f, e); !r) return r.err();
    sessions_mapping m;
    m._file = std::move(*f);
    m.bind();
    store_word(m._hdr->writer_pid, static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
    // A writer killed inside a write section left that slot odd and half-written. Its content
    // cannot be trusted (keys of two flows may be mixed), so the flow is dropped: erased, and the
    // doorbell (a resync, since no consumer is connected yet) tells the pmd.
    for (uint32_t id = 0; id < m._hdr->n_slots; ++id) {
        if ((load_word(m._slots[id].seq, std::memory_order_relaxed) & 1u) != 0) {
            m.write_slot(id, nullptr, nullptr, m.next_generation());
            ++m._repaired;
        }
    }
    if (m._repaired != 0) m._producer.bump_resync();
    return m;
}

result<sessions_mapping> sessions_mapping::open_or_create(std::string_view name, const sessions_options& o) {
    auto m = reopen(name, attach_expect{o.capacity, std::nullopt});
    if (m) {
        const table_header& h = m->header();
        if (h.doorbell_size != o.doorbell_size)
            return bad("'" + m->name() + "': doorbell_size is " + num(h.doorbell_size) + ", expected " + num(o.doorbell_size));
        if ((h.hdrext_size != 0) != o.header_ext_keys)
            return bad("'" + m->name() + "' was created " + (o.header_ext_keys ? "without" : "with") +
                       " header-extension records, expected " + (o.header_ext_keys ? "with" : "without"));
        return m;
    }
    auto n = normalize_shm_name(name);
    if (!n) return n.err();
    const int fd = shm_open(n->c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) { // it exists: the reopen error is the answer
        close(fd);
        return m.err();
    }
    if (errno != ENOENT) return sys_error("shm_open", *n, errno);
    return create(name, o);
}

result<sessions_mapping> sessions_mapping::attach(std::string_view name, attach_expect e) {
    auto f = shm_file::open(name, access::read_only);
    if (!f) return f.err();
    if (auto r = check_sessions(*f, e); !r) return r.err();
    sessions_mapping m;
    m._file = std::move(*f);
    m.bind();
    return m;
}

uint64_t sessions_mapping::resync_epoch() const noexcept { return load_word(_hdr->resync, std::memory_order_acquire); }
uint64_t sessions_mapping::doorbell_produced() const noexcept {
    return load_word(_hdr->doorbell_producer, std::memory_order_acquire);
}

read_outcome sessions_mapping::read(uint32_t id, slot_data& out, hdrext_record* hx, unsigned max_attempts) const noexcept {
    if (_hdr == nullptr || id >= _hdr->n_slots) return read_outcome::out_of_range;
    const session_slot& s = _slots[id];
    std::span<const uint64_t> xs;
    if (hx != nullptr) {
        if (_hdrext != nullptr) {
            xs = _hdrext[id].words;
        } else {
            *hx = hdrext_record{}; // no records in this table: RFC 6904 is off for every flow
            hx = nullptr;
        }
    }
    for (unsigned i = 0; i < max_attempts; ++i) {
        if (seqlock_try_copy(s.seq, s.words, &out, xs, hx)) return read_outcome::ok;
        cpu_relax();
    }
    return read_outcome::busy;
}

uint64_t sessions_mapping::peek_generation(uint32_t id) const noexcept {
    if (_hdr == nullptr || id >= _hdr->n_slots) return 0;
    return load_word(_slots[id].words[0], std::memory_order_acquire);
}

uint64_t sessions_mapping::next_generation() noexcept {
    uint64_t& w = _hdr->next_generation;
    const uint64_t g = load_word(w, std::memory_order_relaxed) + 1;
    store_word(w, g, std::memory_order_relaxed);
    return g;
}

void sessions_mapping::write_slot(uint32_t id, const slot_data* d, const hdrext_record* hx, uint64_t generation) noexcept {
    session_slot& s = _slots[id];
    const uint64_t odd = seqlock_write_begin(s.seq);
    store_word(s.words[0], generation, std::memory_order_release);
    static_assert(offsetof(slot_data, generation) == 0);
    std::span<uint64_t> rest(s.words + 1, slot_payload_words - 1);
    if (d != nullptr) {
        seqlock_store_words(rest, reinterpret_cast<const std::byte*>(d) + sizeof(uint64_t));
    } else {
        seqlock_zero_words(rest);
    }
    if (_hdrext != nullptr) {
        if (hx != nullptr) {
            seqlock_store_words(_hdrext[id].words, hx);
        } else {
            seqlock_zero_words(_hdrext[id].words);
        }
    }
    seqlock_write_end(s.seq, odd);
}

result<uint64_t> sessions_mapping::install(uint32_t id, const slot_data& d, const hdrext_record* hx) {
    if (!writable()) return bad("sessions table '" + name() + "' is mapped read-only");
    if (id >= capacity()) return bad("slot id " + num(id) + " is out of range (capacity " + num(capacity()) + ")");
    if (auto r = validate(d, has_header_ext_keys()); !r) return r.err();
    if (hx != nullptr && _hdrext == nullptr)
        return bad("a header-extension record was given but table '" + name() + "' has none (header_ext_keys)");
    const uint64_t g = next_generation();
    write_slot(id, &d, hx, g);
    _producer.push(id);
    return g;
}

result<uint64_t> sessions_mapping::retire(uint32_t id) {
    if (!writable()) return bad("sessions table '" + name() + "' is mapped read-only");
    if (id >= capacity()) return bad("slot id " + num(id) + " is out of range (capacity " + num(capacity()) + ")");
    slot_data d;
    hdrext_record hx;
    // The writer's own read never races a write (it is the writer), so one attempt suffices.
    if (read(id, d, _hdrext ? &hx : nullptr, 1) != read_outcome::ok)
        return bad("slot " + num(id) + " is mid-write; call retire() from the writer thread only");
    if (d.state == slot_state::empty) {
        wipe(d);
        return bad("slot " + num(id) + " is empty: nothing to retire");
    }
    d.state = slot_state::retiring;
    const uint64_t g = next_generation();
    write_slot(id, &d, _hdrext ? &hx : nullptr, g);
    wipe(d);
    wipe(hx);
    _producer.push(id);
    return g;
}

result<uint64_t> sessions_mapping::erase(uint32_t id) {
    if (!writable()) return bad("sessions table '" + name() + "' is mapped read-only");
    if (id >= capacity()) return bad("slot id " + num(id) + " is out of range (capacity " + num(capacity()) + ")");
    const uint64_t g = next_generation();
    write_slot(id, nullptr, nullptr, g);
    _producer.push(id);
    return g;
}

void sessions_mapping::connect_consumer(const status_mapping& st) noexcept {
    _producer.consumer = st._hdr != nullptr ? &st._hdr->doorbell_consumer : nullptr;
}

result<doorbell_consumer> sessions_mapping::make_consumer(status_mapping& st) const {
    if (_hdr == nullptr || st._hdr == nullptr) return bad("make_consumer on an unmapped region");
    if (!st.writable()) return bad("status region '" + st.name() + "' is mapped read-only: only its writer consumes");
    if (st.capacity() != capacity())
        return bad("status region '" + st.name() + "' has " + num(st.capacity()) + " entries but sessions table '" +
                   name() + "' has " + num(capacity()) + " slots");
    status_header& sh = *st._hdr;
    if (load_word(sh.sessions_instance, std::memory_order_relaxed) != _hdr->instance_id) {
        // Our indices describe another table (or none): start at the current producer and force a
        // rescan by acknowledging an epoch the producer can never reach.
        store_word(sh.resync_ack, ~uint64_t{0}, std::memory_order_relaxed);
        store_word(sh.doorbell_consumer, load_word(_hdr->doorbell_producer, std::memory_order_acquire),
                   std::memory_order_release);
        store_word(sh.sessions_instance, _hdr->instance_id, std::memory_order_release);
    }
    doorbell_consumer c;
    c.producer = &_hdr->doorbell_producer;
    c.resync = &_hdr->resync;
    c.ring = _producer.ring;
    c.mask = _producer.mask;
    c.n_slots = _hdr->n_slots;
    c.consumer = &sh.doorbell_consumer;
    c.resync_ack = &sh.resync_ack;
    return c;
}

// --------------------------------------------------------------------------------- status region

void status_mapping::bind() noexcept {
    auto* base = _file.data();
    _hdr = reinterpret_cast<status_header*>(base);
    _entries = reinterpret_cast<live_state*>(base + _hdr->entries_offset);
}

result<status_mapping> status_mapping::create(std::string_view name, uint32_t capacity, mode_t mode) {
    if (auto r = check_capacity(capacity); !r) return r.err();
    if (auto r = check_create_mode(mode, 0644, "status"); !r) return r.err();
    const auto l = status_layout_of(capacity);
    auto f = shm_file::create(name, l.total_size, mode);
    if (!f) return f.err();
    auto* h = reinterpret_cast<status_header*>(f->data());
    h->abi_version = abi_version;
    h->header_size = sizeof(status_header);
    h->entry_size = sizeof(live_state);
    h->n_slots = capacity;
    h->entries_offset = l.entries_offset;
    h->total_size = l.total_size;
    h->instance_id = random_id();
    h->created_unix_ns = realtime_ns();
    store_word(h->writer_pid, static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
    store_word(h->magic, status_magic, std::memory_order_release);
    status_mapping m;
    m._file = std::move(*f);
    m.bind();
    return m;
}

result<status_mapping> status_mapping::reopen(std::string_view name, attach_expect e) {
    auto f = shm_file::open(name, access::read_write);
    if (!f) return f.err();
    if (auto r = check_status(*f, e); !r) return r.err();
    status_mapping m;
    m._file = std::move(*f);
    m.bind();
    store_word(m._hdr->writer_pid, static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
    return m;
}

result<status_mapping> status_mapping::open_or_create(std::string_view name, uint32_t capacity, mode_t mode) {
    auto m = reopen(name, attach_expect{capacity, std::nullopt});
    if (m) return m;
    auto n = normalize_shm_name(name);
    if (!n) return n.err();
    const int fd = shm_open(n->c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        close(fd);
        return m.err();
    }
    if (errno != ENOENT) return sys_error("shm_open", *n, errno);
    return create(name, capacity, mode);
}

result<status_mapping> status_mapping::attach(std::string_view name, attach_expect e) {
    auto f = shm_file::open(name, access::read_only);
    if (!f) return f.err();
    if (auto r = check_status(*f, e); !r) return r.err();
    status_mapping m;
    m._file = std::move(*f);
    m.bind();
    return m;
}

void status_mapping::heartbeat(uint64_t now_ns) noexcept {
    if (writable()) store_word(_hdr->heartbeat_ns, now_ns, std::memory_order_relaxed);
}
uint64_t status_mapping::last_heartbeat() const noexcept { return load_word(_hdr->heartbeat_ns, std::memory_order_relaxed); }
uint64_t status_mapping::writer_pid() const noexcept { return load_word(_hdr->writer_pid, std::memory_order_relaxed); }

} // namespace srtpo::table
