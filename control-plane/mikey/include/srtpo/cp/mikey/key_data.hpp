#pragma once
// KEY_DATA sub-payload (RFC 3830 §6.13) and its Key Validity data, carried inside KEMAC's
// (possibly encrypted) Encr data; the DH payload uses the same validity fields (§6.4).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>
#include <srtpo/cp/mikey/identity.hpp>
#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::mikey {

/// Key Validity (§6.13): nothing, an SPI (SRTP: the MKI), or an interval (SRTP: packet index
/// range, "Valid From" and "Valid To" as octet strings).
struct key_validity {
    kv_type type = kv_type::null;
    bytes spi;
    bytes valid_from;
    bytes valid_to;
    bool operator==(const key_validity&) const = default;
};

struct key_data {
    key_data_type type = key_data_type::tek_salt;
    secret_bytes key;
    secret_bytes salt;          ///< present exactly for TGK+SALT and TEK+SALT
    key_validity kv;
    bool operator==(const key_data& o) const {
        return type == o.type && key.equals(o.key.view()) && key.size() == o.key.size() &&
               salt.size() == o.salt.size() && salt.equals(o.salt.view()) && kv == o.kv;
    }
};

/// The plaintext of KEMAC's Encr data: in PK mode an IDi may come first (§3.2), then the keys.
struct kemac_plaintext {
    std::vector<id_payload> ids;
    std::vector<key_data> keys;
};

/// Parses the sub-payload chain of a KEMAC plaintext: ID and KEY_DATA sub-payloads, the last
/// one with next payload 0, nothing after it. The chain starts with an ID when `leading_id`
/// (PK mode, §3.2), else with KEY_DATA. Thread-safe, pure.
/// Errors (invalid_argument): empty chain, a sub-payload type other than ID or KEY_DATA, an
/// unknown key or KV type, a length field that runs past the end, trailing octets.
engine::result<kemac_plaintext> decode_kemac_plaintext(std::span<const uint8_t> in, bool leading_id = false);
/// Encodes the chain. Errors: a length that does not fit its field, salt on a type without one.
/// The returned octets hold keys: the caller wipes them (they come as secret_bytes).
engine::result<secret_bytes> encode_kemac_plaintext(const kemac_plaintext& p);

} // namespace srtpo::cp::mikey
