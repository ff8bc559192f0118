#include "toml_fields.hpp"

#include <sstream>

namespace srtpo::cp::toml_fields {

using engine::errc;
using engine::make_error;

engine::result<toml::table> parse(std::string_view text, const std::string& source) {
    try {
        return toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream o;
        o << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
        return make_error(errc::invalid_argument, o.str());
    }
}

engine::result<void> only_known(const toml::table& t, const std::string& where, std::initializer_list<std::string_view> keys) {
    for (const auto& [k, v] : t) {
        bool ok = false;
        for (auto n : keys) ok = ok || k.str() == n;
        if (!ok) return make_error(errc::invalid_argument, where + (where.empty() ? "" : ".") + std::string(k.str()) + ": unknown key");
    }
    return {};
}

engine::result<void> get_int64(const toml::table& t, const char* key, const std::string& where, int64_t lo, int64_t hi,
                               int64_t& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < lo || *v > hi)
        return make_error(errc::invalid_argument, where + "." + key + ": must be an integer " + std::to_string(lo) + ".." +
                                                      std::to_string(hi));
    out = *v;
    return {};
}

engine::result<void> get_string(const toml::table& t, const char* key, const std::string& where, std::string& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    if (!n->is_string()) return make_error(errc::invalid_argument, where + "." + key + ": must be a string");
    out = *n->value<std::string>();
    return {};
}

engine::result<void> get_bool(const toml::table& t, const char* key, const std::string& where, bool& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    if (!n->is_boolean()) return make_error(errc::invalid_argument, where + "." + key + ": must be true or false");
    out = *n->value<bool>();
    return {};
}

const toml::table* section(const toml::table& doc, const char* name, engine::result<void>& err) {
    const auto* n = doc.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) err = make_error(errc::invalid_argument, std::string(name) + ": must be a [section]");
    return n->as_table();
}

} // namespace srtpo::cp::toml_fields
