#pragma once
// The payloads that carry or protect keys: KEMAC (RFC 3830 §6.2), PKE (§6.3), DH (§6.4),
// SIGN (§6.5) and V (§6.9).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>
#include <srtpo/cp/mikey/key_data.hpp>

#include <cstdint>

namespace srtpo::cp::mikey {

/// KEMAC. encr_data is the sub-payload chain, encrypted unless encr is NULL; mac is
/// mac_len(mac) octets, computed over the whole message up to the MAC field (§5.2).
struct kemac_payload {
    encr_alg encr = encr_alg::null;
    bytes encr_data;
    mac_alg mac = mac_alg::null;
    bytes mac_value;
    bool operator==(const kemac_payload&) const = default;
};
/// PKE: the envelope key encrypted under the responder's public key (§6.3).
struct pke_payload {
    pke_cache cache = pke_cache::none;
    bytes data; ///< up to 2^14 - 1 octets
    bool operator==(const pke_payload&) const = default;
};
/// DH: a public value of dh_value_len(group) octets and a key validity (§6.4).
struct dh_payload {
    dh_group group = dh_group::oakley5;
    bytes value;
    key_validity kv;
    bool operator==(const dh_payload&) const = default;
};
/// SIGN: the last payload, with no next-payload field (§6.5); covers the message up to the
/// Signature field.
struct sign_payload {
    sign_type type = sign_type::rsa_pkcs1_v1_5;
    bytes signature; ///< up to 4095 octets (12-bit length)
    bool operator==(const sign_payload&) const = default;
};
/// V: the verification MAC of a response (§6.9).
struct v_payload {
    mac_alg mac = mac_alg::hmac_sha1_160;
    bytes ver_data;
    bool operator==(const v_payload&) const = default;
};

} // namespace srtpo::cp::mikey
