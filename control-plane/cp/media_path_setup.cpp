#include "media_path_setup.hpp"

#include "log.hpp"
#include "toml_fields.hpp"

#include <srtpo/cp/call/call_engine.hpp>
#include <srtpo/cp/dtls/stack_choice.hpp>
#include <srtpo/cp/media/make_media_path_keying.hpp>
#include <srtpo/cp/media/media_runtime.hpp>

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace srtpo::cp {

engine::result<media_path_settings> load_media_path_settings(const std::string& path) {
    media_path_settings s;
    if (path.empty()) return s;
    std::ifstream in(path);
    if (!in) return engine::make_error(engine::errc::io_error, path + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    auto doc = toml_fields::parse(text.str(), path);
    if (!doc) return doc.err();
    auto cfg = media::parse_media_config(text.str(), path);
    if (!cfg) return cfg.err();
    s.cfg = std::move(*cfg);
    std::ostringstream sections;
    for (const char* name : {"dtls", "zrtp"}) {
        if (const auto* t = doc->get_as<toml::table>(name)) {
            s.enabled = true;
            s.zid_file = s.zid_file || std::string_view(name) == "zrtp";
            sections << "[" << name << "]\n" << *t << "\n";
        }
    }
    s.sections = sections.str();
    return s;
}

engine::result<std::unique_ptr<media::media_runtime>> start_media_path(const media_path_settings& s, event_loop& loop,
                                                                       call::call_engine& calls) {
    if (!s.enabled) return std::unique_ptr<media::media_runtime>();
    auto rt = s.zid_file ? media::media_runtime::create(s.cfg) : media::media_runtime::create_without_zid_file(s.cfg);
    if (!rt) return engine::make_error(rt.err().code, "media-path keying: " + rt.err().message);
    media::media_runtime* r = rt->get();
    calls.set_media_path_factory([&loop, r](call::keying_method m, const table::endpoint& local, call::media_path_events ev,
                                            const std::string& group) {
        return media::make_media_path_keying(loop, *r, m, local, std::move(ev), group);
    });
    log_notice("media-path keying: DTLS-SRTP certificate " + s.cfg.dtls.certificate + ", ZRTP ZID cache " +
               (s.zid_file ? s.cfg.zrtp.cache : std::string("in memory")));
    // ADR 0014: one ClientHello carries every offered profile, and only OpenSSL offers GCM while
    // only GnuTLS offers NULL; as DTLS client srtpo-cp then offers the list without NULL.
    if (cp::dtls::client_role_drops_null(s.cfg.dtls.profiles))
        log_warn("dtls.profiles lists NULL and AEAD_AES_*_GCM profiles: as DTLS client srtpo-cp offers the list "
                 "without the NULL ones (no TLS stack here offers both; docs/dtls-srtp.md)");
    return std::move(*rt);
}

void warn_media_path_reload(const media_path_settings& running, const media_path_settings& next) {
    if (running.sections != next.sections)
        log_warn("[dtls]/[zrtp] changed in the config: a restart is needed to apply them (certificate, ZID cache and "
                 "algorithm preferences are fixed at start)");
}

} // namespace srtpo::cp
