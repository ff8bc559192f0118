#pragma once
// A SIP message (RFC 3261 §7): a start line, an ordered list of header fields and a body. The
// model keeps every header in arrival order and with its raw value, so a B2BUA can copy headers
// it does not understand; the typed views (Via, name-addr, CSeq) parse a value on demand.
// Header names are stored in their canonical long form (compact forms, RFC 3261 §7.3.3, are
// expanded by the parser), so lookups and serialization never see "v" or "i".

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::sip {

using engine::errc;
using engine::error;
using engine::result;

/// One header field line, after unfolding (RFC 3261 §7.3.1) and trimming.
struct header_field {
    std::string name;  ///< canonical long form, e.g. "Call-ID", "Via"
    std::string value; ///< raw value; comma-separated lists are kept as received
};

/// A request or a response. Thread-safety: a value type. Ownership: owns all its strings.
struct message {
    // Request line (RFC 3261 §7.1); `method` empty for a response.
    std::string method;
    std::string request_uri;
    // Status line (RFC 3261 §7.2); status_code 0 for a request.
    int status_code = 0;
    std::string reason;

    std::vector<header_field> headers;
    std::string body;

    bool is_request() const noexcept { return status_code == 0; }

    /// First value of a header (name matched case-insensitively, compact forms accepted), or
    /// nullptr. The pointer is valid until the header list changes.
    const std::string* header(std::string_view name) const noexcept;
    /// Every value of a header in order: all its lines, each split at top-level commas when the
    /// header is a list header (RFC 3261 §7.3.1: Via, Route, Contact, ...). Views into *this.
    std::vector<std::string_view> header_values(std::string_view name) const;
    /// Number of header lines with that name.
    std::size_t header_count(std::string_view name) const noexcept;
    /// Appends a header line (name canonicalised).
    void add_header(std::string_view name, std::string value);
    /// Inserts a header line before all others of any name (used for a new top Via).
    void push_front_header(std::string_view name, std::string value);
    /// Replaces every line of `name` by one line with `value` (or appends it).
    void set_header(std::string_view name, std::string value);
    /// Removes every line of `name`; returns how many were removed.
    std::size_t remove_header(std::string_view name);
    /// Removes the first value of a list header (the top Via of a response being forwarded).
    void pop_first_value(std::string_view name);
};

/// Serializes a message for the wire: start line, headers in order, a Content-Length that
/// matches the body (RFC 3261 §18.3 makes it mandatory on stream transports; an existing one is
/// replaced), blank line, body. Thread-safety: pure.
std::string serialize(const message& m);

} // namespace srtpo::cp::sip
