#pragma once
// ZRTP Error message codes (RFC 6189 §5.9, table).
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <cstdint>
#include <string_view>

namespace srtpo::cp::zrtp {

enum class error_code : uint32_t {
    malformed_packet = 0x10,
    critical_software_error = 0x20,
    unsupported_version = 0x30,
    hello_components_mismatch = 0x40,
    unsupported_hash = 0x51,
    unsupported_cipher = 0x52,
    unsupported_key_exchange = 0x53,
    unsupported_auth_tag = 0x54,
    unsupported_sas = 0x55,
    no_shared_secret = 0x56,
    dh_bad_pv = 0x61,
    dh_hvi_mismatch = 0x62,
    untrusted_mitm = 0x63,
    bad_confirm_mac = 0x70,
    nonce_reuse = 0x80,
    equal_zids = 0x90,
    ssrc_collision = 0x91,
    service_unavailable = 0xA0,
    protocol_timeout = 0xB0,
    goclear_not_allowed = 0x100,
};

/// Short description for logs and the operator API. Thread-safe.
std::string_view describe(error_code c) noexcept;

} // namespace srtpo::cp::zrtp
