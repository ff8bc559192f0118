#pragma once
// CRC-32c (Castagnoli), the ZRTP packet checksum (RFC 6189 §5.0, computed as SCTP does,
// RFC 4960 Appendix B / RFC 3309).

#include <cstdint>
#include <span>

namespace srtpo::cp::zrtp {

/// The CRC-32c of `data`: reflected polynomial 0x82F63B78, initial value and final XOR all ones.
/// The check value of "123456789" is 0xE3069283. Thread-safe (pure).
uint32_t crc32c(std::span<const uint8_t> data) noexcept;

} // namespace srtpo::cp::zrtp
