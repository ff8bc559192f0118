#pragma once
// The README's demo: generate a capture of many calls, protect every stream with its own key,
// tamper with a few packets, unprotect, and verify the round trip frame by frame.

#include <srtpo/engine/backend.hpp>

#include <cstdint>
#include <string>

namespace srtpo::tools {

struct demo_options {
    uint32_t calls = 200;
    uint32_t packets = 250;       ///< RTP packets per direction of each call
    uint32_t tamper_every = 97;   ///< flip one bit in every Nth protected RTP packet (0: none)
    std::string suite = "AES_CM_128_HMAC_SHA1_80";
    std::string workdir;          ///< where the captures go; a temporary directory if empty
    engine::backend_kind backend = engine::default_backend();
    bool json = false;
};

/// Returns the process exit code: 0 when every check passed.
int run_demo(const demo_options& o);

} // namespace srtpo::tools
