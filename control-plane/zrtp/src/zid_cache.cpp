#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/zid_cache.hpp>

#include "wire.hpp"

#include <openssl/crypto.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {

constexpr char magic[16] = {'S', 'R', 'T', 'P', 'O', '-', 'Z', 'R', 'T', 'P', 'C', 'A', 'C', 'H', 'E', '1'};
constexpr std::size_t record_len = 12 + 1 + 32 + 32;
constexpr std::size_t key_len = 32;

engine::error io(const std::string& what, const std::string& path) {
    return make_error(errc::io_error, "zrtp cache: " + what + " " + path + ": " + std::strerror(errno));
}

// Reads a whole file that must not be readable by group or others.
engine::result<std::vector<uint8_t>> read_private(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io("cannot open", path);
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        ::close(fd);
        return io("cannot stat", path);
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        return make_error(errc::io_error, "zrtp cache: " + path + " is accessible by group or others (must be 0600)");
    }
    std::vector<uint8_t> b(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < b.size()) {
        ssize_t n = ::read(fd, b.data() + got, b.size() - got);
        if (n <= 0) {
            ::close(fd);
            return io("cannot read", path);
        }
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return b;
}

engine::result<void> write_private(const std::string& path, std::span<const uint8_t> data, bool exclusive) {
    const std::string tmp = exclusive ? path : path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0600);
    if (fd < 0) return io("cannot create", tmp);
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n <= 0) {
            ::close(fd);
            return io("cannot write", tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) return io("cannot sync", tmp);
    if (!exclusive && ::rename(tmp.c_str(), path.c_str()) != 0) return io("cannot rename onto", path);
    return {};
}

} // namespace

zid_cache zid_cache::in_memory() {
    zid_t z;
    random_bytes(z);
    return in_memory(z);
}

zid_cache zid_cache::in_memory(const zid_t& self) {
    zid_cache c;
    c._self = self;
    return c;
}

engine::result<zid_cache> zid_cache::open(const std::string& cache_path, const std::string& key_path) {
    zid_cache c;
    c._path = cache_path;
    if (::access(key_path.c_str(), F_OK) != 0) {
        secret k(key_len);
        random_bytes(k.span());
        if (auto w = write_private(key_path, k.view(), true); !w) return w.err();
    }
    auto k = read_private(key_path);
    if (!k) return k.err();
    if (k->size() != key_len) return make_error(errc::invalid_argument, "zrtp cache: key file is not 32 octets");
    c._key = secret(*k);
    OPENSSL_cleanse(k->data(), k->size());
    if (::access(cache_path.c_str(), F_OK) != 0) {
        random_bytes(c._self);
        if (auto s = c.save(); !s) return s.err();
        return c;
    }
    auto f = read_private(cache_path);
    if (!f) return f.err();
    const auto& b = *f;
    if (b.size() < 16 + 12 + 4 + 32 || std::memcmp(b.data(), magic, 16) != 0)
        return make_error(errc::invalid_argument, "zrtp cache: not a cache file (bad magic or too short)");
    const std::size_t body = b.size() - 32;
    auto mac = hmac(hash_algo::s256, c._key.view(), {std::span(b).first(body)});
    if (!ct_equal(mac.view(), std::span(b).subspan(body)))
        return make_error(errc::invalid_argument, "zrtp cache: integrity check failed (HMAC mismatch)");
    std::memcpy(c._self.data(), b.data() + 16, 12);
    const uint32_t n = wire::get32(b, 28);
    if (32 + std::size_t{n} * record_len != body) return make_error(errc::invalid_argument, "zrtp cache: record count does not match size");
    for (std::size_t i = 0, o = 32; i < n; ++i, o += record_len) {
        zid_t z;
        std::memcpy(z.data(), b.data() + o, 12);
        const uint8_t flags = b[o + 12];
        cache_entry e;
        e.sas_verified = flags & 1;
        if (flags & 2) e.rs1 = secret(std::span(b).subspan(o + 13, 32));
        if (flags & 4) e.rs2 = secret(std::span(b).subspan(o + 45, 32));
        c._entries[z] = std::move(e);
    }
    OPENSSL_cleanse(f->data(), f->size());
    return c;
}

const cache_entry* zid_cache::find(const zid_t& peer) const {
    auto it = _entries.find(peer);
    return it == _entries.end() ? nullptr : &it->second;
}

engine::result<void> zid_cache::store(const zid_t& peer, cache_entry e) {
    _entries[peer] = std::move(e);
    if (_deferred) {
        _dirty = true;
        return {};
    }
    return save();
}

engine::result<void> zid_cache::flush() {
    if (!_dirty) return {};
    _dirty = false;
    return save();
}

engine::result<void> zid_cache::set_verified(const zid_t& peer, bool verified) {
    auto it = _entries.find(peer);
    if (it == _entries.end()) return make_error(errc::invalid_argument, "zrtp cache: no entry for this peer ZID");
    it->second.sas_verified = verified;
    return save();
}

engine::result<void> zid_cache::erase(const zid_t& peer) {
    _entries.erase(peer);
    return save();
}

engine::result<void> zid_cache::save() const {
    if (_path.empty()) return {};
    std::vector<uint8_t> b;
    b.reserve(32 + _entries.size() * record_len + 32);
    wire::put(b, magic, 16);
    wire::put(b, _self);
    wire::put32(b, static_cast<uint32_t>(_entries.size()));
    for (const auto& [z, e] : _entries) {
        wire::put(b, z);
        b.push_back(static_cast<uint8_t>((e.sas_verified ? 1 : 0) | (e.rs1.size() == 32 ? 2 : 0) | (e.rs2.size() == 32 ? 4 : 0)));
        std::array<uint8_t, 32> zero{};
        wire::put(b, e.rs1.size() == 32 ? e.rs1.view() : std::span<const uint8_t>(zero));
        wire::put(b, e.rs2.size() == 32 ? e.rs2.view() : std::span<const uint8_t>(zero));
    }
    auto mac = hmac(hash_algo::s256, _key.view(), {b});
    wire::put(b, mac.view());
    auto r = write_private(_path, b, false);
    OPENSSL_cleanse(b.data(), b.size());
    return r;
}

} // namespace srtpo::cp::zrtp
