#pragma once
// What every media-path keyer of one srtpo-cp process shares, made once at start from
// media_config: the DTLS certificate and TLS context (one long-lived identity, RFC 5763 §5), the
// limiter of concurrent DTLS handshakes per source address, the ZRTP ZID cache (one ZID and one
// retained-secret file per process, RFC 6189 §4.9) and the ZRTP call state that further streams
// to the same peer share for Multistream mode (§4.4.3). docs/adr/0010-media-path-keying.md says
// why this lives apart from the per-leg keyers.

#include <srtpo/cp/dtls/endpoint.hpp>
#include <srtpo/cp/dtls/handshake_limiter.hpp>
#include <srtpo/cp/media/media_config.hpp>
#include <srtpo/cp/zrtp/call.hpp>
#include <srtpo/cp/zrtp/zid_cache.hpp>
#include <srtpo/engine/result.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace srtpo::cp::media {

/// Thread-safety: event loop thread only. Ownership: owns the certificate context, the limiter
/// and the ZID cache; keyers hold references, so it must outlive every keyer made from it.
class media_runtime {
public:
    /// Loads or creates the DTLS certificate (two 0600 PEM files) and opens or creates the ZID
    /// cache (0600, HMAC-protected), as configured. Errors: io_error / invalid_argument from the
    /// certificate store or the cache, naming the file (never key bytes).
    static engine::result<std::unique_ptr<media_runtime>> create(const media_config& cfg);
    /// Same, but the ZID cache lives in memory (no file): tests, or a deployment that wants no
    /// retained secrets on disk.
    static engine::result<std::unique_ptr<media_runtime>> create_without_zid_file(const media_config& cfg);

    const media_config& config() const noexcept { return _cfg; }
    const std::shared_ptr<const dtls::context>& dtls_context() const noexcept { return _dtls; }
    dtls::handshake_limiter& handshake_limiter() noexcept { return _limiter; }
    zrtp::zid_cache& zid_cache() noexcept { return *_zids; }

    /// The ZRTP call state for `group` (the streams of one leg, i.e. one peer, of one call):
    /// the first stream keys in DH mode, the later ones in Multistream mode from its ZRTPSess.
    /// An empty group gets a state of its own. The state lives while a keyer holds it.
    std::shared_ptr<zrtp::call> zrtp_call(std::string_view group);

private:
    media_runtime(media_config cfg, std::shared_ptr<const dtls::context> ctx, zrtp::zid_cache cache);
    static engine::result<std::shared_ptr<const dtls::context>> make_dtls(const media_config& cfg);

    media_config _cfg;
    std::shared_ptr<const dtls::context> _dtls;
    dtls::handshake_limiter _limiter;
    std::unique_ptr<zrtp::zid_cache> _zids; ///< stable address: zrtp::call points at it
    std::map<std::string, std::weak_ptr<zrtp::call>, std::less<>> _calls;
};

} // namespace srtpo::cp::media
