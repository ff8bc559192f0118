#pragma once
// Which session a captured packet belongs to: one default session, or rules from a --streams file
// matching on UDP destination/source address:port and/or SSRC (first match wins).

#include <srtpo/engine/result.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <optional>
#include <string>
#include <vector>

namespace srtpo::tools {

/// One keying rule. Absent fields match anything.
struct flow_rule {
    std::optional<net::ip_address> dst_addr, src_addr;
    std::optional<uint16_t> dst_port, src_port;
    std::optional<uint32_t> ssrc;
    engine::session_ptr session;
};

/// Keying as given on the command line or in a --streams file.
struct key_spec {
    std::string suite;   ///< SDES name
    std::string inline_key; ///< SDES inline key-params: base64[|lifetime][|MKI:len]
    uint32_t roc = 0;
    uint32_t window = 128;
    engine::backend_kind backend = engine::default_backend();
};

/// Builds a session from a key spec; errors name the field and never echo the key.
engine::result<engine::session_ptr> make_session_from(const key_spec& k, engine::direction dir);

/// Parses an "addr:port" ("192.0.2.1:5004", "[2001:db8::1]:5004", "*:5004").
engine::result<std::pair<std::optional<net::ip_address>, std::optional<uint16_t>>> parse_endpoint(const std::string& s);

/// Reads a --streams file: a JSON array of objects with "suite", "key" and optional "dst", "src",
/// "ssrc" (number or "0x…" string), "roc", "window".
engine::result<std::vector<flow_rule>> load_streams(const std::string& path, const key_spec& defaults, engine::direction dir);

class flow_keys {
public:
    std::vector<flow_rule> rules; ///< tried in order; the last may match everything
    engine::session_rt* find(const net::udp_frame& f, uint32_t ssrc) const noexcept;
};

} // namespace srtpo::tools
