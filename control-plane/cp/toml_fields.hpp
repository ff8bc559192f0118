#pragma once
// Typed reads of srtpo-cp's TOML configuration with precise errors ("dtls.mtu: must be an
// integer 256..9000"), shared by config.cpp and the section parsers of [media]/[dtls]/[zrtp]
// (control-plane/media/src/media_config.cpp) and [sip] (control-plane/b2bua/src/sip_config.cpp),
// so every section rejects unknown keys (a typo never silently changes nothing) and reports bad
// values the same way.
// Thread-safety: pure functions. Ownership: the table is read during the call only.

#include <srtpo/engine/result.hpp>

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace srtpo::cp::toml_fields {

/// invalid_argument "<path>: <what>".
inline engine::error bad(const std::string& path, const std::string& what) {
    return engine::make_error(engine::errc::invalid_argument, path + ": " + what);
}

/// Parses TOML text; syntax errors become invalid_argument "source:line:column: description".
engine::result<toml::table> parse(std::string_view text, const std::string& source);

/// invalid_argument "<where>.<key>: unknown key" for the first key of `t` not in `keys`.
engine::result<void> only_known(const toml::table& t, const std::string& where,
                                std::initializer_list<std::string_view> keys);

/// Reads an integer in lo..hi into `out` if the key is present.
engine::result<void> get_int64(const toml::table& t, const char* key, const std::string& where, int64_t lo, int64_t hi,
                               int64_t& out);
template <class T>
engine::result<void> get_int(const toml::table& t, const char* key, const std::string& where, int64_t lo, int64_t hi,
                             T& out) {
    int64_t v = static_cast<int64_t>(out);
    if (auto r = get_int64(t, key, where, lo, hi, v); !r) return r;
    out = static_cast<T>(v);
    return {};
}

/// Reads a boolean into `out` if the key is present.
engine::result<void> get_bool(const toml::table& t, const char* key, const std::string& where, bool& out);

/// Reads a string into `out` if the key is present.
engine::result<void> get_string(const toml::table& t, const char* key, const std::string& where, std::string& out);

/// The [name] section of `doc`, or nullptr if absent; sets `err` if `name` is not a table.
const toml::table* section(const toml::table& doc, const char* name, engine::result<void>& err);

} // namespace srtpo::cp::toml_fields
