#pragma once
// Who the peers are: ID (RFC 3830 §6.7), IDR (RFC 6043 §6.6: ID with a role), CERT (§6.7) and
// CHASH (§6.8).

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>

#include <cstdint>

namespace srtpo::cp::mikey {

/// ID types: 0 NAI, 1 URI (§6.7); 2 byte string (RFC 6043 §6.6).
enum class id_type : uint8_t { nai = 0, uri = 1, byte_string = 2 };
/// IDR roles (RFC 6043 §6.6): IDRi, IDRr, IDRkms, IDRpsk, IDRapp.
enum class id_role : uint8_t { initiator = 1, responder = 2, kms = 3, psk = 4, app = 5 };
/// CERT types (§6.7): X.509v3, X.509v3 URL, X.509v3 Sign, X.509v3 Encr.
enum class cert_type : uint8_t { x509v3 = 0, x509v3_url = 1, x509v3_sign = 2, x509v3_encr = 3 };

struct id_payload {
    id_type type = id_type::uri;
    bytes data;
    bool operator==(const id_payload&) const = default;
};
struct idr_payload {
    id_role role = id_role::initiator;
    id_type type = id_type::uri;
    bytes data;
    bool operator==(const idr_payload&) const = default;
};
struct cert_payload {
    cert_type type = cert_type::x509v3;
    bytes data; ///< DER for the X.509v3 types, the URL otherwise
    bool operator==(const cert_payload&) const = default;
};
/// CHASH: hash of the certificate the initiator used to encrypt the envelope key (§6.8).
struct chash_payload {
    hash_func func = hash_func::sha1;
    bytes hash; ///< 20 octets (SHA-1) or 16 (MD5)
    bool operator==(const chash_payload&) const = default;
};

} // namespace srtpo::cp::mikey
