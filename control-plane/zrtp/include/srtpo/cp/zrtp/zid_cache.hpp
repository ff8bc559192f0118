#pragma once
// The ZID cache (RFC 6189 §4.9, §4.6.1): our own ZID, and per peer ZID the retained secrets rs1
// and rs2 and the SAS-verified flag. Persisted in one file (mode 0600) protected by an
// HMAC-SHA-256 whose key lives in a second 0600 file, so that a tampered or truncated cache is
// refused rather than silently trusted (docs/adr/0006-zrtp-cache-and-roles.md).

#include <srtpo/cp/zrtp/message.hpp>
#include <srtpo/cp/zrtp/secret.hpp>
#include <srtpo/engine/result.hpp>

#include <map>
#include <optional>
#include <string>

namespace srtpo::cp::zrtp {

struct cache_entry {
    secret rs1;             ///< 32 octets, or empty
    secret rs2;             ///< 32 octets, or empty
    bool sas_verified = false;
};

/// Thread-safety: none; one owner (srtpo-cp's ZRTP thread) serialises calls. Ownership: holds
/// retained secrets in self-wiping buffers; the files are written atomically (temp + rename).
class zid_cache {
public:
    /// Opens or creates the cache. A missing key file is created with 32 random octets (0600);
    /// a missing cache file starts a new cache with a random ZID. Errors: io_error (unreadable,
    /// permissions wider than 0600), invalid_argument (bad format or HMAC mismatch).
    static engine::result<zid_cache> open(const std::string& cache_path, const std::string& key_path);
    /// A cache that lives in memory only (tests, or a deployment without persistence).
    static zid_cache in_memory();
    /// Same, with a chosen ZID (tests).
    static zid_cache in_memory(const zid_t& self);

    const zid_t& self_zid() const noexcept { return _self; }
    /// The entry for `peer`, or nullptr. The pointer is valid until the next update.
    const cache_entry* find(const zid_t& peer) const;
    /// Replaces the entry for `peer` and persists (or, with defer_saves(true), marks the cache
    /// for the next flush()). Errors: io_error.
    engine::result<void> store(const zid_t& peer, cache_entry e);
    /// With `on`, store() only updates memory and flush() writes the file. srtpo-cp's media path
    /// uses this so that a secure exchange installs its flows first and writes (and fsyncs) the
    /// cache after: otherwise the peer's first SRTP packets arrive before the flows do.
    void defer_saves(bool on) noexcept { _deferred = on; }
    /// Writes the file if a deferred store() changed the cache. Errors: io_error.
    engine::result<void> flush();
    /// Sets the SAS-verified flag (operators' "verify", §7.1) and persists. Errors:
    /// invalid_argument if the peer is unknown; io_error.
    engine::result<void> set_verified(const zid_t& peer, bool verified);
    /// Removes a peer (forget a ZID) and persists.
    engine::result<void> erase(const zid_t& peer);

private:
    engine::result<void> save() const;
    zid_t _self{};
    std::map<zid_t, cache_entry> _entries;
    std::string _path; ///< empty = in memory
    secret _key;
    bool _deferred = false, _dirty = false;
};

} // namespace srtpo::cp::zrtp
