#pragma once
// Typed views of the header values a B2BUA reads and writes: Via (RFC 3261 §20.42, §18.2.1
// received, RFC 3581 rport), name-addr / addr-spec with parameters (From, To, Contact, Route,
// Record-Route: §20.10, §20.20, §20.39, §25.1), CSeq (§20.16), generic parameters (§25.1).
// Parsers take one value (one element of a list header, see message::header_values).
// Thread-safety: every function here is pure (no shared state). Ownership: inputs are read
// during the call only; results own their strings.

#include <srtpo/cp/sip/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::sip {

/// generic-param = token [ EQUAL gen-value ] (RFC 3261 §25.1). A quoted value keeps its quotes.
struct generic_param {
    std::string name;
    std::optional<std::string> value;
};

/// Finds a parameter by name (case-insensitive, RFC 3261 §7.3.1). nullptr when absent.
const generic_param* find_param(const std::vector<generic_param>& ps, std::string_view name) noexcept;
/// Sets (or adds) a parameter.
void set_param(std::vector<generic_param>& ps, std::string_view name, std::optional<std::string> value);

/// One Via value: SIP/2.0/<transport> <host>[:<port>] *(;param).
struct via {
    std::string transport;            ///< upper case: UDP, TCP, TLS, SCTP, WS, WSS
    std::string host;                 ///< IPv6 references keep their brackets
    std::optional<uint16_t> port;
    std::vector<generic_param> params;

    /// The branch parameter, empty when absent. RFC 3261 §8.1.1.7: "z9hG4bK" magic cookie.
    std::string_view branch() const noexcept;
};

/// Parses one Via value. Errors (invalid_argument): protocol not SIP/2.0, empty transport,
/// missing or bad host, port not 1..65535, malformed parameter. Thread-safety: pure.
result<via> parse_via(std::string_view value);
/// Serializes a Via value. Thread-safety: pure.
std::string to_string(const via& v);

/// What a server does to the top Via of a request it received from `source_ip`:`source_port`
/// (RFC 3261 §18.2.1: add received= when sent-by's host differs from the packet's source;
/// RFC 3581 §4: fill an empty rport with the source port, and then always add received=).
void stamp_via_source(via& v, std::string_view source_ip, uint16_t source_port);

/// name-addr or addr-spec with header parameters: `"Alice" <sip:a@x>;tag=1` or `sip:a@x;tag=1`.
/// For an addr-spec form, ';' parameters belong to the header (RFC 3261 §20.10), which is why
/// URIs with parameters are always serialized in angle brackets.
struct name_addr {
    std::string display;              ///< display-name as received (quoted string keeps quotes)
    std::string uri;                  ///< the URI, without angle brackets
    std::vector<generic_param> params;

    std::string_view tag() const noexcept; ///< the tag parameter (RFC 3261 §19.3), or empty
};

/// Parses a name-addr / addr-spec (also "*" for a Contact: uri "*"). Errors (invalid_argument):
/// unbalanced '<' or quotes, empty URI, URI without scheme, malformed parameter.
result<name_addr> parse_name_addr(std::string_view value);
std::string to_string(const name_addr& n);

/// CSeq: 1*DIGIT LWS Method; the number is < 2^31 (RFC 3261 §8.1.1.5).
struct cseq {
    uint32_t number = 0;
    std::string method;
};
result<cseq> parse_cseq(std::string_view value);
std::string to_string(const cseq& c);

/// Splits a list header value at top-level commas (outside quotes and angle brackets), trimming
/// each element. Views into `value`. Thread-safety: pure.
std::vector<std::string_view> split_list(std::string_view value);

/// Trims SP/HTAB at both ends. Thread-safety: pure.
std::string_view trim(std::string_view s) noexcept;

/// The URI's host part and port for sip:/sips: URIs (RFC 3261 §19.1.1): what a B2BUA routes on.
struct uri_host {
    std::string scheme; ///< lower-cased "sip" or "sips"
    std::string user;
    std::string host;
    std::optional<uint16_t> port;
    std::vector<generic_param> params; ///< uri-parameters (transport=, lr, ...)
};
/// Errors (invalid_argument): not sip/sips, empty host, bad port. Thread-safety: pure.
result<uri_host> parse_sip_uri(std::string_view uri);

} // namespace srtpo::cp::sip
