#pragma once
// MIKEY code points: names and values from the IANA "Multimedia Internet KEYing (MIKEY) Payload
// Name Spaces" registry (RFC 3830 §6, RFC 4563 empty map, RFC 4650 DHHMAC, RFC 4738 RSA-R,
// RFC 6043 IDR, RFC 7714 AEAD tag length). Every enum keeps the wire value; a value the codec
// does not know is refused at decode time with a message naming the field.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace srtpo::cp::mikey {

inline constexpr uint8_t mikey_version = 1; ///< RFC 3830 §6.1: "version: 1"

/// HDR data type (RFC 3830 §6.1, RFC 4650 §5.1, RFC 4738 §5.1).
enum class data_type : uint8_t {
    psk_init = 0, psk_resp = 1, pk_init = 2, pk_resp = 3, dh_init = 4, dh_resp = 5, error = 6,
    dhhmac_init = 7, dhhmac_resp = 8, rsa_r_init = 9, rsa_r_resp = 10,
};
/// Payload type, the values of the "next payload" fields (RFC 3830 §6.1, RFC 6043 §6.6 IDR).
enum class payload_type : uint8_t {
    last = 0, kemac = 1, pke = 2, dh = 3, sign = 4, t = 5, id = 6, cert = 7, chash = 8, v = 9,
    sp = 10, rand = 11, err = 12, idr = 14, key_data = 20, general_ext = 21,
};
enum class prf_func : uint8_t { mikey_1 = 0 };                   ///< RFC 3830 §6.1
enum class cs_id_map_type : uint8_t { srtp_id = 0, empty = 1 };  ///< RFC 3830 §6.1.1, RFC 4563 §4
enum class encr_alg : uint8_t { null = 0, aes_cm_128 = 1, aes_kw_128 = 2 }; ///< KEMAC, §6.2
enum class mac_alg : uint8_t { null = 0, hmac_sha1_160 = 1 };    ///< KEMAC and V, §6.2, §6.9
enum class ts_type : uint8_t { ntp_utc = 0, ntp = 1, counter = 2 }; ///< §6.6
enum class key_data_type : uint8_t { tgk = 0, tgk_salt = 1, tek = 2, tek_salt = 3 }; ///< §6.13
enum class kv_type : uint8_t { null = 0, spi = 1, interval = 2 };  ///< §6.13
/// DH-Group (§6.4): the values are MIKEY's own, not the IKE group numbers they name.
enum class dh_group : uint8_t { oakley5 = 0, oakley1 = 1, oakley2 = 2 };
enum class sign_type : uint8_t { rsa_pkcs1_v1_5 = 0, rsa_pss = 1 }; ///< §6.5
enum class hash_func : uint8_t { sha1 = 0, md5 = 1 };             ///< CHASH, §6.8
enum class prot_type : uint8_t { srtp = 0 };                      ///< SP, §6.10
enum class pke_cache : uint8_t { none = 0, always = 1, for_csb = 2 }; ///< PKE C field, §6.3

/// SRTP policy parameter types (RFC 3830 §6.10.1, RFC 7714 §14.3 for type 20).
enum class srtp_param : uint8_t {
    encr_alg = 0, encr_key_len = 1, auth_alg = 2, auth_key_len = 3, salt_key_len = 4, prf = 5,
    kdr = 6, srtp_encr = 7, srtcp_encr = 8, fec_order = 9, srtp_auth = 10, auth_tag_len = 11,
    srtp_prefix_len = 12, aead_auth_tag_len = 20,
};
/// Values of the SRTP "Encryption algorithm" parameter (§6.10.1 table; AES-GCM from RFC 7714).
enum class srtp_encr : uint8_t { null = 0, aes_cm = 1, aes_f8 = 2, aes_gcm = 4 };
enum class srtp_auth : uint8_t { null = 0, hmac_sha1 = 1 };

/// ERR payload error numbers (RFC 3830 §6.12).
enum class error_no : uint8_t {
    auth_failure = 0, invalid_ts = 1, invalid_prf = 2, invalid_mac = 3, invalid_ea = 4,
    invalid_ha = 5, invalid_dh = 6, invalid_id = 7, invalid_cert = 8, invalid_sp = 9,
    invalid_sppar = 10, invalid_dt = 11, unspecified = 12,
};

/// RFC names of the code points, for the decoder's text and JSON. "?" for a value without one.
/// Thread-safe (constant data).
std::string_view name_of(data_type v) noexcept;
std::string_view name_of(payload_type v) noexcept;
std::string_view name_of(encr_alg v) noexcept;
std::string_view name_of(mac_alg v) noexcept;
std::string_view name_of(ts_type v) noexcept;
std::string_view name_of(key_data_type v) noexcept;
std::string_view name_of(kv_type v) noexcept;
std::string_view name_of(dh_group v) noexcept;
std::string_view name_of(error_no v) noexcept;
std::string_view name_of(srtp_param v) noexcept;

/// Octets of the MAC a MAC algorithm produces (§6.2): 0 for NULL, 20 for HMAC-SHA-1-160.
constexpr std::size_t mac_len(mac_alg a) noexcept { return a == mac_alg::hmac_sha1_160 ? 20 : 0; }
/// Octets of a DH value for a group (§6.4): the modulus size.
constexpr std::size_t dh_value_len(dh_group g) noexcept {
    return g == dh_group::oakley5 ? 192 : g == dh_group::oakley1 ? 96 : 128;
}

} // namespace srtpo::cp::mikey
