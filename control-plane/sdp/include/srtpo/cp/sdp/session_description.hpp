#pragma once
// SDP (RFC 8866) as an ordered list of lines: the session section and one section per m= line.
// Every line is kept, in order, with its raw value, so serialize(parse(x)) reproduces x (with
// CRLF line ends) and a B2BUA forwards attributes it does not know. Typed helpers read and
// rewrite the few fields a media anchor changes: c=, the m= port and proto, a=rtcp, a=rtcp-mux.
// Thread-safety: value types and pure functions; a const media_description may be read from
// several threads. Ownership: everything is copied in; string_views returned by attribute()
// and attributes() point into the media_description and die with its next change.

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::sdp {

using engine::errc;
using engine::error;
using engine::result;

/// <type>=<value> (RFC 8866 §5).
struct line {
    char type = 0;
    std::string value;
};

/// One media description (RFC 8866 §5.14): the m= line's fields plus the lines after it.
struct media_description {
    std::string media;                  ///< audio, video, text, application, message, ...
    uint16_t port = 0;
    std::optional<uint16_t> port_count; ///< "<port>/<number of ports>"
    std::string proto;                  ///< RTP/AVP, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, ...
    std::vector<std::string> formats;
    std::vector<line> lines;            ///< i=, c=, b=, k=, a= ... in received order

    /// First a=<name>[:value] attribute's value ("" for a flag), nullopt when absent.
    std::optional<std::string_view> attribute(std::string_view name) const;
    /// Every value of a=<name>:... in order.
    std::vector<std::string_view> attributes(std::string_view name) const;
    /// Removes every a=<name> line; returns the count.
    std::size_t remove_attributes(std::string_view name);
    /// Appends an a= line (after the existing ones).
    void add_attribute(std::string_view name, std::optional<std::string_view> value = std::nullopt);
    /// True for RTP-based protocols ("RTP/" anywhere in proto, RFC 8866 §5.14).
    bool is_rtp() const noexcept;
};

struct session_description {
    std::vector<line> session;          ///< v=, o=, s=, ..., up to the first m=
    std::vector<media_description> media;
};

struct parse_limits {
    std::size_t max_size = 65536;
    std::size_t max_lines = 1024;
    std::size_t max_media = 64;
};

/// Parses an SDP body. Accepts CRLF or bare LF line ends (RFC 8866 §5 asks receivers to).
/// Errors (invalid_argument), each naming the line number and rule: first line not "v=0",
/// a line not "<letter>=", a type that is not a lower-case letter, a missing o=/s= (§5),
/// an m= line that is not "<media> <port>[/<n>] <proto> <fmt>..." with a port 0..65535, a c=
/// line that is not "<nettype> <addrtype> <address>", more lines/media than the limits.
/// Thread-safety: pure. Ownership: `text` is read during the call only.
result<session_description> parse(std::string_view text, const parse_limits& limits = {});

/// Serializes with CRLF line ends, the m= line rebuilt from the fields. Thread-safety: pure.
std::string serialize(const session_description& sd);

/// c= (RFC 8866 §5.7).
struct connection {
    std::string nettype = "IN";
    std::string addrtype = "IP4";  ///< IP4 or IP6
    std::string address;           ///< may carry "/ttl[/n]" for multicast; kept as is
};
result<connection> parse_connection(std::string_view value);
std::string to_string(const connection& c);

/// The connection that applies to a media section: its own c=, else the session's (§5.7).
std::optional<connection> effective_connection(const session_description& sd, std::size_t media_index);

} // namespace srtpo::cp::sdp
