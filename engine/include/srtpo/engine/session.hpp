#pragma once
// Sessions: one master-key set, one direction, many streams (one per SSRC).
//
// A session is one-way, as pion/srtp's Context is: a `protect` session encrypts what we send, an
// `unprotect` session checks and decrypts what we receive. A bidirectional call is two sessions.
//
// Thread-safety: a session has exactly one owner thread at a time (the worker that calls the
// burst functions on it). Stream state (ROC, replay window, counters, key usage) is written only
// by that owner, without locks (ARCHITECTURE.md principle 5). The introspection functions below
// may be called by the owner, or by anyone while the owner is not processing the session.
// Key sets are immutable once built.

#include <srtpo/engine/backend.hpp>
#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace srtpo::engine {

enum class direction : uint8_t { protect, unprotect };

inline constexpr std::size_t max_master_keys = 16;  ///< per session
inline constexpr std::size_t max_mki_len = 128;     ///< octets (RFC 4568 §6.1 allows 1..128)
inline constexpr uint64_t srtp_max_lifetime = uint64_t{1} << 48;  ///< RFC 3711 §9.2
inline constexpr uint64_t srtcp_max_lifetime = uint64_t{1} << 31; ///< RFC 3711 §9.2
inline constexpr uint32_t min_replay_window = 64;    ///< RFC 3711 §3.3.2 "SHOULD be at least 64"
inline constexpr uint32_t max_replay_window = 32768;

/// One master key as keyed by SDES, DTLS-SRTP, ZRTP or MIKEY. The session copies the bytes it
/// needs (derived keys), so the caller may wipe its buffers after make_session() returns.
struct master_key_config {
    std::span<const std::byte> key;  ///< master key, suite's master_key_len
    std::span<const std::byte> salt; ///< master salt, suite's master_salt_len
    std::span<const std::byte> mki;  ///< empty, or 1..128 octets; equal length for every key
    /// Packets this key may protect or accept (SDES lifetime, RFC 4568 §6.1); 0 = the RFC 3711
    /// maximum. Counted separately for SRTP and SRTCP, each capped by its RFC maximum.
    uint64_t lifetime = 0;
    /// Already-derived session keys (both or neither): what the shared-memory session table
    /// carries, so that master keys never leave the control plane. key and salt are then unused.
    const session_keys* srtp_keys = nullptr;
    const session_keys* srtcp_keys = nullptr;
};

struct session_config {
    suite s = suite::aes_cm_128_hmac_sha1_80;
    direction dir = direction::protect;
    backend_kind backend = default_backend();
    std::vector<master_key_config> keys; ///< 1..16; with several keys every one carries an MKI
    /// Replay window in packets, for SRTP and SRTCP alike (RFC 3711 §3.3.2). Rounded up to a
    /// multiple of 32, as libsrtp does, so that both accept the same packets.
    uint32_t replay_window = 128;
    uint64_t kdr = 0;                   ///< key derivation rate; only 0 is supported (RFC 3711 §4.3.1)
    bool unencrypted_srtp = false;      ///< RFC 4568 §6.3.3
    bool unencrypted_srtcp = false;     ///< RFC 4568 §6.3.3
    bool unauthenticated_srtp = false;  ///< RFC 4568 §6.3.4 (not allowed with AEAD suites)
    uint32_t max_streams = 16;          ///< SSRCs per session; memory is reserved up front
    uint32_t initial_roc = 0;           ///< ROC of every new stream (SDP a=... / MIKEY CS map)
    uint32_t initial_srtcp_index = 0;   ///< protect: first SRTCP index sent (RFC 3711 §3.4: 0)
    /// Extension element IDs whose data is encrypted (RFC 6904); one-byte form 1..14, two-byte 1..255.
    std::vector<uint8_t> encrypted_extension_ids;
    bool cryptex = false;               ///< RFC 9335: encrypt CSRCs and the whole header extension
    /// Packets before the hard lifetime at which the soft-limit signal is raised.
    uint64_t soft_limit_margin = uint64_t{1} << 16;
};

class session_rt; // opaque; the pmd and tools only hold pointers to it
struct session_deleter {
    void operator()(session_rt* s) const noexcept; ///< zeroizes every key before freeing
};
using session_ptr = std::unique_ptr<session_rt, session_deleter>;

/// Builds a session: validates the configuration, derives the session keys (RFC 3711 §4.3) and
/// expands them for the backend (key schedules, HMAC pads). Allocates all stream memory now, so
/// the data path never allocates. Thread-safe (touches no shared state).
/// Errors: unknown_suite, bad_key_length, invalid_argument, unsupported, backend_failure — each
/// with a message that names the offending field and never contains key bytes.
result<session_ptr> make_session(const session_config& cfg);

struct stream_stats {
    uint32_t ssrc = 0;
    uint32_t roc = 0;          ///< rollover counter of the highest SRTP index seen/sent
    uint16_t highest_seq = 0;  ///< s_l
    uint64_t srtp_packets = 0; ///< packets that passed (ok)
    uint64_t srtp_octets = 0;  ///< plaintext payload octets that passed
    uint32_t srtcp_index = 0;  ///< highest SRTCP index accepted, or the next one to send
    uint64_t srtcp_packets = 0;
    bool srtp_seen = false;    ///< false until the first SRTP packet set the stream's index
};

struct key_usage {
    uint64_t srtp_packets = 0;
    uint64_t srtcp_packets = 0;
    bool soft_limit = false;   ///< within soft_limit_margin of a hard limit: rekey now
    bool expired = false;      ///< hard limit reached: the key no longer protects or accepts
};

const suite_traits& session_suite(const session_rt& s) noexcept;
/// Octets of memory the session owns: one block holding keys, key schedules and every stream
/// (ADR 0017). Any thread.
std::size_t session_memory(const session_rt& s) noexcept;
direction session_direction(const session_rt& s) noexcept;
backend_kind session_backend(const session_rt& s) noexcept;
std::size_t session_stream_count(const session_rt& s) noexcept;
std::optional<stream_stats> session_stream(const session_rt& s, uint32_t ssrc) noexcept;
/// Calls fn(stream_stats) for every stream. Owner thread (or quiesced data path) only.
void session_for_each_stream(const session_rt& s, void (*fn)(const stream_stats&, void*), void* arg);
std::size_t session_key_count(const session_rt& s) noexcept;
key_usage session_key_usage(const session_rt& s, std::size_t key_index) noexcept;
/// Index of the master key protect uses (RFC 3711 §3.3: the sender picks, the MKI tells).
std::size_t session_active_key(const session_rt& s) noexcept;
/// Owner thread only. Errors: invalid_argument for an index out of range.
result<void> session_set_active_key(session_rt& s, std::size_t key_index);
/// Sets the ROC a protect stream uses for an SSRC not yet sent (or the receiver's guess for one
/// not yet seen), e.g. from SDES re-INVITE (RFC 4568 §7.1.4) or MIKEY's CS map. Owner only.
/// Errors: invalid_argument when the stream table is full.
result<void> session_set_roc(session_rt& s, uint32_t ssrc, uint32_t roc);

/// What session_transfer_streams() did.
struct stream_transfer {
    bool ok = false;           ///< false: the directions differ or from is to; nothing was changed
    uint32_t moved = 0;        ///< streams whose state now lives in `to`
    uint32_t dropped = 0;      ///< active streams of `from` that did not fit (to's max_streams)
    uint32_t keys_matched = 0; ///< master keys of `to` whose usage counts came from `from`
};

/// Rekey without losing place (ARCHITECTURE.md, issue 5 "a rekey swaps keys without resetting ROC
/// or replay state"): copies every active stream of `from` into `to` — SSRC, ROC and s_l (RFC 3711
/// §3.3.1), the SRTP and SRTCP replay windows (§3.3.2), the next SRTCP index to send or the highest
/// received (§3.4), and the packet counters. A stream `to` already has for the same SSRC is
/// overwritten. Key usage (the §9.2 lifetime count) moves too, for each master key of `to` that
/// `from` has with the same MKI and the same derived keys (constant-time compare), so that a key
/// that survives a rebuild keeps its count.
/// Both sessions must have the same direction; suites, windows and key sets may differ (a smaller
/// replay window keeps the newest part of the history, a larger one treats the older indices
/// as seen). `from` is not changed.
/// Thread-safety: the caller must own both sessions (the worker that runs them). noexcept, no
/// allocation: it runs on the data path, on the first packet of a rekeyed flow.
stream_transfer session_transfer_streams(const session_rt& from, session_rt& to) noexcept;

} // namespace srtpo::engine
