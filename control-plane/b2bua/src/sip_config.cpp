// The [sip] configuration section (docs/sip-b2bua.md).

#include <srtpo/cp/b2bua/sip_config.hpp>
#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>

#include "toml_fields.hpp"

#include <initializer_list>

namespace srtpo::cp::b2bua {

using engine::errc;
using engine::make_error;

std::string_view to_string(transport_kind t) noexcept {
    switch (t) {
    case transport_kind::udp: return "udp";
    case transport_kind::tcp: return "tcp";
    case transport_kind::tls: return "tls";
    }
    return "udp";
}

std::string_view via_name(transport_kind t) noexcept {
    switch (t) {
    case transport_kind::udp: return "UDP";
    case transport_kind::tcp: return "TCP";
    case transport_kind::tls: return "TLS";
    }
    return "UDP";
}

bool is_stream(transport_kind t) noexcept { return t != transport_kind::udp; }

namespace {

bool parse_transport(std::string_view s, transport_kind& out) noexcept {
    if (sip::iequals(s, "tls")) out = transport_kind::tls;
    else if (sip::iequals(s, "tcp")) out = transport_kind::tcp;
    else if (sip::iequals(s, "udp")) out = transport_kind::udp;
    else return false;
    return true;
}

uint16_t default_port(transport_kind t) noexcept { return t == transport_kind::tls ? 5061 : 5060; }

using toml_fields::bad;
using toml_fields::get_bool;
using toml_fields::get_int;
using toml_fields::get_string;
using toml_fields::only_known;

engine::result<void> get_keying(const toml::table& t, const char* key, const std::string& where, call::keying_method& out) {
    std::string s;
    if (auto r = get_string(t, key, where, s); !r) return r;
    if (s.empty()) return {};
    using km = call::keying_method;
    if (s == "plain") out = km::plain;
    else if (s == "sdes") out = km::sdes;
    else if (s == "dtls") out = km::dtls_srtp;
    else if (s == "zrtp") out = km::zrtp;
    else if (s == "mikey") out = km::mikey;
    else if (s == "same") out = km::same;
    else return bad(where + "." + key, "'" + s + "' is not sdes, plain, dtls, zrtp, mikey or same");
    return {};
}

engine::result<void> get_suites(const toml::table& t, const char* key, const std::string& where, std::vector<std::string>& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    const auto* a = n->as_array();
    if (!a) return bad(where + "." + key, "must be an array of SDES suite names");
    for (const auto& e : *a) {
        if (!e.is_string()) return bad(where + "." + key, "must be an array of SDES suite names");
        out.push_back(*e.value<std::string>());
    }
    return {};
}

// The keys of a leg policy pair, shared by [[sip.route]] and the default route in [sip].
engine::result<void> get_policies(const toml::table& t, const std::string& where, route& r) {
    if (auto e = get_keying(t, "a_keying", where, r.a_policy.method); !e) return e;
    if (auto e = get_keying(t, "b_keying", where, r.b_policy.method); !e) return e;
    if (auto e = get_suites(t, "a_suites", where, r.a_policy.suites); !e) return e;
    if (auto e = get_suites(t, "b_suites", where, r.b_policy.suites); !e) return e;
    if (auto e = get_string(t, "a_media_address", where, r.a_policy.media_address); !e) return e;
    if (auto e = get_string(t, "b_media_address", where, r.b_policy.media_address); !e) return e;
    return {};
}

engine::result<void> get_hop(const toml::table& t, const char* key, const std::string& where, std::optional<hop>& out) {
    std::string s;
    if (auto r = get_string(t, key, where, s); !r) return r;
    if (s.empty()) return {};
    auto h = parse_hop(s);
    if (!h) return bad(where + "." + key, h.err().message);
    out = *h;
    return {};
}

const toml::table* sub_table(const toml::table& t, const char* key, const std::string& where, engine::result<void>& err) {
    const auto* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) err = bad(where + "." + key, "must be a table");
    return n->as_table();
}

// [[sip.x]]: an array of tables.
engine::result<std::vector<const toml::table*>> table_array(const toml::table& t, const char* key, const std::string& where) {
    std::vector<const toml::table*> out;
    const auto* n = t.get(key);
    if (!n) return out;
    const auto* a = n->as_array();
    if (!a) return bad(where + "." + key, "must be an array of tables ([[" + where + "." + key + "]])");
    for (const auto& e : *a) {
        if (!e.is_table()) return bad(where + "." + key, "must be an array of tables ([[" + where + "." + key + "]])");
        out.push_back(e.as_table());
    }
    return out;
}

} // namespace

std::string hop::to_uri() const {
    return "sip:" + host + ":" + std::to_string(port) + ";transport=" + std::string(to_string(transport));
}

engine::result<hop> parse_hop(std::string_view uri) {
    auto u = sip::parse_sip_uri(uri);
    if (!u) return u.err();
    hop h;
    h.transport = u->scheme == "sips" ? transport_kind::tls : transport_kind::udp; // RFC 3263 §4.1 default
    if (const auto* p = sip::find_param(u->params, "transport")) {
        if (!p->value || !parse_transport(*p->value, h.transport))
            return make_error(errc::invalid_argument, "next hop '" + std::string(uri) + "': transport must be tls, tcp or udp");
    }
    h.host = u->host;
    if (h.host.size() > 2 && h.host.front() == '[') h.host = h.host.substr(1, h.host.size() - 2);
    h.port = u->port.value_or(default_port(h.transport));
    return h;
}

engine::result<sip_config> parse_sip_config(const toml::table& t) {
    const std::string w = "sip";
    sip_config c;
    c.enabled = true;
    if (auto r = only_known(t, w, {"enabled", "listen", "tls", "timers", "limits", "route", "default_next_hop", "a_keying",
                                   "b_keying", "a_suites", "b_suites", "a_media_address", "b_media_address", "user_agent"});
        !r)
        return r.err();
    if (auto r = get_bool(t, "enabled", w, c.enabled); !r) return r.err();
    if (auto r = get_string(t, "user_agent", w, c.user_agent); !r) return r.err();
    {
        std::optional<hop> h;
        if (auto r = get_hop(t, "default_next_hop", w, h); !r) return r.err();
        route d;
        if (auto r = get_policies(t, w, d); !r) return r.err();
        if (h) {
            d.next_hop = *h;
            c.default_route = std::move(d);
        }
    }
    auto listens = table_array(t, "listen", w);
    if (!listens) return listens.err();
    for (std::size_t i = 0; i < listens->size(); ++i) {
        const auto& l = *(*listens)[i];
        const std::string lw = w + ".listen[" + std::to_string(i) + "]";
        if (auto r = only_known(l, lw, {"transport", "address", "port", "advertise"}); !r) return r.err();
        listen_spec s;
        std::string tr = "tls";
        if (auto r = get_string(l, "transport", lw, tr); !r) return r.err();
        if (!parse_transport(tr, s.transport)) return bad(lw + ".transport", "'" + tr + "' is not tls, tcp or udp");
        s.port = default_port(s.transport);
        if (auto r = get_string(l, "address", lw, s.address); !r) return r.err();
        if (auto r = get_int(l, "port", lw, 0, 65535, s.port); !r) return r.err();
        if (auto r = get_string(l, "advertise", lw, s.advertise); !r) return r.err();
        c.listen.push_back(std::move(s));
    }
    if (c.listen.empty()) c.listen.push_back(listen_spec{}); // TLS on 0.0.0.0:5061
    engine::result<void> err;
    if (const auto* s = sub_table(t, "tls", w, err)) {
        const std::string tw = w + ".tls";
        if (auto r = only_known(*s, tw, {"cert", "key", "ca", "verify_client", "verify_server", "verify_hostname", "min_version",
                                         "ciphers", "ciphersuites"});
            !r)
            return r.err();
        auto& x = c.tls;
        for (auto [k, p] : {std::pair{"cert", &x.cert}, {"key", &x.key}, {"ca", &x.ca}, {"min_version", &x.min_version},
                            {"ciphers", &x.ciphers}, {"ciphersuites", &x.ciphersuites}})
            if (auto r = get_string(*s, k, tw, *p); !r) return r.err();
        for (auto [k, p] : {std::pair{"verify_client", &x.verify_client}, {"verify_server", &x.verify_server},
                            {"verify_hostname", &x.verify_hostname}})
            if (auto r = get_bool(*s, k, tw, *p); !r) return r.err();
        if (x.min_version != "1.2" && x.min_version != "1.3") return bad(tw + ".min_version", "must be \"1.2\" or \"1.3\"");
        if (x.verify_client && x.ca.empty()) return bad(tw + ".verify_client", "needs tls.ca (the CA file client certificates must chain to)");
    }
    if (!err) return err.err();
    if (const auto* s = sub_table(t, "timers", w, err)) {
        const std::string tw = w + ".timers";
        if (auto r = only_known(*s, tw, {"t1_ms", "t2_ms", "t4_ms"}); !r) return r.err();
        int64_t t1 = c.t1.count(), t2 = c.t2.count(), t4 = c.t4.count();
        if (auto r = get_int(*s, "t1_ms", tw, 10, 10000, t1); !r) return r.err();
        if (auto r = get_int(*s, "t2_ms", tw, 10, 60000, t2); !r) return r.err();
        if (auto r = get_int(*s, "t4_ms", tw, 10, 60000, t4); !r) return r.err();
        if (t2 < t1) return bad(tw + ".t2_ms", "must be at least t1_ms (RFC 3261 §17.1.2.2)");
        c.t1 = std::chrono::milliseconds(t1);
        c.t2 = std::chrono::milliseconds(t2);
        c.t4 = std::chrono::milliseconds(t4);
    }
    if (!err) return err.err();
    if (const auto* s = sub_table(t, "limits", w, err)) {
        const std::string lw = w + ".limits";
        if (auto r = only_known(*s, lw, {"max_message", "max_connections", "max_connections_per_source", "idle_timeout_s", "max_calls"}); !r)
            return r.err();
        auto& l = c.limits;
        int64_t idle = l.idle_timeout.count();
        if (auto r = get_int(*s, "max_message", lw, 1024, 65535, l.max_message); !r) return r.err();
        if (auto r = get_int(*s, "max_connections", lw, 1, 1000000, l.max_connections); !r) return r.err();
        if (auto r = get_int(*s, "max_connections_per_source", lw, 1, 1000000, l.max_connections_per_source); !r) return r.err();
        if (auto r = get_int(*s, "idle_timeout_s", lw, 1, 86400, idle); !r) return r.err();
        if (auto r = get_int(*s, "max_calls", lw, 1, 10000000, l.max_calls); !r) return r.err();
        l.idle_timeout = std::chrono::seconds(idle);
    }
    if (!err) return err.err();
    auto routes = table_array(t, "route", w);
    if (!routes) return routes.err();
    for (std::size_t i = 0; i < routes->size(); ++i) {
        const auto& rt = *(*routes)[i];
        const std::string rw = w + ".route[" + std::to_string(i) + "]";
        if (auto r = only_known(rt, rw, {"domain", "next_hop", "a_keying", "b_keying", "a_suites", "b_suites", "a_media_address",
                                         "b_media_address"});
            !r)
            return r.err();
        route x;
        std::optional<hop> h;
        if (auto r = get_string(rt, "domain", rw, x.domain); !r) return r.err();
        if (auto r = get_hop(rt, "next_hop", rw, h); !r) return r.err();
        if (x.domain.empty()) return bad(rw + ".domain", "required (the request-URI host this route serves)");
        if (!h) return bad(rw + ".next_hop", "required (sip:host:port;transport=tls|tcp|udp)");
        x.next_hop = *h;
        if (auto r = get_policies(rt, rw, x); !r) return r.err();
        c.routes.push_back(std::move(x));
    }
    bool need_tls = false;
    for (const auto& l : c.listen) need_tls = need_tls || l.transport == transport_kind::tls;
    if (need_tls && (c.tls.cert.empty() || c.tls.key.empty()))
        return bad(w + ".tls", "a TLS listener needs tls.cert and tls.key");
    return c;
}

const route* find_route(const sip_config& c, std::string_view host) noexcept {
    for (const auto& r : c.routes)
        if (sip::iequals(r.domain, host)) return &r;
    return c.default_route ? &*c.default_route : nullptr;
}

} // namespace srtpo::cp::b2bua
