#pragma once
// Header field names: compact forms (RFC 3261 §7.3.3 and the extensions' IANA registrations),
// canonical spelling, and which headers are comma-separated lists (RFC 3261 §7.3.1).

#include <string>
#include <string_view>

namespace srtpo::cp::sip {

/// Canonical long form of a header name: a compact form is expanded ("v" -> "Via"), a known
/// name gets its RFC spelling ("call-id" -> "Call-ID"), an unknown name is returned unchanged.
/// Thread-safety: pure.
std::string canonical_header_name(std::string_view name);

/// True when both names denote the same header (case-insensitive, compact forms expanded).
/// Thread-safety: pure.
bool same_header_name(std::string_view a, std::string_view b);

/// True for headers whose grammar is `#element` and which may therefore be split at commas and
/// combined (RFC 3261 §7.3.1). Authorization-like headers are not lists. Thread-safety: pure.
bool is_list_header(std::string_view canonical_name) noexcept;

/// True for headers that may appear at most once (RFC 3261 §20 and Table 2, the ones a B2BUA
/// relies on: Call-ID, CSeq, From, To, Max-Forwards, Content-Length, Content-Type).
bool is_single_header(std::string_view canonical_name) noexcept;

/// Case-insensitive ASCII comparison. Thread-safety: pure.
bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace srtpo::cp::sip
