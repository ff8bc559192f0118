#pragma once
// Short Authentication String rendering (RFC 6189 §5.1.6, §7): sasvalue is the leftmost 32 bits
// of sashash = KDF(s0, "SAS", KDF_Context, 256) (§4.5.2).
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/algorithms.hpp>

#include <cstdint>
#include <string>

namespace srtpo::cp::zrtp {

/// B32: the leftmost 20 bits as 4 characters of the z-base-32 alphabet (§5.1.6).
std::string render_b32(uint32_t sasvalue);
/// B256: the leftmost 16 bits as two PGP words, even list then odd list, joined by ':' as bzrtp
/// and the RFC's examples present them.
std::string render_b256(uint32_t sasvalue);
/// Either, by type. Thread-safe (pure).
std::string render_sas(sas_type t, uint32_t sasvalue);

} // namespace srtpo::cp::zrtp
