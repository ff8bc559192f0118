#pragma once
// Typed reads of one TOML table's keys for srtpo-cp's configuration sections (config.cpp and the
// [sip] section in control-plane/b2bua/src/sip_config.cpp): every error names the key by its
// dotted path ("sip.limits.max_calls: must be an integer 1..10000000"), and an unknown key is an
// error so that a typo never silently changes nothing.
// Thread-safety: pure functions. Ownership: read the table during the call only.

#include <srtpo/engine/result.hpp>

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace srtpo::cp::toml_fields {

inline engine::error bad(const std::string& path, const std::string& what) {
    return engine::make_error(engine::errc::invalid_argument, path + ": " + what);
}

/// Errors when `t` holds a key not in `keys`; `where` is the table's dotted path ("" at the top).
inline engine::result<void> only_known(const toml::table& t, const std::string& where, std::initializer_list<std::string_view> keys) {
    for (const auto& [k, v] : t) {
        bool ok = false;
        for (auto n : keys) ok = ok || k.str() == n;
        if (!ok) return bad(where + (where.empty() ? "" : ".") + std::string(k.str()), "unknown key");
    }
    return {};
}

/// Reads a string key into `out` when present (absent: `out` unchanged).
inline engine::result<void> get_string(const toml::table& t, const char* key, const std::string& where, std::string& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    if (!n->is_string()) return bad(where + "." + key, "must be a string");
    out = *n->value<std::string>();
    return {};
}

inline engine::result<void> get_bool(const toml::table& t, const char* key, const std::string& where, bool& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    if (!n->is_boolean()) return bad(where + "." + key, "must be true or false");
    out = *n->value<bool>();
    return {};
}

/// Reads an integer key in lo..hi into `out` when present.
template <class T>
engine::result<void> get_int(const toml::table& t, const char* key, const std::string& where, int64_t lo, int64_t hi, T& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < lo || *v > hi)
        return bad(where + "." + key, "must be an integer " + std::to_string(lo) + ".." + std::to_string(hi));
    out = static_cast<T>(*v);
    return {};
}

} // namespace srtpo::cp::toml_fields
