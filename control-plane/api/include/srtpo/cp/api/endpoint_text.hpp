#pragma once
// "address:port" text for table::endpoint, as the flows file, the control API and keying-ctl
// write it: "192.0.2.1:5004" or "[2001:db8::1]:5004". IPv4 becomes IPv4-mapped IPv6 (the table's
// form, docs/shm-abi.md). Thread-safety: pure functions.

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/table/slot.hpp>

#include <string>
#include <string_view>

namespace srtpo::cp::api {

/// Parses "a.b.c.d:port" or "[v6]:port" with port 1..65535. `field` names the request field in
/// the error. Errors: invalid_argument ("'x' is not address:port", "port must be 1..65535",
/// "write IPv6 as [addr]:port", "bad address"); unspecified addresses (0.0.0.0, ::) are refused.
api_result<table::endpoint> parse_endpoint(std::string_view text, const std::string& field);

/// The inverse of parse_endpoint.
std::string to_string(const table::endpoint& e);

} // namespace srtpo::cp::api
