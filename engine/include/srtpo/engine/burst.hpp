#pragma once
// The burst API: transform many packets of many sessions and suites in one call.
//
// Each function takes a span of ops, groups them internally by (backend, suite) — not by session —
// so one backend call serves many sessions (ARCHITECTURE.md principle 3), and returns the number
// of ops whose status is ok. Order is preserved: ops[i] still describes packet i afterwards.
// A failed op keeps its status and its packet is left for the caller to drop; nothing about it
// changed any stream's state (replay is checked before crypto and committed after the tag
// verifies; RFC 3711 §3.3.2).
//
// Thread-safety: `w` is one per thread. A session may appear in several ops of one call, but one
// session must not be used by two threads at once (single owner; see session.hpp).
// Allocation: none. Exceptions: none.

#include <srtpo/engine/packet.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/status.hpp>

#include <cstddef>
#include <span>

namespace srtpo::engine {

class worker_ctx;

struct op {
    session_rt* session = nullptr;
    packet_ref pkt;
    status st = status::ok;
};
static_assert(sizeof(op) <= 32);

/// SRTP protect (RFC 3711 §3.3, RFC 7714 §8): encrypts in place and appends MKI and tag, so
/// each packet needs tailroom of mki_len + tag_len (cryptex may add 4 more).
std::size_t protect_rtp(worker_ctx& w, std::span<op> ops) noexcept;
/// SRTP unprotect: verifies, checks replay, decrypts in place and strips MKI and tag.
std::size_t unprotect_rtp(worker_ctx& w, std::span<op> ops) noexcept;
/// SRTCP protect (RFC 3711 §3.4, RFC 7714 §9): appends E‖SRTCP index, MKI and tag.
std::size_t protect_rtcp(worker_ctx& w, std::span<op> ops) noexcept;
/// SRTCP unprotect: verifies, checks replay, decrypts and strips the SRTCP trailer.
std::size_t unprotect_rtcp(worker_ctx& w, std::span<op> ops) noexcept;

/// Asks for the cache lines an SRTP packet of session `s` reads (its active master key, stream
/// 0, the active key's hot expanded-key lines) with prefetches, for a caller that knows a burst's
/// sessions while an earlier burst's crypto still runs: the lines arrive meanwhile (ADR 0023).
/// A hint only: it changes no state and no result. It reads line 0 of `s` (the addresses of the
/// rest), so that line should have been prefetched a while before. nullptr is ignored.
/// Thread-safety: the session's owner thread, like the burst calls. Allocation: none.
void prefetch_session(const session_rt* s) noexcept;

} // namespace srtpo::engine
