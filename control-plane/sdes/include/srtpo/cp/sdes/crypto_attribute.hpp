#pragma once
// The SDES crypto attribute (RFC 4568 §9.1):
//
//   a=crypto:<tag> 1*WSP <crypto-suite> 1*WSP <key-params> *(1*WSP <session-param>)
//   key-params    = key-param *(";" key-param)          ; several keys need an MKI each (§6.1)
//   session-param = "KDR=" 1*2DIGIT | "UNENCRYPTED_SRTP" | "UNENCRYPTED_SRTCP" |
//                   "UNAUTHENTICATED_SRTP" | "FEC_ORDER=" ("FEC_SRTP" | "SRTP_FEC") |
//                   "FEC_KEY=" key-params | "WSH=" 2*DIGIT | ["-"] 1*VCHAR (extension)
//
// Each key-param's inline: value is parsed by engine::parse_sdes_inline. Parsing is strict and
// every error names the field, never the key.

#include <srtpo/engine/result.hpp>
#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::sdes {

using engine::errc;
using engine::error;
using engine::result;

/// FEC_ORDER (RFC 4568 §6.3): whether FEC is applied before or after SRTP.
enum class fec_order : uint8_t { fec_srtp, srtp_fec };

/// SRTP session parameters (RFC 4568 §6.3).
struct session_params {
    std::optional<unsigned> kdr;        ///< KDR=n: key derivation rate 2^n (§6.3.1), 0..24
    bool unencrypted_srtp = false;      ///< RFC 4568 §6.3
    bool unencrypted_srtcp = false;     ///< RFC 4568 §6.3
    bool unauthenticated_srtp = false;  ///< RFC 4568 §6.3
    std::optional<fec_order> fec;       ///< RFC 4568 §6.3
    std::vector<engine::sdes_key_params> fec_keys; ///< FEC_KEY (§6.3)
    std::optional<uint32_t> wsh;        ///< window size hint, >= 64 (§6.3)
    std::vector<std::string> mandatory_extensions; ///< unknown params without '-' (§9.1 srtp-session-extension)
    std::vector<std::string> ignorable_extensions; ///< unknown params with a leading '-'
};

/// One a=crypto line. Thread-safety: a value type. Ownership: owns key material (keys wipe
/// themselves).
struct crypto_attribute {
    uint32_t tag = 0;                      ///< 1..999999999 (1*9DIGIT)
    std::string suite_name;                ///< as received
    std::optional<engine::suite> suite;    ///< nullopt for a suite this build does not know
    std::vector<engine::sdes_key_params> keys; ///< empty when the suite is unknown
    session_params params;
};

/// Parses the value of an a=crypto attribute (the text after "a=crypto:").
/// Errors, each naming the field (never the key):
///  - invalid_argument: tag not 1*9 digits, suite name not [A-Z0-9_]+, missing key-params,
///    a key-param parse error (from parse_sdes_inline: method, base64, lifetime, MKI), several
///    keys without an MKI on each or with MKIs of different lengths or repeated values,
///    malformed KDR (not 0..24), FEC_ORDER, FEC_KEY, WSH (not >= 64), a session parameter
///    given twice;
///  - bad_key_length: a key whose length is not the suite's key+salt length (RFC 4568 §6.2).
/// An unknown suite is not an error (the attribute is returned with suite == nullopt and no
/// keys), so an offer mixing known and unknown suites can still be answered (§7.1.2).
/// Thread-safety: pure. Ownership: `value` holds a key in base64: the caller wipes its copy.
result<crypto_attribute> parse_crypto(std::string_view value);

/// Serializes to the attribute value ("<tag> <suite> inline:...[;inline:...] [params]"), to be
/// written as "a=crypto:" + value. Errors: as encode_sdes_inline (bad key, lifetime, MKI).
/// Ownership: the string holds key material; the caller wipes it (OPENSSL_cleanse).
/// Thread-safety: pure.
result<std::string> serialize_crypto(const crypto_attribute& a);

} // namespace srtpo::cp::sdes
