#include <srtpo/cp/media/media_runtime.hpp>

#include <srtpo/cp/dtls/certificate.hpp>

namespace srtpo::cp::media {

media_runtime::media_runtime(media_config cfg, std::shared_ptr<const dtls::context> ctx, zrtp::zid_cache cache)
    : _cfg(std::move(cfg)), _dtls(std::move(ctx)),
      _limiter(_cfg.dtls.max_handshakes_per_source, _cfg.dtls.max_handshakes),
      _zids(std::make_unique<zrtp::zid_cache>(std::move(cache))) {}

engine::result<std::shared_ptr<const dtls::context>> media_runtime::make_dtls(const media_config& cfg) {
    auto cert = dtls::certificate::load_or_create(cfg.dtls.certificate, cfg.dtls.private_key);
    if (!cert) return engine::make_error(cert.err().code, "dtls certificate: " + cert.err().message);
    auto ctx = dtls::context::create(*cert);
    if (!ctx) return engine::make_error(ctx.err().code, "dtls context: " + ctx.err().message);
    return *ctx;
}

engine::result<std::unique_ptr<media_runtime>> media_runtime::create(const media_config& cfg) {
    auto ctx = make_dtls(cfg);
    if (!ctx) return ctx.err();
    auto cache = zrtp::zid_cache::open(cfg.zrtp.cache, cfg.zrtp.cache_key);
    if (!cache) return engine::make_error(cache.err().code, "zrtp cache " + cfg.zrtp.cache + ": " + cache.err().message);
    cache->defer_saves(true); // flows first, then the file: zrtp_keying::pump() flushes
    return std::unique_ptr<media_runtime>(new media_runtime(cfg, std::move(*ctx), std::move(*cache)));
}

engine::result<std::unique_ptr<media_runtime>> media_runtime::create_without_zid_file(const media_config& cfg) {
    auto ctx = make_dtls(cfg);
    if (!ctx) return ctx.err();
    return std::unique_ptr<media_runtime>(new media_runtime(cfg, std::move(*ctx), zrtp::zid_cache::in_memory()));
}

std::shared_ptr<zrtp::call> media_runtime::zrtp_call(std::string_view group) {
    // Forget groups whose streams are all gone, so the map does not grow with the call count.
    std::erase_if(_calls, [](const auto& kv) { return kv.second.expired(); });
    if (group.empty()) return std::make_shared<zrtp::call>(*_zids);
    if (auto it = _calls.find(group); it != _calls.end())
        if (auto c = it->second.lock()) return c;
    auto c = std::make_shared<zrtp::call>(*_zids);
    _calls.insert_or_assign(std::string(group), c);
    return c;
}

} // namespace srtpo::cp::media
