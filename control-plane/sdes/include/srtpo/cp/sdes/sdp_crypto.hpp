#pragma once
// Glue between SDP media sections and a=crypto lines.

#include <srtpo/cp/sdes/crypto_attribute.hpp>
#include <srtpo/cp/sdp/session_description.hpp>

#include <span>
#include <vector>

namespace srtpo::cp::sdes {

/// Parses every a=crypto line of a media section, in order. A line that fails to parse makes
/// the whole call fail (the error names the tag position); an unknown suite does not.
/// Thread-safety: pure.
result<std::vector<crypto_attribute>> crypto_attributes(const sdp::media_description& m);

/// Replaces the a=crypto lines of a media section by `attrs` (appended after the other
/// attributes). Errors: from serialize_crypto. Intermediate strings holding keys are wiped;
/// the SDP itself then holds the keys in base64 (as it must, to be sent).
result<void> set_crypto_attributes(sdp::media_description& m, std::span<const crypto_attribute> attrs);

} // namespace srtpo::cp::sdes
