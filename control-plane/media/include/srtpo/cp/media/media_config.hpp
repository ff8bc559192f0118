#pragma once
// Configuration of srtpo-cp's media-path keying (docs/media-path.md): the [dtls] and [zrtp]
// sections of srtpo-cp's TOML file. Every key is optional; the defaults are below.
//
//   [dtls]
//   certificate = "/var/lib/srtpo/dtls-cert.pem"  # created 0600 on first start with the key
//   private_key = "/var/lib/srtpo/dtls-key.pem"
//   profiles = ["AEAD_AES_128_GCM", "AEAD_AES_256_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
//   profile_selection = "server"    # "server": our order wins when we are the DTLS server; "client"
//   initial_retransmit_ms = 400     # RFC 6347 §4.2.4.1 timer, doubled per retransmission ...
//   backoff = 2
//   max_retransmit_ms = 8000        # ... up to this
//   handshake_timeout_ms = 20000    # whole handshake; on_failed after it
//   mtu = 1200                      # largest DTLS datagram we send (fragmentation below it)
//   max_handshakes_per_source = 8   # concurrent handshakes one source address may run
//   max_handshakes = 4096           # all sources together
//   [zrtp]
//   cache = "/var/lib/srtpo/zrtp-zid.cache"        # retained secrets, 0600, HMAC-protected
//   cache_key = "/var/lib/srtpo/zrtp-zid.key"      # the HMAC key, 0600
//   hashes = ["S256", "S384"]            # RFC 6189 §5.1.2..§5.1.6 words, preference order
//   ciphers = ["AES1", "AES3"]
//   auth_tags = ["HS32", "HS80"]
//   key_agreements = ["X255", "DH3k", "EC25", "X448", "EC38", "DH2k"]
//   sas_types = ["B32", "B256"]
//   t1_initial_ms = 50, t1_cap_ms = 200, t1_max_retransmissions = 20   # §6 Hello timer
//   t2_initial_ms = 150, t2_cap_ms = 1200, t2_max_retransmissions = 10 # §6 other messages
//   handshake_timeout_ms = 20000
//   client_id = "srtp-offload"

#include <srtpo/cp/dtls/endpoint.hpp>
#include <srtpo/cp/zrtp/endpoint.hpp>
#include <srtpo/engine/result.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace srtpo::cp::media {

struct dtls_settings {
    std::string certificate = "/var/lib/srtpo/dtls-cert.pem";
    std::string private_key = "/var/lib/srtpo/dtls-key.pem";
    std::vector<engine::suite> profiles = dtls::default_profiles();
    dtls::profile_selection selection = dtls::profile_selection::server_preference;
    dtls::timer_config timers;
    uint16_t mtu = 1200;
    std::size_t max_handshakes_per_source = 8;
    std::size_t max_handshakes = 4096;
};

struct zrtp_settings {
    std::string cache = "/var/lib/srtpo/zrtp-zid.cache";
    std::string cache_key = "/var/lib/srtpo/zrtp-zid.key";
    /// Algorithm preferences, T1/T2 timers, handshake timeout and client id of every ZRTP leg;
    /// the keyer sets a random ssrc and the peer's a=zrtp-hash per leg.
    zrtp::endpoint_config exchange;
};

/// Thread-safety: a value type.
struct media_config {
    dtls_settings dtls;
    zrtp_settings zrtp;
};

/// Reads the [dtls] and [zrtp] sections of srtpo-cp's TOML configuration text (other sections
/// are not looked at: config.cpp owns them; unknown keys inside these two are errors, as there).
/// `source` names the file in messages ("cp.toml: dtls.mtu: must be an integer 256..9000").
/// Errors: invalid_argument (syntax errors with line:column). Thread-safe, pure.
engine::result<media_config> parse_media_config(std::string_view toml_text, const std::string& source);

} // namespace srtpo::cp::media
