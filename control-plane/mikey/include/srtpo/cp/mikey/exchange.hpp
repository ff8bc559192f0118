#pragma once
// MIKEY key exchanges, sans I/O: the initiator builds an I_MESSAGE and checks the response;
// the responder checks an I_MESSAGE and builds the response (or an ERR message). Modes:
//   pre-shared key      RFC 3830 §3.1   I = HDR, T, RAND, [IDi], [IDr], {SP}, KEMAC
//                                       R = HDR, T, [IDr], V                 (when V is asked)
//   Diffie-Hellman      RFC 3830 §3.3   I = HDR, T, RAND, [IDi], CERTi, {SP}, DHi, SIGNi
//                                       R = HDR, T, [IDr], CERTr, IDi, DHr, DHi, SIGNr
//   DH-HMAC             RFC 4650 §3     I = HDR, T, RAND, [IDi], [IDr], {SP}, DHi, KEMAC
//                                       R = HDR, T, [IDr], IDi, DHr, DHi, KEMAC
//   public-key envelope RFC 3830 §3.2   I = HDR, T, RAND, [IDi], CERTi, [IDr], {SP},
//                                           KEMAC(IDi, keys), CHASH, PKE, SIGNi
//                                       R = HDR, T, [IDr], V                 (when V is asked)
//
// Every failure carries the ERR number of RFC 3830 §6.12 and a message without key material.
// The result is one srtp_keying per crypto session of the bundle (one per SSRC in the map).

#include <srtpo/cp/mikey/dh.hpp>
#include <srtpo/cp/mikey/message.hpp>
#include <srtpo/cp/mikey/pki.hpp>
#include <srtpo/cp/mikey/replay_cache.hpp>
#include <srtpo/cp/mikey/srtp_policy.hpp>
#include <srtpo/cp/srtp_keying.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace srtpo::cp::mikey {

enum class mode : uint8_t { psk, dh, dhhmac, pk };

using time_point = std::chrono::system_clock::time_point;

/// Why an exchange failed: the ERR number to send or that the peer sent, and a description.
struct failure {
    error_no err = error_no::unspecified;
    std::string message;
};

/// One keyed crypto session: the SRTP-ID map entry and its keys. keying.local and
/// keying.remote hold the same TEK || salt: in MIKEY a crypto session is one SSRC's stream and
/// whoever sends that SSRC uses its key (RFC 3830 §4.1.3); srtpo-cp picks the direction by SSRC.
struct crypto_session {
    uint8_t cs_id = 1;                ///< 1-based position in the CS ID map
    std::optional<uint32_t> ssrc;     ///< absent with the Empty map (RFC 4563)
    uint8_t policy_no = 0;
    srtp_keying keying;
};

/// What a step of the exchange produced.
struct exchange_result {
    bytes reply;                          ///< message to send back (R_MESSAGE or ERR); may be empty
    std::vector<crypto_session> sessions; ///< non-empty when keys were agreed
    std::optional<failure> error;         ///< set when the exchange failed
    bool ok() const noexcept { return !error && !sessions.empty(); }
};

/// Secrets and identities of one side. psk for PSK and DHHMAC; own_key and trust for DH and
/// PK; peer_cert for the PK initiator (whose key the envelope key is encrypted to).
struct credentials {
    secret_bytes psk;
    bytes own_id;                          ///< sent as ID (URI) when non-empty
    bytes peer_id;                         ///< when non-empty, the peer's ID must equal it
    std::shared_ptr<const signer> own_key; ///< our RSA key and certificate (DH mode)
    std::shared_ptr<const trust_store> trust; ///< whom we accept certificates from (DH, PK)
    bytes peer_cert;                       ///< PK initiator: the responder's certificate, DER
};

/// One stream of the bundle: its SSRC and starting ROC (RFC 3830 §6.1.1).
struct stream_spec {
    uint32_t ssrc = 0;
    uint32_t roc = 0;
};

struct initiator_config {
    mode m = mode::psk;
    credentials cred;
    std::vector<stream_spec> streams;        ///< one crypto session each; 1..255
    srtp_policy policy;                      ///< sent as SP policy 0, used by every stream
    key_data_type transport = key_data_type::tgk; ///< PSK/PK: TGK (TEKs derived per stream, §4.1.3) or TEK+SALT (one key for all)
    encr_alg kemac_encr = encr_alg::aes_cm_128;   ///< PSK: AES-CM-128, or NULL on request (PK: AES-CM-128 always)
    mac_alg kemac_mac = mac_alg::hmac_sha1_160;   ///< PSK: HMAC-SHA-1-160, or NULL on request (no V then)
    bool verification = true;                ///< PSK/PK: set the V flag and wait for R_MESSAGE
    dh_group group = dh_group::oakley5;      ///< DH and DHHMAC
    uint32_t csb_id = 0;                     ///< 0: a random CSB ID
    std::size_t tgk_len = 32;                ///< PSK/PK with TGK: octets of TGK
    bool send_chash = true;                  ///< PK: name the responder certificate used (CHASH, §6.8)
};

/// The initiating side of one exchange.
/// Thread-safety: one object per exchange, used from one thread. Ownership: owns its secrets.
class initiator {
public:
    /// Builds the I_MESSAGE. Errors: invalid_argument (no stream, >255 streams, missing PSK or
    /// key for the mode, a TEK+SALT transport with DH), unknown_suite, backend_failure.
    static engine::result<initiator> start(initiator_config cfg, time_point now);
    const bytes& i_message() const noexcept { return _i_msg; }
    uint32_t csb_id() const noexcept { return _hdr.csb_id; }
    /// False for PSK without the V flag: then keys() is the result at once.
    bool expects_response() const noexcept { return _expect; }
    /// The keys, when no response is expected (PSK without V). Otherwise an error result.
    exchange_result keys() const;
    /// Checks the responder's message (R_MESSAGE or ERR) and derives the keys.
    exchange_result handle_response(std::span<const uint8_t> r_msg, time_point now);

    initiator(initiator&&) noexcept = default;
    initiator& operator=(initiator&&) noexcept = default;
    ~initiator() = default;

private:
    initiator() = default;
    exchange_result psk_sessions() const;
    initiator_config _cfg;
    header _hdr;
    t_payload _t;
    bytes _rand;
    bytes _i_msg;
    secret_bytes _tgk;               ///< PSK: the TGK we sent
    secret_bytes _tek_salt;          ///< PSK: the TEK||salt we sent
    secret_bytes _env_key;           ///< PK: the envelope key
    std::optional<dh_keypair> _dh;
    bool _expect = true;
};

struct responder_config {
    credentials cred;
    replay_cache* replay = nullptr;  ///< required; shared by every responder of srtpo-cp
    bool allow_psk = true, allow_dh = true, allow_dhhmac = true, allow_pk = true;
    /// Accept PSK messages with NULL encryption or NULL MAC (GStreamer sends those). Off by
    /// default: a NULL MAC means anyone can inject keys.
    bool allow_null_encr = false;
    bool allow_null_mac = false;
};

/// The responding side. Thread-safety: not thread-safe (shares the replay cache).
/// Ownership: owns its credentials; the replay cache is borrowed and must outlive it.
class responder {
public:
    explicit responder(responder_config cfg) : _cfg(std::move(cfg)) {}
    /// Checks an I_MESSAGE; on success returns the keys and the R_MESSAGE to send (empty for
    /// PSK without V); on failure an ERR message to send (RFC 3830 §5.1.2) and the failure.
    exchange_result handle(std::span<const uint8_t> i_msg, time_point now);

private:
    responder_config _cfg;
};

/// An ERR message (RFC 3830 §5.1.2: HDR, T, ERR) for a CSB. Thread-safe.
bytes make_error_message(uint32_t csb_id, error_no err, time_point now);

} // namespace srtpo::cp::mikey
