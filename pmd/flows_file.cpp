#include "flows_file.hpp"

#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/engine/suite.hpp>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <toml++/toml.h>

#include <array>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

std::string_view to_string(action a) noexcept {
    switch (a) {
    case action::forward: return "forward";
    case action::unprotect: return "unprotect";
    case action::protect: return "protect";
    case action::transcrypt: return "transcrypt";
    case action::authenticate: return "authenticate_only";
    }
    return "invalid";
}

engine::result<endpoint> parse_endpoint(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return make_error(errc::invalid_argument, "'" + std::string(text) + "' is not address:port");
    std::string host(text.substr(0, colon));
    const std::string_view port = text.substr(colon + 1);
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || v == 0 || v > 65535)
        return make_error(errc::invalid_argument, "'" + std::string(text) + "': port must be 1..65535");
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    endpoint e;
    e.port = static_cast<uint16_t>(v);
    if (!bracketed && inet_pton(AF_INET, host.c_str(), e.addr.bytes.data()) == 1) {
        e.addr.family = net::ip_family::ipv4;
    } else if (inet_pton(AF_INET6, host.c_str(), e.addr.bytes.data()) == 1) {
        if (!bracketed) return make_error(errc::invalid_argument, "'" + std::string(text) + "': write IPv6 as [addr]:port");
        e.addr.family = net::ip_family::ipv6;
    } else {
        return make_error(errc::invalid_argument, "'" + std::string(text) + "': bad address");
    }
    return e;
}

std::string to_string(const endpoint& e) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    const bool v6 = e.addr.family == net::ip_family::ipv6;
    inet_ntop(v6 ? AF_INET6 : AF_INET, e.addr.bytes.data(), buf.data(), buf.size());
    return (v6 ? "[" + std::string(buf.data()) + "]" : std::string(buf.data())) + ":" + std::to_string(e.port);
}

namespace {

template <class T>
engine::result<T> opt_int(const toml::table& t, const char* name, T def, T lo, T hi, const std::string& where) {
    const auto* n = t.get(name);
    if (!n) return def;
    const auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < static_cast<int64_t>(lo) || *v > static_cast<int64_t>(hi))
        return make_error(errc::invalid_argument, where + "." + name + ": must be an integer " + std::to_string(lo) + ".." +
                                                      std::to_string(hi));
    return static_cast<T>(*v);
}

/// Builds a session from `in` / `out` = { suite, key [, window, roc, max_streams] }.
engine::result<engine::session_ptr> make_leg(const toml::node& n, engine::direction dir, const std::string& where) {
    const auto* t = n.as_table();
    if (!t) return make_error(errc::invalid_argument, where + ": must be a table { suite = ..., key = ... }");
    for (const auto& [k, v] : *t) {
        static const std::set<std::string_view> known{"suite", "key", "window", "roc", "max_streams"};
        if (!known.count(k.str())) return make_error(errc::invalid_argument, where + "." + std::string(k.str()) + ": unknown field");
    }
    const auto suite_name = t->get("suite") ? t->get("suite")->value<std::string>() : std::nullopt;
    if (!suite_name) return make_error(errc::invalid_argument, where + ".suite: missing (a string such as \"AES_CM_128_HMAC_SHA1_80\")");
    const auto s = engine::suite_from_name(*suite_name);
    if (!s) return make_error(errc::unknown_suite, where + ".suite: unknown suite '" + *suite_name + "'");
    const auto& tr = engine::traits(*s);
    const auto* key_node = t->get("key");
    if (!key_node || !key_node->is_string()) return make_error(errc::invalid_argument, where + ".key: missing (a string, SDES inline key)");
    std::string key_text = **key_node->as_string();
    auto p = engine::parse_sdes_inline(key_text);
    OPENSSL_cleanse(key_text.data(), key_text.size());
    if (!p) return make_error(p.err().code, where + ".key: " + p.err().message);
    const auto ks = p->key_salt.bytes();
    if (ks.size() != tr.key_salt_len())
        return make_error(errc::bad_key_length, where + ".key: " + std::string(tr.name) + " needs " +
                                                    std::to_string(tr.key_salt_len()) + " octets of master key and salt, got " +
                                                    std::to_string(ks.size()));
    auto window = opt_int<uint32_t>(*t, "window", 128, engine::min_replay_window, engine::max_replay_window, where);
    if (!window) return window.err();
    auto roc = opt_int<uint32_t>(*t, "roc", 0, 0, 0xffffffffu, where);
    if (!roc) return roc.err();
    auto streams = opt_int<uint32_t>(*t, "max_streams", 64, 1, 65536, where);
    if (!streams) return streams.err();

    engine::session_config c;
    c.s = *s;
    c.dir = dir;
    c.replay_window = *window;
    c.initial_roc = *roc;
    c.max_streams = *streams;
    engine::master_key_config m;
    m.key = ks.first(tr.master_key_len);
    m.salt = ks.subspan(tr.master_key_len);
    m.lifetime = p->lifetime;
    if (p->mki) m.mki = p->mki->bytes;
    c.keys.push_back(m);
    auto sess = engine::make_session(c);
    if (!sess) return make_error(sess.err().code, where + ": " + sess.err().message);
    return std::move(sess.value());
}

engine::result<std::optional<endpoint>> opt_endpoint(const toml::table& t, const char* name, const std::string& where) {
    const auto* n = t.get(name);
    if (!n) return std::optional<endpoint>{};
    const auto s = n->value<std::string>();
    if (!n->is_string() || !s) return make_error(errc::invalid_argument, where + "." + name + ": must be a string \"address:port\"");
    auto e = parse_endpoint(*s);
    if (!e) return make_error(errc::invalid_argument, where + "." + name + ": " + e.err().message);
    return std::optional<endpoint>{*e};
}

} // namespace

engine::result<std::vector<flow>> parse_flows(std::string_view toml_text, const std::string& source) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream o;
        // toml++ quotes the offending token in some messages; report only the position and the
        // description class, which never contains a key value.
        o << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": TOML syntax error";
        return make_error(errc::invalid_argument, o.str());
    }
    for (const auto& [k, v] : doc)
        if (k.str() != "flow") return make_error(errc::invalid_argument, source + ": unknown top-level key '" + std::string(k.str()) + "'");
    const auto* arr = doc.get_as<toml::array>("flow");
    if (!arr || arr->empty()) return make_error(errc::invalid_argument, source + ": no [[flow]] tables");

    std::vector<flow> flows;
    flows.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string where = "flow[" + std::to_string(i) + "]";
        const auto* t = arr->get(i)->as_table();
        if (!t) return make_error(errc::invalid_argument, where + ": must be a table");
        for (const auto& [k, v] : *t) {
            static const std::set<std::string_view> known{"match", "in", "out", "authenticate_only", "send_from", "send_to", "next_hop_mac"};
            if (!known.count(k.str())) return make_error(errc::invalid_argument, where + "." + std::string(k.str()) + ": unknown field");
        }
        flow f;
        const auto* m = t->get("match");
        if (!m || !m->is_string()) return make_error(errc::invalid_argument, where + ".match: missing (a string \"address:port\")");
        auto ep = parse_endpoint(**m->as_string());
        if (!ep) return make_error(errc::invalid_argument, where + ".match: " + ep.err().message);
        f.match = *ep;
        for (std::size_t j = 0; j < flows.size(); ++j)
            if (flows[j].match.addr == f.match.addr && flows[j].match.port == f.match.port)
                return make_error(errc::invalid_argument, where + ".match: same address:port as flow[" + std::to_string(j) + "]");
        bool auth_only = false;
        if (const auto* a = t->get("authenticate_only")) {
            if (!a->is_boolean()) return make_error(errc::invalid_argument, where + ".authenticate_only: must be true or false");
            auth_only = **a->as_boolean();
        }
        if (const auto* n = t->get("in")) {
            auto s = make_leg(*n, engine::direction::unprotect, where + ".in");
            if (!s) return s.err();
            f.in = std::move(s.value());
        }
        if (const auto* n = t->get("out")) {
            auto s = make_leg(*n, engine::direction::protect, where + ".out");
            if (!s) return s.err();
            f.out = std::move(s.value());
        }
        if (auth_only) {
            if (!f.in) return make_error(errc::invalid_argument, where + ".authenticate_only: needs 'in' (the key to verify with)");
            if (f.out) return make_error(errc::invalid_argument, where + ".authenticate_only: cannot be combined with 'out'");
            f.act = action::authenticate;
        } else {
            f.act = f.in && f.out ? action::transcrypt : f.in ? action::unprotect : f.out ? action::protect : action::forward;
        }
        for (const char* name : {"send_from", "send_to"}) {
            auto e = opt_endpoint(*t, name, where);
            if (!e) return e.err();
            if (*e && e->value().addr.family != f.match.addr.family)
                return make_error(errc::invalid_argument, where + "." + name + ": address family differs from match (no v4/v6 translation)");
            (name[5] == 'f' ? f.send_from : f.send_to) = *e;
        }
        if (const auto* n = t->get("next_hop_mac")) {
            if (!n->is_string()) return make_error(errc::invalid_argument, where + ".next_hop_mac: must be a string \"02:00:5e:10:00:01\"");
            auto mac = parse_mac(**n->as_string());
            if (!mac) return make_error(errc::invalid_argument, where + ".next_hop_mac: " + mac.err().message);
            f.next_hop_mac = *mac;
        }
        f.label = where + " " + to_string(f.match);
        flows.push_back(std::move(f));
    }
    return flows;
}

engine::result<std::vector<flow>> load_flows(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(errc::io_error, "cannot read flows file " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = parse_flows(text, path);
    OPENSSL_cleanse(text.data(), text.size());
    return r;
}

} // namespace srtpo::pmd
