#pragma once
// The private seam between the protocol logic (burst_*.cpp) and a crypto library.
//
// Calls are per homogeneous group — one suite, one operation, many packets of many sessions —
// never per packet (no per-packet virtual call). Key material is expanded once, at install, into
// a block the backend owns the layout of (AES schedules, HMAC ipad/opad, GCM hash keys).

#include <srtpo/engine/backend.hpp>
#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace srtpo::engine::detail {

/// Derived keys of one master key for SRTP or SRTCP, plus the backend's expansion of them.
/// Immutable after install; read by many workers at once.
struct key_block {
    // The first 24 octets are what the data path reads for every packet; they lead, so that they
    // share the cache line of the master key's usage count (session_impl.hpp, ADR 0017).
    std::byte* expanded = nullptr;   ///< backend-private, 64-byte aligned, owned by the session
    std::array<std::byte, 16> salt{}; ///< copy of raw.k_s (14 octets used): every IV reads it
    session_keys raw;
};

/// One packet's work in a group. `data` is transformed in place.
struct crypto_job {
    const key_block* keys = nullptr;
    std::byte* data = nullptr;        ///< cipher region (payload, or SRTCP body)
    const std::byte* auth = nullptr;  ///< HMAC message, or GCM additional authenticated data
    std::byte* tag = nullptr;         ///< out: HMAC-SHA1 (≥ 20 octets of room) or GCM tag (16)
    uint32_t data_len = 0;
    uint32_t auth_len = 0;
    uint16_t op = 0;                  ///< index of the op in the caller's chunk
    bool header_keys = false;         ///< ctr(): use k_he/k_hs expansion (RFC 6904), not k_e
    bool failed = false;              ///< out: the backend refused the job
    bool auth_ok = false;             ///< out (GCM decrypt): the received tag in `tag` verified
    alignas(16) std::array<uint8_t, 16> iv{}; ///< AES-CM counter block, F8 IV, or GCM nonce (12)
};

class backend_worker {
public:
    virtual ~backend_worker() = default;
    /// XORs AES-CM (or AES-f8 for F8 suites) keystream into data. Same suite for every job.
    virtual void keystream_xor(const suite_traits& t, std::span<crypto_job> jobs) noexcept = 0;
    /// HMAC-SHA1 over auth[0..auth_len) with k_a; writes at least 10 octets of tag (RFC 3711 §4.2.1).
    virtual void hmac_sha1(const suite_traits& t, std::span<crypto_job> jobs) noexcept = 0;
    /// AES-GCM (RFC 7714): encrypt=true seals data and writes the tag; encrypt=false decrypts
    /// data and checks the received tag held in `tag` in constant time, setting auth_ok.
    virtual void gcm(const suite_traits& t, bool encrypt, std::span<crypto_job> jobs) noexcept = 0;
};

class crypto_backend {
public:
    virtual ~crypto_backend() = default;
    virtual backend_kind kind() const noexcept = 0;
    /// Whether this backend runs the suite itself; the registry routes other suites elsewhere.
    virtual bool supports(const suite_traits& t) const noexcept = 0;
    /// Octets of expanded key material per key_block, a multiple of 64.
    virtual std::size_t expanded_size(const suite_traits& t) const noexcept = 0;
    /// Octets at the start of an expanded block that every packet of the suite reads (the burst
    /// code prefetches them, ADR 0017); 0 when the backend keeps no expanded keys.
    virtual std::size_t hot_size(const suite_traits& t) const noexcept = 0;
    /// A second range of an expanded block that every packet of a voice-sized payload reads, not
    /// adjacent to the first (e.g. GHASH key powers stored after unused higher powers); offset
    /// and size in octets, multiples of 64; {0, 0} when there is none.
    struct hot_range {
        std::size_t offset = 0, size = 0;
    };
    virtual hot_range hot_tail(const suite_traits& t) const noexcept = 0;
    /// Fills kb.expanded (already allocated, expanded_size octets) from kb.raw. Control path.
    virtual result<void> expand(const suite_traits& t, key_block& kb) const = 0;
    virtual result<std::unique_ptr<backend_worker>> make_worker() const = 0;
};

/// The backend object for a kind, or nullptr if unavailable. Process-lifetime singletons.
const crypto_backend* get_backend(backend_kind k) noexcept;

/// Backends compiled in, in preference order.
std::span<const backend_kind> compiled_backends() noexcept;

const crypto_backend& openssl_backend() noexcept;
#ifdef SRTPO_HAVE_IMB
const crypto_backend* imb_backend() noexcept; ///< nullptr when the CPU lacks the needed ISA
#endif

} // namespace srtpo::engine::detail
