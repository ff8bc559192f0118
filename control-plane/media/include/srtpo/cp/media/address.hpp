#pragma once
// Conversions between the table's endpoint (a v4-mapped or v6 address and a port, what flows and
// on_keyed carry), the socket API's sockaddr_storage, STUN's transport_address and text.
// Every function here is pure and thread-safe; results own their bytes.

#include <srtpo/cp/ice/stun_message.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/table/slot.hpp>

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace srtpo::cp::media {

/// "192.0.2.1" or "2001:db8::1" (no brackets, no port) into an endpoint with `port`.
/// Errors: invalid_argument naming the text.
engine::result<table::endpoint> parse_endpoint(std::string_view ip, uint16_t port);

/// The socket address of `e`: AF_INET for a v4-mapped address, AF_INET6 otherwise. Returns the
/// length to pass to bind()/sendto().
socklen_t to_sockaddr(const table::endpoint& e, sockaddr_storage& out) noexcept;
/// The endpoint of a received address (AF_INET or AF_INET6; a v4-mapped AF_INET6 address maps to
/// the same endpoint as its AF_INET form). Unknown families give the unset endpoint.
table::endpoint from_sockaddr(const sockaddr_storage& sa) noexcept;

/// STUN's view of the same address (XOR-MAPPED-ADDRESS, RFC 8489 §14.2).
ice::transport_address to_transport_address(const table::endpoint& e) noexcept;

/// The address alone ("192.0.2.1", "2001:db8::1").
std::string ip_string(const table::endpoint& e);
/// "192.0.2.1:4000" or "[2001:db8::1]:4000", for status and logs.
std::string to_string(const table::endpoint& e);

} // namespace srtpo::cp::media
