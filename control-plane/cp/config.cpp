#include "config.hpp"
#include "toml_fields.hpp"

#include <srtpo/table/abi.hpp>

#include <toml++/toml.h>

#include <fstream>
#include <initializer_list>
#include <sstream>

namespace srtpo::cp {

using engine::errc;
using engine::make_error;

namespace {

using toml_fields::get_int;
using toml_fields::get_string;
using toml_fields::only_known;
using toml_fields::section;

engine::result<void> get_mode(const toml::table& t, const char* key, const std::string& where, mode_t& out) {
    std::string s;
    if (auto r = get_string(t, key, where, s); !r) return r;
    if (s.empty()) return {};
    std::size_t used = 0;
    unsigned long v = 0;
    try {
        v = std::stoul(s, &used, 8);
    } catch (...) {
        used = 0;
    }
    if (used != s.size() || v > 0777)
        return make_error(errc::invalid_argument, where + "." + key + ": '" + s + "' is not an octal mode like \"0660\"");
    out = static_cast<mode_t>(v);
    return {};
}

} // namespace

engine::result<config> parse_config(std::string_view toml_text, const std::string& source) {
    auto parsed = toml_fields::parse(toml_text, source);
    if (!parsed) return parsed.err();
    const toml::table& doc = *parsed;
    config c;
    engine::result<void> err;
    const auto fail = [&](const engine::result<void>& r) { return make_error(errc::invalid_argument, source + ": " + r.err().message); };
    if (auto r = only_known(doc, "", {"table", "control", "flows", "log", "media", "dtls", "zrtp", "sip"}); !r) return fail(r);
    if (const auto* t = section(doc, "table", err)) {
        if (auto r = only_known(*t, "table", {"name", "capacity"}); !r) return fail(r);
        if (auto r = get_string(*t, "name", "table", c.table_name); !r) return fail(r);
        if (auto r = get_int(*t, "capacity", "table", 1, table::max_capacity, c.table_capacity); !r) return fail(r);
    }
    if (const auto* t = section(doc, "control", err)) {
        if (auto r = only_known(*t, "control", {"socket", "group", "mode", "max_request_bytes"}); !r) return fail(r);
        if (auto r = get_string(*t, "socket", "control", c.socket_path); !r) return fail(r);
        std::string g;
        if (auto r = get_string(*t, "group", "control", g); !r) return fail(r);
        if (!g.empty()) c.socket_group = g;
        if (auto r = get_mode(*t, "mode", "control", c.socket_mode); !r) return fail(r);
        if (auto r = get_int(*t, "max_request_bytes", "control", 4096, int64_t{1} << 30, c.max_request_bytes); !r) return fail(r);
    }
    if (const auto* t = section(doc, "flows", err)) {
        if (auto r = only_known(*t, "flows", {"rekey_grace_ms"}); !r) return fail(r);
        if (auto r = get_int(*t, "rekey_grace_ms", "flows", 0, 60000, c.rekey_grace_ms); !r) return fail(r);
    }
    if (const auto* t = section(doc, "log", err)) {
        if (auto r = only_known(*t, "log", {"level"}); !r) return fail(r);
        std::string lv;
        if (auto r = get_string(*t, "level", "log", lv); !r) return fail(r);
        if (!lv.empty() && !parse_log_level(lv, c.level))
            return make_error(errc::invalid_argument, source + ": log.level: '" + lv + "' is not error, warning, notice, info or debug");
    }
    // [media] belongs to the call engine (control-plane/call/media_config.hpp), [dtls] and [zrtp]
    // to the media-path keyers (control-plane/media/media_config.hpp): they parse them.
    if (const auto* t = section(doc, "sip", err)) {
        auto s = b2bua::parse_sip_config(*t);
        if (!s) return make_error(errc::invalid_argument, source + ": " + s.err().message);
        c.sip = std::move(*s);
    }
    if (!err) return fail(err);
    if (c.socket_path.empty() || c.socket_path.size() >= 108)
        return make_error(errc::invalid_argument, source + ": control.socket: a Unix socket path of 1..107 characters");
    return c;
}

engine::result<config> load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(errc::io_error, path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return parse_config(s.str(), path);
}

} // namespace srtpo::cp
