#pragma once
// Limits concurrent DTLS handshakes per source (issue 7 §3): a ClientHello costs the server an
// ECDHE key pair and an ECDSA signature, so one address must not be able to start thousands.
// srtpo-cp asks before creating or restarting an endpoint for a source and releases the slot
// when the handshake ends (done, failed or timed out).

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace srtpo::cp::dtls {

/// Counts handshakes in progress per source key (e.g. "203.0.113.7" or an address/port
/// string; the caller chooses the granularity). Thread-safety: not thread-safe; one owner.
class handshake_limiter {
public:
    /// `per_source`: handshakes one source may have in progress; `total`: all sources together.
    handshake_limiter(std::size_t per_source, std::size_t total) : _per_source(per_source), _total(total) {}

    /// Takes a slot; false (and nothing taken) if the source or the total is at its limit.
    bool try_acquire(std::string_view source);
    /// Returns a slot taken by try_acquire; releasing a source without slots does nothing.
    void release(std::string_view source);

    std::size_t in_progress(std::string_view source) const;
    std::size_t in_progress() const noexcept { return _count; }

private:
    std::size_t _per_source, _total, _count = 0;
    std::unordered_map<std::string, std::size_t> _by_source;
};

} // namespace srtpo::cp::dtls
