#pragma once
// Private: what the initiator and the responder share — MAC and SIGN finishing of a message,
// the mapping from agreed keys to crypto sessions, and the payload checks both sides make.

#include <srtpo/cp/mikey/exchange.hpp>

#include <optional>
#include <span>
#include <vector>

namespace srtpo::cp::mikey::detail {

inline failure fail(error_no e, std::string m) { return failure{e, std::move(m)}; }

/// Encodes m, whose last payload is a KEMAC or V with a zeroed 20-octet MAC, then computes the
/// HMAC-SHA-1 over every octet before that MAC followed by `suffix` and writes it in place.
engine::result<bytes> encode_with_mac(const message& m, std::span<const uint8_t> auth_key,
                                      std::span<const uint8_t> suffix = {});
/// Encodes m followed by a SIGN payload made with `key` over every octet before the signature.
engine::result<bytes> encode_with_sign(message m, const signer& key);
/// PK mode (§3.2): m holds a KEMAC with a zeroed MAC somewhere before its end. Encodes m with
/// a SIGN, writes the KEMAC MAC (over every octet before it), then signs the whole.
engine::result<bytes> encode_with_mac_and_sign(message m, std::span<const uint8_t> auth_key, const signer& key);

/// The suffix the V MAC covers after the R_MESSAGE: IDi || IDr || T of the I_MESSAGE (RFC 3830
/// §5.2), each as its data field (ID data, TS value); an absent ID contributes nothing.
bytes verification_suffix(const message& i_msg);

/// Where the crypto sessions' keys come from.
struct key_source {
    std::span<const uint8_t> tgk;          ///< derive per crypto session (§4.1.3), or
    const std::vector<key_data>* keys = nullptr; ///< TEK+SALT: one for all, or one per session
};
/// One crypto_session per map entry (or one for the Empty map), keyed and with the policy its
/// SP payload states. On failure returns the ERR to send (Invalid SP / SPpar, Unspecified).
std::optional<failure> build_sessions(const message& m, const key_source& src, std::span<const uint8_t> rand,
                                      std::vector<crypto_session>& out);

/// The SP payloads of m must all be SRTP policies the engine can run; maps errors to ERR codes.
std::optional<failure> check_policies(const message& m);

/// The ID data of the first ID payload (or IDR with the given role), or empty.
bytes id_of(const message& m, id_role role);

} // namespace srtpo::cp::mikey::detail
