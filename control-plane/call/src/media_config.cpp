#include <srtpo/cp/call/media_config.hpp>

#include <srtpo/cp/mikey/pki.hpp>

#include <arpa/inet.h>

#include <toml++/toml.h>

#include <fstream>
#include <optional>
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

namespace {

std::optional<std::string> string_key(const toml::table& t, const char* key) {
    const auto* v = t.get(key);
    if (!v || !v->is_string()) return std::nullopt;
    return *v->value<std::string>();
}

engine::result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(errc::io_error, "cannot open '" + path + "'");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The MIKEY mode of our offers, the signed modes' key, certificate and trust files (RFC 3830
/// §3.2, §3.3), the DH group; and whether the chosen mode has what it needs.
engine::result<void> parse_mikey_certificates(const toml::table& t, media_config& c, const std::string& source) {
    const auto bad = [&](const std::string& what) { return make_error(errc::invalid_argument, source + ": media." + what); };
    for (const char* key : {"mikey_mode", "mikey_key_file", "mikey_cert_file", "mikey_trust_file", "mikey_peer_cert_file"})
        if (t.get(key) && !t.get(key)->is_string()) return bad(std::string(key) + ": must be a string");
    if (auto m = string_key(t, "mikey_mode")) {
        if (*m == "psk") c.mikey_mode = mikey::mode::psk;
        else if (*m == "dhhmac") c.mikey_mode = mikey::mode::dhhmac;
        else if (*m == "dh") c.mikey_mode = mikey::mode::dh;
        else if (*m == "pk") c.mikey_mode = mikey::mode::pk;
        else return bad("mikey_mode: '" + *m + "' is not psk, dhhmac, dh or pk");
    }
    if (const auto* g = t.get("mikey_dh_group")) {
        const auto n = g->value<int64_t>();
        if (!g->is_integer() || !n || (*n != 5 && *n != 1 && *n != 2)) return bad("mikey_dh_group: must be 5, 1 or 2 (Oakley groups, RFC 3830 §6.4)");
        c.mikey_dh_group = *n == 5 ? mikey::dh_group::oakley5 : *n == 1 ? mikey::dh_group::oakley1 : mikey::dh_group::oakley2;
    }
    const auto key = string_key(t, "mikey_key_file"), cert = string_key(t, "mikey_cert_file");
    if (key.has_value() != cert.has_value()) return bad("mikey_key_file/mikey_cert_file: give both or neither");
    if (key) {
        auto s = mikey::signer::from_pem_files(*key, *cert);
        if (!s) return make_error(s.err().code, source + ": media.mikey_key_file: " + s.err().message);
        c.mikey_own_key = std::move(*s);
    }
    if (auto f = string_key(t, "mikey_trust_file")) {
        auto ts = mikey::trust_store::from_pem_file(*f);
        if (!ts) return make_error(ts.err().code, source + ": media.mikey_trust_file: " + ts.err().message);
        c.mikey_trust = std::move(*ts);
    }
    if (auto f = string_key(t, "mikey_peer_cert_file")) {
        auto pem = read_text_file(*f);
        if (!pem) return make_error(pem.err().code, source + ": media.mikey_peer_cert_file: " + pem.err().message);
        auto der = mikey::cert_der_from_pem(*pem);
        if (!der) return make_error(der.err().code, source + ": media.mikey_peer_cert_file: " + der.err().message);
        c.mikey_peer_cert = std::move(*der);
    }
    switch (c.mikey_mode) {
    case mikey::mode::psk:
    case mikey::mode::dhhmac: break; // the PSK is checked when an offer is made (no MIKEY offers without it)
    case mikey::mode::dh:
        if (!c.mikey_own_key || !c.mikey_trust) return bad("mikey_mode: dh needs mikey_key_file, mikey_cert_file and mikey_trust_file");
        break;
    case mikey::mode::pk:
        if (!c.mikey_own_key || c.mikey_peer_cert.empty())
            return bad("mikey_mode: pk needs mikey_key_file, mikey_cert_file and mikey_peer_cert_file");
        break;
    }
    return {};
}

} // namespace

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
                                   "mikey_peer_identity", "mikey_verify", "mikey_allow_null", "mikey_mode", "mikey_key_file", "mikey_cert_file",
                                   "mikey_trust_file", "mikey_peer_cert_file", "mikey_dh_group"})
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
    if (auto r = parse_mikey_certificates(*t, c, source); !r) return r.err();
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
