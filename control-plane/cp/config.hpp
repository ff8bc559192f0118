#pragma once
// srtpo-cp's TOML configuration (docs/control-api.md#configuration). Every key is optional; the
// defaults below are the embedded configuration the README's demo runs with.
//
//   [table]
//   name = "srtpo"                 # shm name of the sessions region (status: "<name>.status")
//   capacity = 65536               # slots, fixed when the table is created
//   [control]
//   socket = "/run/srtpo/cp.sock"  # Unix socket of the control API
//   group = "srtpo"                # optional: socket group (mode 0660 lets it in)
//   mode = "0660"
//   max_request_bytes = 16777216   # one request line (a batch of flows) at most
//   [flows]
//   rekey_grace_ms = 2000          # make-before-break: old in-key accepted this long
//   [log]
//   level = "info"                 # error, warning, notice, info, debug
//   [sip]                          # the SIP B2BUA (docs/sip-b2bua.md); absent = no SIP
//   [media]  the call engine's (control-plane/call/media_config.hpp)
//   [dtls], [zrtp]  the media-path keyers' (control-plane/media/media_config.hpp)

#include <srtpo/cp/b2bua/sip_config.hpp>
#include <srtpo/engine/result.hpp>

#include "log.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srtpo::cp {

struct config {
    std::string table_name = "srtpo";
    uint32_t table_capacity = 65536;
    std::string socket_path = "/run/srtpo/cp.sock";
    std::optional<std::string> socket_group;
    mode_t socket_mode = 0660;
    std::size_t max_request_bytes = 16u << 20;
    uint16_t rekey_grace_ms = 2000;
    log_level level = log_level::info;
    b2bua::sip_config sip; ///< [sip]; sip.enabled is false without the section
};

/// Parses config text; `source` names it in errors ("cp.toml:3:1: ...", "control.mode: ...").
/// Unknown sections and keys are errors (a typo must not silently change nothing).
engine::result<config> parse_config(std::string_view toml_text, const std::string& source);
/// Reads and parses a file. Errors: io_error, or those of parse_config.
engine::result<config> load_config(const std::string& path);

} // namespace srtpo::cp
