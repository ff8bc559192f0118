// Header name tables: compact forms from RFC 3261 §7.3.3 (i, m, e, l, c, f, s, k, t, v) and the
// IANA "Header Fields" registry for extensions (o RFC 6665, r RFC 3515, b RFC 3892, u RFC 6665,
// x RFC 4028, a/j/d RFC 3841, y/n RFC 4474).

#include <srtpo/cp/sip/header_names.hpp>

#include <array>
#include <utility>

namespace srtpo::cp::sip {
namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr std::array<std::pair<char, std::string_view>, 20> compact{{
    {'i', "Call-ID"}, {'m', "Contact"}, {'e', "Content-Encoding"}, {'l', "Content-Length"},
    {'c', "Content-Type"}, {'f', "From"}, {'s', "Subject"}, {'k', "Supported"}, {'t', "To"},
    {'v', "Via"}, {'o', "Event"}, {'r', "Refer-To"}, {'b', "Referred-By"}, {'u', "Allow-Events"},
    {'x', "Session-Expires"}, {'a', "Accept-Contact"}, {'j', "Reject-Contact"},
    {'d', "Request-Disposition"}, {'y', "Identity"}, {'n', "Identity-Info"},
}};

// Canonical spellings of the headers RFC 3261 §20 defines plus common extensions.
constexpr std::array<std::string_view, 52> known{
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info",
    "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding",
    "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date", "Error-Info", "Expires",
    "From", "In-Reply-To", "Max-Forwards", "Min-Expires", "MIME-Version", "Organization",
    "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
    "Reply-To", "Require", "Retry-After", "Route", "Server", "Subject", "Supported", "Timestamp",
    "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate", "Session-Expires",
    "Min-SE", "Event", "Allow-Events", "Refer-To", "Referred-By", "RAck", "RSeq",
};

constexpr std::array<std::string_view, 19> list_headers{
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Call-Info",
    "Contact", "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To",
    "Proxy-Require", "Record-Route", "Require", "Route", "Supported", "Unsupported", "Via",
    "Warning",
};

constexpr std::array<std::string_view, 7> single_headers{
    "Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type",
};

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string canonical_header_name(std::string_view name) {
    if (name.size() == 1) {
        for (const auto& [c, full] : compact)
            if (lower(name[0]) == c) return std::string(full);
    }
    for (auto k : known)
        if (iequals(k, name)) return std::string(k);
    return std::string(name);
}

bool same_header_name(std::string_view a, std::string_view b) {
    if (iequals(a, b)) return true;
    if (a.size() != 1 && b.size() != 1) return false;
    return iequals(canonical_header_name(a), canonical_header_name(b));
}

bool is_list_header(std::string_view canonical_name) noexcept {
    for (auto h : list_headers)
        if (iequals(h, canonical_name)) return true;
    return false;
}

bool is_single_header(std::string_view canonical_name) noexcept {
    for (auto h : single_headers)
        if (iequals(h, canonical_name)) return true;
    return false;
}

} // namespace srtpo::cp::sip
