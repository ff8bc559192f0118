#pragma once
// ERR (RFC 3830 §6.12) and General Extension (§6.15) payloads.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>

#include <cstdint>

namespace srtpo::cp::mikey {

struct err_payload {
    error_no err = error_no::unspecified;
    bool operator==(const err_payload&) const = default;
};
/// General extension: type 0 vendor ID, 1 SDP IDs (§6.15); data kept opaque.
struct general_ext_payload {
    uint8_t type = 0;
    bytes data;
    bool operator==(const general_ext_payload&) const = default;
};

} // namespace srtpo::cp::mikey
