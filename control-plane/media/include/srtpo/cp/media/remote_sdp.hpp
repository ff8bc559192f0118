#pragma once
// What a media-path keyer reads from the peer's SDP for one m= section: attributes that may sit
// at media or session level (a=fingerprint, a=setup, a=ice-ufrag/ice-pwd: RFC 8122 §5, RFC 8839
// §5.4 allow either; the media level wins), and where the peer says its media comes from
// (c= and the m= port, RFC 8866 §5.7, §5.14).
// Every function here is pure and thread-safe; results are copies.

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/table/slot.hpp>

#include <optional>
#include <string>
#include <vector>

namespace srtpo::cp::sdp {
struct session_description;
}

namespace srtpo::cp::media {

/// Every value of a=`name` in media section `m`, or if it has none, at session level.
std::vector<std::string> attribute_values(const sdp::session_description& sd, std::size_t m, std::string_view name);
/// The first of attribute_values(), if any.
std::optional<std::string> attribute_value(const sdp::session_description& sd, std::size_t m, std::string_view name);

/// The peer's media address from c= and the m= port; nullopt if the section has port 0, no
/// connection, or the unspecified address (0.0.0.0 / ::, an RFC 3264 §8.4 hold).
std::optional<table::endpoint> signalled_address(const sdp::session_description& sd, std::size_t m);

/// invalid_argument if `m` is not a media section of `sd`.
api::api_status check_media_index(const sdp::session_description& sd, std::size_t m);

} // namespace srtpo::cp::media
