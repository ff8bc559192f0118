#include <srtpo/cp/call/media_config.hpp>

#include <srtpo/cp/mikey/pki.hpp>

#include <arpa/inet.h>

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace srtpo::cp::call {

using engine::errc;
using engine::make_error;

engine::result<std::vector<engine::suite>> parse_suite_names(const std::vector<std::string>& names, const std::string& field) {
    std::vector<engine::suite> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        auto s = engine::suite_from_name(names[i]);
        if (!s) return make_error(errc::invalid_argument, field + "[" + std::to_string(i) + "]: unknown suite '" + names[i] + "'");
        out.push_back(*s);
    }
    return out;
}

engine::result<media_config> parse_media_config(std::string_view toml_text, const std::string& source) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream o;
        o << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
        return make_error(errc::invalid_argument, o.str());
    }
    media_config c;
    const auto* n = doc.get("media");
    if (!n) return c;
    const auto* t = n->as_table();
    const auto bad = [&](const std::string& what) { return make_error(errc::invalid_argument, source + ": media." + what); };
    if (!t) return bad("must be a [section]");
    for (const auto& [k, v] : *t) {
        const auto key = k.str();
        bool known = false;
        for (std::string_view name : {"address", "port_min", "port_max", "suites", "replay_window", "mikey_psk_file", "mikey_identity",
                                   "mikey_peer_identity", "mikey_verify", "mikey_allow_null"})
            known = known || key == name;
        if (!known) return bad(std::string(key) + ": unknown key");
    }
    if (const auto* a = t->get("address")) {
        if (!a->is_string()) return bad("address: must be a string");
        c.address = *a->value<std::string>();
        in6_addr buf{};
        if (::inet_pton(AF_INET, c.address.c_str(), &buf) == 1) c.addrtype = "IP4";
        else if (::inet_pton(AF_INET6, c.address.c_str(), &buf) == 1) c.addrtype = "IP6";
        else return bad("address: '" + c.address + "' is not an IPv4 or IPv6 address");
        c.enabled = true;
    }
    for (auto [key, out] : {std::pair{"port_min", &c.port_min}, std::pair{"port_max", &c.port_max}, std::pair{"replay_window", &c.replay_window}}) {
        const auto* v = t->get(key);
        if (!v) continue;
        auto i = v->value<int64_t>();
        const int64_t lo = std::string_view(key) == "replay_window" ? 64 : 1024;
        const int64_t hi = std::string_view(key) == "replay_window" ? 32768 : 65535;
        if (!v->is_integer() || !i || *i < lo || *i > hi)
            return bad(std::string(key) + ": must be an integer " + std::to_string(lo) + ".." + std::to_string(hi));
        *out = static_cast<uint16_t>(*i);
    }
    if (c.port_max < c.port_min + 1) return bad("port_min/port_max: the range must hold at least one even/odd pair");
    if (const auto* s = t->get("suites")) {
        const auto* arr = s->as_array();
        if (!arr || arr->empty()) return bad("suites: must be a non-empty list of SDES suite names");
        std::vector<std::string> names;
        for (const auto& e : *arr) {
            if (!e.is_string()) return bad("suites: must be a list of strings");
            names.push_back(*e.value<std::string>());
        }
        auto r = parse_suite_names(names, "media.suites");
        if (!r) return make_error(errc::invalid_argument, source + ": " + r.err().message);
        c.suites = std::move(*r);
    }
    for (auto [key, out] : {std::pair{"mikey_identity", &c.mikey_identity}, std::pair{"mikey_peer_identity", &c.mikey_peer_identity}}) {
        const auto* v = t->get(key);
        if (!v) continue;
        if (!v->is_string()) return bad(std::string(key) + ": must be a string");
        *out = *v->value<std::string>();
    }
    for (auto [key, out] : {std::pair{"mikey_verify", &c.mikey_verify}, std::pair{"mikey_allow_null", &c.mikey_allow_null}}) {
        const auto* v = t->get(key);
        if (!v) continue;
        if (!v->is_boolean()) return bad(std::string(key) + ": must be true or false");
        *out = *v->value<bool>();
    }
    if (const auto* f = t->get("mikey_psk_file")) {
        if (!f->is_string()) return bad("mikey_psk_file: must be a path");
        auto psk = mikey::load_psk_file(*f->value<std::string>());
        // load_psk_file never quotes the file's content.
        if (!psk) return make_error(psk.err().code, source + ": media.mikey_psk_file: " + psk.err().message);
        c.mikey_psk = std::move(*psk);
    }
    return c;
}

engine::result<media_config> load_media_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(errc::io_error, path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return parse_media_config(s.str(), path);
}

} // namespace srtpo::cp::call
