#pragma once
// packet_ref: a non-owning view of one packet that the engine transforms in place.

#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::engine {

/// A packet in caller memory. `len` is the packet; `capacity` is len + tailroom, the most the
/// engine may grow it to (protect appends MKI and tag). The engine writes `len` on success.
/// Ownership: the caller owns the bytes; the engine touches them only during the call.
struct packet_ref {
    std::byte* data = nullptr;
    uint16_t len = 0;
    uint16_t capacity = 0;

    std::span<std::byte> bytes() const noexcept { return {data, len}; }
    uint16_t tailroom() const noexcept { return static_cast<uint16_t>(capacity - len); }
};
static_assert(sizeof(packet_ref) == 16);

} // namespace srtpo::engine
