#pragma once
// The flows file (--flows FILE.toml): which local address:port carries which media, and what to
// do with it. Control path only: errors are result<T> whose messages name the flow index and the
// field ("flow[2].in.key: ...") and never contain key material.
//
//   [[flow]]
//   match = "192.0.2.2:5006"            # local address:port packets arrive on (UDP destination)
//   in  = { suite = "AES_CM_128_HMAC_SHA1_80", key = "inline-base64" }  # absent: plain RTP arrives
//   out = { suite = "AEAD_AES_128_GCM", key = "inline-base64" }         # absent: plain RTP leaves
//   authenticate_only = false   # verify tag + replay with `in`, forward the packet unchanged
//   send_from = "203.0.113.1:40000"     # optional: new source address:port
//   send_to   = "198.51.100.7:7000"     # optional: new destination address:port
//   next_hop_mac = "02:00:5e:10:00:01"  # optional: destination MAC of what is sent (next_hop.hpp)
//
// Extensions (optional keys of `in`/`out`): window (replay window, default 128), roc (initial
// ROC, default 0), max_streams (SSRCs per session, default 64).
//
// A flow matching port P also carries RTCP on P + 1 (RFC 3550 §11) unless another flow matches
// P + 1 explicitly; RTCP multiplexed on P (RFC 5761) is told apart by its payload type.
// No DPDK here: this file is testable and usable without the pmd.

#include "next_hop.hpp"

#include <srtpo/engine/result.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::pmd {

struct endpoint {
    net::ip_address addr;
    uint16_t port = 0;
};

enum class action : uint8_t {
    forward,      ///< neither in nor out: plain RTP in, plain RTP out (address rewrite only)
    unprotect,    ///< in only
    protect,      ///< out only
    transcrypt,   ///< in and out: unprotect with in, protect with out (own index and ROC)
    authenticate, ///< authenticate_only: verify with in, forward the original bytes
};

std::string_view to_string(action a) noexcept;

struct flow {
    endpoint match;
    action act = action::forward;
    engine::session_ptr in;  ///< direction::unprotect; set for unprotect, transcrypt, authenticate
    engine::session_ptr out; ///< direction::protect; set for protect, transcrypt
    std::optional<endpoint> send_from, send_to;
    std::optional<mac_address> next_hop_mac;
    std::string label;       ///< "flow[0] 192.0.2.2:5006" for stats; no key material
};

/// Parses "192.0.2.1:5004" or "[2001:db8::1]:5004" (port 1..65535, no wildcards).
engine::result<endpoint> parse_endpoint(std::string_view text);
std::string to_string(const endpoint& e);

/// Parses the TOML text of a flows file; `source` names it in error messages.
engine::result<std::vector<flow>> parse_flows(std::string_view toml_text, const std::string& source);
/// Reads and parses a flows file. Errors: io_error, or those of parse_flows.
engine::result<std::vector<flow>> load_flows(const std::string& path);

} // namespace srtpo::pmd
