#pragma once
// srtpo-cp's media-path keying (docs/media-path.md): the [dtls] and [zrtp] sections of its TOML
// file, the one media_runtime (DTLS certificate, ZID cache) they configure, and the call engine's
// keyer factory on top of it. Kept out of main.cpp so that the daemon's wiring stays one call.
//
// Enabled when the file has a [dtls] or a [zrtp] section (and [media] gives calls an address);
// otherwise DTLS-SRTP and ZRTP offers stay refused as unsupported, and no file is created. Without
// a [zrtp] section the ZID cache lives in memory (no retained secrets on disk).

#include <srtpo/cp/media/media_config.hpp>
#include <srtpo/engine/result.hpp>

#include <memory>
#include <string>

namespace srtpo::cp {
class event_loop;
namespace call {
class call_engine;
}
namespace media {
class media_runtime;
}

struct media_path_settings {
    bool enabled = false;    ///< a [dtls] or [zrtp] section is present
    bool zid_file = false;   ///< a [zrtp] section is present: the ZID cache is a file
    media::media_config cfg; ///< parsed [dtls] / [zrtp], defaults for an absent one
    std::string sections;    ///< the two sections as TOML text: a SIGHUP compares them
};

/// Reads [dtls] and [zrtp] of `path` (empty path: disabled). Errors: io_error, invalid_argument
/// naming the key (media::parse_media_config). Thread-safety: reentrant.
engine::result<media_path_settings> load_media_path_settings(const std::string& path);

/// Creates the media_runtime (loads or creates the 0600 certificate and the ZID cache, so an
/// unwritable path or a key file readable by others fails here, at start) and installs the
/// factory into `calls`: DTLS-SRTP and ZRTP legs on `loop`, ZRTP streams grouped per
/// "<call-id>/<side>" for Multistream mode. Returns null when `s` is disabled.
/// Errors: those of media_runtime::create, prefixed "media-path keying: ".
/// Ownership: the caller keeps the runtime alive as long as `calls` (the factory points at it);
/// `loop` and `calls` must outlive it. Thread-safety: event loop thread.
engine::result<std::unique_ptr<media::media_runtime>> start_media_path(const media_path_settings& s, event_loop& loop,
                                                                       call::call_engine& calls);

/// SIGHUP: [dtls] and [zrtp] are not reloaded (the certificate, the ZID cache and the algorithm
/// preferences of running keyers are fixed at start); a changed section logs a warning that a
/// restart is needed. Thread-safety: event loop thread.
void warn_media_path_reload(const media_path_settings& running, const media_path_settings& next);

} // namespace srtpo::cp
