#pragma once
// The MIKEY Common Header payload, HDR (RFC 3830 §6.1), with its Crypto Session ID map:
// SRTP-ID (§6.1.1: policy, SSRC and ROC per crypto session) or the Empty map (RFC 4563 §4).

#include <srtpo/cp/mikey/constants.hpp>

#include <cstdint>
#include <vector>

namespace srtpo::cp::mikey {

/// One entry of the SRTP-ID map (§6.1.1). The entry's 1-based position is its CS ID.
struct srtp_cs {
    uint8_t policy_no = 0; ///< the SP payload's policy number for this crypto session
    uint32_t ssrc = 0;
    uint32_t roc = 0;      ///< the ROC the stream starts with
    bool operator==(const srtp_cs&) const = default;
};

/// HDR. The "next payload" field is not stored: the encoder derives it from the payload list.
struct header {
    uint8_t version = mikey_version;
    data_type type = data_type::psk_init;
    bool v = false;                   ///< the initiator asks for a verification/response message
    prf_func prf = prf_func::mikey_1;
    uint32_t csb_id = 0;              ///< Crypto Session Bundle ID
    cs_id_map_type map_type = cs_id_map_type::srtp_id;
    std::vector<srtp_cs> cs;          ///< SRTP-ID map; empty with the Empty map
    uint8_t n_cs_empty_map = 0;       ///< #CS sent with the Empty map (RFC 4563 §4: 0)
    bool operator==(const header&) const = default;
    /// Number of crypto sessions (#CS).
    uint8_t n_cs() const noexcept {
        return map_type == cs_id_map_type::empty ? n_cs_empty_map : static_cast<uint8_t>(cs.size());
    }
};

} // namespace srtpo::cp::mikey
