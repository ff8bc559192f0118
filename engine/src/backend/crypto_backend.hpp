#pragma once
// The private seam between the protocol logic (burst_*.cpp) and a crypto library.
//
// Calls are per homogeneous group — one suite, one operation, many packets of many sessions —
// never per packet (no per-packet virtual call). Key material is expanded once, at install, into
// a block the backend owns the layout of (AES schedules, HMAC ipad/opad, GCM hash keys).

#include "../iv.hpp"

#include <srtpo/engine/backend.hpp>
#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace srtpo::engine::detail {

/// Derived keys of one master key for SRTP or SRTCP, plus the backend's expansion of them.
/// Immutable after install; read by many workers at once.
struct key_block {
    // The first 26 octets are what the data path reads for every packet; they lead, so that they
    // share the cache line of the master key's usage count (session_impl.hpp, ADR 0017).
    std::byte* expanded = nullptr;   ///< backend-private, 64-byte aligned, owned by the session
    std::array<std::byte, 16> salt{}; ///< copy of raw.k_s (14 octets used): every IV reads it
    /// Backend-private tag of what `expanded` holds (0: nothing) and for which AES key length, so
    /// that the data path can refuse a block that does not fit the traits it is given. Kept here,
    /// in a line every packet reads anyway, not in a line of the expanded block of its own.
    uint8_t layout = 0;
    uint8_t layout_key_len = 0;
    session_keys raw;
};

/// A run of cache lines of an expanded key block: `count` lines from line `first`.
struct line_run {
    uint16_t first = 0;
    uint8_t count = 0;
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

/// One SRTP packet of an AES-CM + HMAC-SHA1 suite (RFC 3711 §4.1.1, §4.2.1), as the burst code
/// prepared it: the backend builds its own jobs from this, IV included, in one pass (ADR 0019),
/// where crypto_job would be built first and converted after.
struct cm_hmac_job {
    const key_block* keys = nullptr;
    std::byte* pkt = nullptr;     ///< the packet; the HMAC message starts at pkt[0]
    std::byte* tag = nullptr;     ///< out: the first 12 octets of HMAC-SHA1 (room for 12 needed)
    uint64_t index = 0;           ///< SRTP packet index (48 bits): the IV's i
    uint32_t ssrc = 0;            ///< the IV's SSRC
    uint16_t cipher_off = 0;      ///< AES-CM keystream goes over pkt[cipher_off, + cipher_len)
    uint16_t cipher_len = 0;      ///< 0: no keystream for this packet
    uint16_t auth_len = 0;        ///< HMAC over pkt[0, auth_len); 0: no HMAC for this packet
    uint16_t op = 0;              ///< index of the op in the caller's chunk
    bool failed = false;          ///< out: the backend refused the packet
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

    /// AES-CM suites (t.cipher == aes_cm): first the keystream of every job with cipher_len > 0,
    /// with IV = (k_s · 2^16) ⊕ (SSRC · 2^64) ⊕ (i · 2^16) from keys->salt (RFC 3711 §4.1.1),
    /// then HMAC-SHA1 with k_a over every job with auth_len > 0, 12 octets to `tag` (the caller
    /// keeps 10 or 4, RFC 3711 §4.2.1). `tag` may lie right after the message, over the ROC the
    /// message ends with: the tag is written only once the message was read. Encrypt-then-MAC
    /// in one call for protect; unprotect calls it twice (HMAC only, then keystream only).
    /// This default builds crypto_jobs and runs keystream_xor and hmac_sha1; a backend that can
    /// build its own jobs straight from these overrides it. Not thread-safe (one per worker).
    virtual void srtp_cm_hmac(const suite_traits& t, std::span<cm_hmac_job> jobs) noexcept {
        constexpr std::size_t chunk = 16; // bounds the stack scratch
        std::array<crypto_job, chunk> c;
        std::array<std::array<std::byte, 20>, chunk> tags;
        std::array<cm_hmac_job*, chunk> owner;
        for (std::size_t b = 0; b < jobs.size(); b += chunk) {
            const auto part = jobs.subspan(b, std::min(chunk, jobs.size() - b));
            std::size_t n = 0;
            for (auto& j : part) {
                j.failed = !j.keys || !j.pkt;
                if (j.failed || !j.cipher_len) continue;
                c[n] = crypto_job{};
                c[n].keys = j.keys;
                c[n].data = j.pkt + j.cipher_off;
                c[n].data_len = j.cipher_len;
                aes_cm_iv(c[n].iv, j.keys->salt.data(), 14, j.ssrc, j.index);
                owner[n++] = &j;
            }
            if (n) keystream_xor(t, {c.data(), n});
            for (std::size_t k = 0; k < n; ++k) owner[k]->failed = c[k].failed;
            n = 0;
            for (auto& j : part) {
                if (j.failed || !j.auth_len) continue;
                c[n] = crypto_job{};
                c[n].keys = j.keys;
                c[n].auth = j.pkt;
                c[n].auth_len = j.auth_len;
                c[n].tag = tags[n].data(); // hmac_sha1 may write all 20 octets
                owner[n++] = &j;
            }
            if (n) hmac_sha1(t, {c.data(), n});
            for (std::size_t k = 0; k < n; ++k) {
                owner[k]->failed = c[k].failed;
                if (!c[k].failed) std::memcpy(owner[k]->tag, tags[k].data(), 12);
            }
        }
    }
};

class crypto_backend {
public:
    virtual ~crypto_backend() = default;
    virtual backend_kind kind() const noexcept = 0;
    /// Whether this backend runs the suite itself; the registry routes other suites elsewhere.
    virtual bool supports(const suite_traits& t) const noexcept = 0;
    /// Octets of expanded key material per key_block, a multiple of 64.
    virtual std::size_t expanded_size(const suite_traits& t) const noexcept = 0;
    /// Fills kb.expanded (already allocated, expanded_size octets) from kb.raw. Control path.
    virtual result<void> expand(const suite_traits& t, key_block& kb) const = 0;
    /// The lines of an SRTP key block of suite t that a voice-sized packet (up to ~200 octets)
    /// reads, as at most two runs from the block's start: what prefetch_session asks for ahead
    /// of a burst (ADR 0023). None by default (the block is not read by line, or not known).
    /// Thread-safe: depends on the suite and the CPU's code path only.
    virtual std::array<line_run, 2> hot_runs(const suite_traits& t) const noexcept {
        (void)t;
        return {};
    }
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
