#pragma once
// The [media] section of srtpo-cp's TOML configuration (docs/calls.md#configuration): where the
// call engine anchors media and how it keys the SDP it generates.
//
//   [media]
//   address = "192.0.2.10"          # srtp-offload's media address (IPv4 or IPv6), required for calls
//   port_min = 30000                # media port range (RTP even, RTCP odd: RFC 3550 §11)
//   port_max = 39999
//   suites = ["AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
//   replay_window = 128             # SRTP replay window of the flows a call installs
//   mikey_psk_file = "/etc/srtpo/mikey.psk"   # MIKEY pre-shared key, hex, mode 0600 (RFC 3830 §3.1)
//   mikey_identity = "sip:sbc@example.net"    # our MIKEY ID (IDi/IDr), optional
//   mikey_peer_identity = ""                  # when set, the peer's MIKEY ID must equal it
//   mikey_verify = true             # ask for the verification message when we initiate (§3.1 V flag)
//   mikey_allow_null = false        # accept NULL-encrypted / NULL-MAC PSK messages (GStreamer's)
//   mikey_mode = "psk"              # our MIKEY offers: psk (§3.1), dhhmac (RFC 4650), dh (§3.3), pk (§3.2)
//   mikey_key_file = "/etc/srtpo/mikey.key"   # our RSA key, PEM, mode 0600 (dh, pk: signing, PKE)
//   mikey_cert_file = "/etc/srtpo/mikey.crt"  # its certificate, PEM (sent in CERT)
//   mikey_trust_file = "/etc/srtpo/mikey-peers.pem"  # CAs or pinned peer certificates (dh, pk)
//   mikey_peer_cert_file = "/etc/srtpo/peer.crt"     # pk offers: the responder's certificate
//   mikey_dh_group = 5              # dh, dhhmac offers: Oakley group 5, 1 or 2 (RFC 3830 §6.4)
//
// Parsed here rather than in control-plane/cp/config.cpp so the call engine owns its settings;
// config.cpp accepts the section and leaves it to this parser.

#include <srtpo/cp/mikey/bytes.hpp>
#include <srtpo/cp/mikey/constants.hpp>
#include <srtpo/cp/mikey/exchange.hpp>
#include <srtpo/cp/mikey/pki.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/engine/suite.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::call {

struct media_config {
    bool enabled = false;            ///< a [media] section with an address was given
    std::string addrtype = "IP4";    ///< IP4 or IP6 (RFC 8866 §5.7)
    std::string address;             ///< the media address advertised in c=
    uint16_t port_min = 30000;
    uint16_t port_max = 39999;
    /// Suite preference for SDES answers and offers, most preferred first.
    std::vector<engine::suite> suites{engine::suite::aead_aes_256_gcm, engine::suite::aead_aes_128_gcm,
                                      engine::suite::aes_cm_128_hmac_sha1_80, engine::suite::aes_cm_128_hmac_sha1_32};
    uint16_t replay_window = 128;
    /// MIKEY (RFC 3830 PSK mode in SDP, RFC 4567): the key from mikey_psk_file (empty: MIKEY
    /// offers are refused and only NULL-protected messages can be answered, if allowed).
    mikey::secret_bytes mikey_psk;
    std::string mikey_identity, mikey_peer_identity;
    bool mikey_verify = true;
    bool mikey_allow_null = false;
    /// The mode of the MIKEY offers srtpo-cp makes; answers take every mode our keys allow:
    /// PSK and DHHMAC with mikey_psk, DH and PK with mikey_own_key and mikey_trust.
    mikey::mode mikey_mode = mikey::mode::psk;
    std::shared_ptr<const mikey::signer> mikey_own_key;  ///< mikey_key_file + mikey_cert_file
    std::shared_ptr<const mikey::trust_store> mikey_trust; ///< mikey_trust_file
    mikey::bytes mikey_peer_cert;                        ///< mikey_peer_cert_file, DER
    mikey::dh_group mikey_dh_group = mikey::dh_group::oakley5;
};

/// Parses the [media] section of a whole srtpo-cp TOML document (other sections are ignored:
/// config.cpp checks them), and reads mikey_psk_file (mikey::load_psk_file: hex, 0600) and the
/// MIKEY key, certificate and trust files (mikey::signer: the key file 0600). A mikey_mode whose
/// secrets are not configured is refused here, naming the missing key.
/// No [media] section gives a disabled config. Errors (invalid_argument, io_error for the PSK
/// file) name the key: "media.address: '...' is not an IPv4 or IPv6 address", "media.suites[2]: unknown
/// suite 'X'", "media.port_min/port_max: ...". Thread-safety: reentrant.
engine::result<media_config> parse_media_config(std::string_view toml_text, const std::string& source);
/// Reads `path` and parses its [media] section. Errors: io_error, or those of parse_media_config.
engine::result<media_config> load_media_config(const std::string& path);

/// Parses a list of SDES suite names ("AES_CM_128_HMAC_SHA1_80", ...). Errors: invalid_argument
/// naming `field` and the unknown name. Thread-safety: pure.
engine::result<std::vector<engine::suite>> parse_suite_names(const std::vector<std::string>& names, const std::string& field);

} // namespace srtpo::cp::call
