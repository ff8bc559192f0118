#pragma once
// A flow as the control API carries it: the same fields as srtpo-pmd's flows file
// (docs/pmd.md), in JSON. One flow is what arrives on one local address:port and what to do with
// it:
//
//   {"match": "192.0.2.2:5006",
//    "in":  {"suite": "AES_CM_128_HMAC_SHA1_80", "key": "inline:BASE64|2^31|1:4", "window": 128, "roc": 0},
//    "out": {"suite": "AEAD_AES_128_GCM", "key": "BASE64"},
//    "authenticate_only": false, "rtcp_mux": false,
//    "send_from": "203.0.113.1:40000", "send_to": "198.51.100.7:7000", "rekey_grace_ms": 2000}
//
// in only: unprotect; out only: protect; both: transcrypt; neither: forward (address rewrite);
// authenticate_only: verify with `in`, forward unchanged. RTCP arrives on port + 1 (RFC 3550 §11)
// unless rtcp_mux (RFC 5761), then on the port itself.
//
// Parsing validates every field and says which one is wrong; it never puts key material in a
// message. Thread-safety: pure functions over their arguments.

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/table/slot.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp::api {

inline constexpr uint16_t default_replay_window = 128;

/// One keyed side of a flow. `key_salt` holds the master key || salt; it is empty for a flow that
/// srtpo-cp recovered from the table after a restart (the table carries derived keys only).
struct leg_spec {
    engine::suite suite = engine::suite::aes_cm_128_hmac_sha1_80;
    engine::key_salt_buffer key_salt;
    std::vector<std::byte> mki;       ///< 0..table::max_slot_mki_len octets
    uint64_t mki_value = 0;           ///< the SDES decimal MKI value (for display)
    uint64_t lifetime = 0;            ///< packets, 0 = RFC 3711 maximum
    uint16_t window = default_replay_window; ///< replay window (in leg)
    uint32_t roc = 0;                 ///< initial ROC (RFC 4568 §7.1.4 / MIKEY CS map)
    bool unencrypted_srtp = false;    ///< RFC 4568 §6.3.3
    bool unencrypted_srtcp = false;
    bool unauthenticated_srtp = false; ///< RFC 4568 §6.3.4
};

struct flow_spec {
    table::endpoint match;
    bool rtcp_mux = false;
    std::optional<leg_spec> in, out;
    bool authenticate_only = false;
    std::optional<table::endpoint> send_from, send_to;
    std::optional<uint16_t> rekey_grace_ms; ///< absent: the daemon's configured default
};

/// What the pmd does with the flow (the table's leg_action).
table::leg_action action_of(const flow_spec& f) noexcept;

/// Parses a flow object. `field` prefixes error fields ("flows[2]"). With `keys_required` (add)
/// each leg needs "key"; otherwise (update) a leg without "key" means "keep the current keys".
/// Errors: bad_request (wrong type, unknown field, missing field), invalid_argument (address,
/// base64 and SDES key-param syntax, window 64..32768, authenticate_only without in or with out),
/// unknown_suite, bad_key_length, unsupported (MKI over 16 octets, UNAUTHENTICATED_SRTP with an
/// AEAD suite). Ownership: the caller should wipe its copy of the JSON, which holds keys in base64.
api_result<flow_spec> parse_flow(const nlohmann::json& j, const std::string& field, bool keys_required = true);

/// Parses one leg ("in"/"out" object). Same errors as parse_flow.
api_result<leg_spec> parse_leg(const nlohmann::json& j, const std::string& field, bool key_required);

/// JSON of a flow. Keys appear only with `reveal_keys` (as SDES inline: key-params), and as
/// "key_available": false for legs whose master key srtpo-cp does not hold.
nlohmann::json to_json(const flow_spec& f, bool reveal_keys);

} // namespace srtpo::cp::api
