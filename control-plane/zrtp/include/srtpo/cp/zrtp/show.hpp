#pragma once
// The operator view of one ZRTP stream (`keying-ctl zrtp show CALL`): state, negotiated
// algorithms, SAS and cache status as "key: value" lines. Never contains key material.

#include <srtpo/cp/zrtp/endpoint.hpp>

#include <string>

namespace srtpo::cp::zrtp {

/// Renders `i` as stable "key: value" lines (one per field, '\n'-terminated), for the control
/// API and keying-ctl. Thread-safe (pure).
std::string show(const endpoint_info& i);

} // namespace srtpo::cp::zrtp
