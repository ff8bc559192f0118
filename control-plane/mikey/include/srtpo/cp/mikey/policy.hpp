#pragma once
// Security Policy payload, SP (RFC 3830 §6.10), and its SRTP parameters (§6.10.1).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace srtpo::cp::mikey {

struct sp_param {
    uint8_t type = 0; ///< srtp_param for prot_type SRTP; kept raw so unknown types survive
    bytes value;      ///< up to 255 octets
    bool operator==(const sp_param&) const = default;
};

struct sp_payload {
    uint8_t policy_no = 0;
    prot_type prot = prot_type::srtp;
    std::vector<sp_param> params;
    bool operator==(const sp_payload&) const = default;
    /// The value of the first parameter of a type, if any.
    const sp_param* find(srtp_param t) const noexcept;
    /// The parameter as an unsigned big-endian integer; nullopt when absent or longer than 4.
    std::optional<uint32_t> uint(srtp_param t) const noexcept;
    /// Appends a parameter holding `v` in `len` big-endian octets.
    void add(srtp_param t, uint32_t v, uint8_t len = 1);
};

} // namespace srtpo::cp::mikey
