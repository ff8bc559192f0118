#pragma once
// The [sip] section of srtpo-cp's TOML configuration (docs/sip-b2bua.md): where the B2BUA
// listens, its TLS material and policy, RFC 3261 timers, transport limits, and the route table
// that picks the next hop of leg B by the request-URI's domain.
//
//   [sip]
//   enabled = true
//   default_next_hop = "sip:127.0.0.1:5070;transport=tcp"   # optional
//   [[sip.listen]]
//   transport = "tls"          # tls (default), tcp or udp
//   address = "0.0.0.0"
//   port = 5061                # default 5061 for tls, 5060 otherwise
//   advertise = "192.0.2.1"    # optional: host put in Via/Contact (default: address)
//   [sip.tls]
//   cert = "/etc/srtpo/sip.crt"  key = "/etc/srtpo/sip.key"  # key file must be mode 0600
//   ca = "/etc/srtpo/ca.crt"     verify_client = false  verify_server = true  verify_hostname = true
//   min_version = "1.2"          ciphers = "..." (TLS 1.2)  ciphersuites = "..." (TLS 1.3)
//   [sip.timers]   t1_ms = 500  t2_ms = 4000  t4_ms = 5000
//   [sip.limits]   max_message = 65535  max_connections = 1024  max_connections_per_source = 32
//                  idle_timeout_s = 600  max_calls = 10000
//   [[sip.route]]
//   domain = "example.com"  next_hop = "sip:10.0.0.2:5061;transport=tls"
//   a_keying = "same"  b_keying = "sdes"  a_suites = []  b_suites = ["AES_CM_128_HMAC_SHA1_80"]
//
// Thread-safety: value types and pure functions.

#include <srtpo/cp/call/media_handler.hpp>
#include <srtpo/engine/result.hpp>

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace srtpo::cp::b2bua {

/// RFC 3261 §18 transports srtpo-cp speaks.
enum class transport_kind : uint8_t { udp, tcp, tls };
std::string_view to_string(transport_kind t) noexcept;  ///< "udp", "tcp", "tls"
std::string_view via_name(transport_kind t) noexcept;   ///< "UDP", "TCP", "TLS" (Via, §20.42)
bool is_stream(transport_kind t) noexcept;              ///< TCP and TLS: reliable, framed

/// `sip:host:port;transport=tls|tcp|udp` (the port defaults to 5061 for TLS, 5060 otherwise).
struct hop {
    transport_kind transport = transport_kind::tls;
    std::string host;
    uint16_t port = 5061;
    std::string to_uri() const;
};
/// Errors (invalid_argument): not a sip:/sips: URI, bad port, unknown transport.
engine::result<hop> parse_hop(std::string_view uri);

struct listen_spec {
    transport_kind transport = transport_kind::tls;
    std::string address = "0.0.0.0";
    uint16_t port = 5061;
    std::string advertise; ///< host in Via/Contact; empty = address
};

struct tls_settings {
    std::string cert, key, ca;
    bool verify_client = false;   ///< server side: require and verify a client certificate against `ca`
    bool verify_server = true;    ///< client side: verify the next hop's certificate against `ca`
    bool verify_hostname = true;  ///< client side: and its name (off for lab use)
    std::string min_version = "1.2"; ///< "1.2" or "1.3"
    std::string ciphers;          ///< TLS 1.2 cipher list (OpenSSL syntax); empty = OpenSSL default
    std::string ciphersuites;     ///< TLS 1.3 ciphersuites; empty = OpenSSL default
};

struct sip_limits {
    std::size_t max_message = 65535;             ///< one SIP message, headers + body
    std::size_t max_connections = 1024;          ///< TCP+TLS connections in total
    std::size_t max_connections_per_source = 32; ///< per peer IP address
    std::chrono::seconds idle_timeout{600};      ///< a connection without traffic is closed
    std::size_t max_calls = 10000;               ///< more: 503 with Retry-After
};

struct route {
    std::string domain;          ///< request-URI host, compared case-insensitively
    hop next_hop;
    call::leg_policy a_policy;   ///< keying of the SDP we send to the caller
    call::leg_policy b_policy;   ///< keying of the SDP we send to the next hop
};

struct sip_config {
    bool enabled = false; ///< true when a [sip] section exists (unless enabled = false)
    std::vector<listen_spec> listen;
    tls_settings tls;
    std::chrono::milliseconds t1{500}, t2{4000}, t4{5000};
    sip_limits limits;
    std::vector<route> routes;
    std::optional<route> default_route; ///< from default_next_hop (+ default_a/b_keying)
    std::string user_agent = "srtpo-cp";
};

/// Parses a [sip] TOML table; `where` prefixes error messages ("sip"). Unknown keys are errors.
/// Errors (invalid_argument) name the key and what would be right.
engine::result<sip_config> parse_sip_config(const toml::table& sip);

/// Picks the route for a request-URI host: exact domain match, else the default; nullptr when
/// neither exists. Thread-safety: pure.
const route* find_route(const sip_config& c, std::string_view host) noexcept;

} // namespace srtpo::cp::b2bua
