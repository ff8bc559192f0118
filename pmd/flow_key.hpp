#pragma once
// flow_key: what srtpo-pmd matches a received packet on (the local, i.e. destination, address
// family, address and UDP port). Kept apart from classify.hpp and free of other project headers so
// that the flow index (flow_index.hpp) and its tests build without the engine or DPDK.

#include <array>
#include <cstddef>
#include <cstdint>

namespace srtpo::pmd {

/// Hash key of a flow. Fixed size and fully initialised (padding included) because the index
/// hashes and compares raw bytes. Thread-safety: a value type.
struct flow_key {
    std::array<std::byte, 16> addr{};
    uint16_t port = 0;
    uint8_t family = 0;
    uint8_t pad = 0;
    friend bool operator==(const flow_key&, const flow_key&) = default;
};
static_assert(sizeof(flow_key) == 20);

} // namespace srtpo::pmd
