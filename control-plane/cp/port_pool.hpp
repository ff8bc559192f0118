#pragma once
// Media ports srtpo-cp hands out to anchored legs: even RTP ports from a configured range, each
// with its odd neighbour reserved for RTCP (RFC 3550 §11) unless the leg multiplexes (RFC 5761),
// in which case the pair is still kept together so a later re-INVITE may drop rtcp-mux.
// Allocation is round-robin, so a port just released is the last one reused (late packets of an
// ended call do not land in a new one).
//
// Thread-safety: one thread (the event loop). Ownership: a value type.

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <deque>
#include <vector>

namespace srtpo::cp {

class port_pool {
public:
    /// Ports lo..hi inclusive; lo is rounded up and hi down to whole even/odd pairs.
    /// Errors: invalid_argument when no pair fits.
    static engine::result<port_pool> create(uint16_t lo, uint16_t hi);

    /// An even port P (P + 1 is reserved with it). Errors: invalid_argument "media ports exhausted".
    engine::result<uint16_t> allocate();
    /// Returns P to the pool. Releasing a port that is not allocated is ignored (and counted).
    void release(uint16_t p) noexcept;
    std::size_t available() const noexcept { return _free.size(); }
    std::size_t in_use() const noexcept { return _pairs - _free.size(); }
    uint64_t bad_releases() const noexcept { return _bad_releases; }

private:
    std::deque<uint16_t> _free;
    std::vector<bool> _used; ///< indexed by (P - lo) / 2
    uint16_t _lo = 0;
    std::size_t _pairs = 0;
    uint64_t _bad_releases = 0;
};

} // namespace srtpo::cp
