#include <srtpo/cp/media/media_config.hpp>

#include "toml_fields.hpp"

#include <toml++/toml.h>

namespace srtpo::cp::media {

using engine::errc;
using engine::make_error;

namespace {

engine::error bad(const std::string& source, const std::string& what) {
    return make_error(errc::invalid_argument, source + ": " + what);
}

using toml_fields::get_int;
using toml_fields::only_known;
using toml_fields::section;

engine::result<void> get_ms(const toml::table& t, const char* key, const std::string& where, int64_t lo, int64_t hi,
                            std::chrono::milliseconds& out) {
    int64_t v = out.count();
    if (auto r = get_int(t, key, where, lo, hi, v); !r) return r;
    out = std::chrono::milliseconds{v};
    return {};
}

/// A path or name: present means non-empty.
engine::result<void> get_string(const toml::table& t, const char* key, const std::string& where, std::string& out) {
    if (!t.get(key)) return {};
    std::string v;
    if (auto r = toml_fields::get_string(t, key, where, v); !r) return r;
    if (v.empty()) return make_error(errc::invalid_argument, where + "." + key + ": must be a non-empty string");
    out = std::move(v);
    return {};
}

/// A non-empty array of at most `max` distinct names, each mapped by `lookup`.
template <class T, class F>
engine::result<void> get_list(const toml::table& t, const char* key, const std::string& where, std::size_t max,
                              F lookup, std::vector<T>& out) {
    const auto* n = t.get(key);
    if (!n) return {};
    const auto* a = n->as_array();
    const std::string field = where + "." + key;
    if (!a || a->empty() || a->size() > max)
        return make_error(errc::invalid_argument, field + ": must be an array of 1.." + std::to_string(max) + " names");
    std::vector<T> v;
    for (const auto& e : *a) {
        const auto s = e.value<std::string>();
        if (!s) return make_error(errc::invalid_argument, field + ": every entry must be a string");
        const std::optional<T> x = lookup(*s);
        if (!x) return make_error(errc::invalid_argument, field + ": '" + *s + "' is not one we implement");
        for (const auto& y : v)
            if (y == *x) return make_error(errc::invalid_argument, field + ": '" + *s + "' is listed twice");
        v.push_back(*x);
    }
    out = std::move(v);
    return {};
}

engine::result<void> parse_dtls(const toml::table& t, dtls_settings& d) {
    const std::string w = "dtls";
    if (auto r = only_known(t, w, {"certificate", "private_key", "profiles", "profile_selection", "initial_retransmit_ms",
                                   "backoff", "max_retransmit_ms", "handshake_timeout_ms", "mtu",
                                   "max_handshakes_per_source", "max_handshakes"});
        !r)
        return r;
    if (auto r = get_string(t, "certificate", w, d.certificate); !r) return r;
    if (auto r = get_string(t, "private_key", w, d.private_key); !r) return r;
    const auto profile = [](const std::string& s) -> std::optional<engine::suite> {
        auto x = engine::suite_from_name(s);
        // Any DTLS-SRTP profile, NULL ones included (ADR 0014: they run on GnuTLS).
        if (!x || !dtls::rfc_profile_name(*x)) return std::nullopt;
        return x;
    };
    if (auto r = get_list(t, "profiles", w, dtls::dtls_srtp_suites.size(), profile, d.profiles); !r) return r;
    std::string sel;
    if (auto r = get_string(t, "profile_selection", w, sel); !r) return r;
    if (sel == "client")
        d.selection = dtls::profile_selection::client_preference;
    else if (sel == "server")
        d.selection = dtls::profile_selection::server_preference;
    else if (!sel.empty())
        return make_error(errc::invalid_argument, "dtls.profile_selection: '" + sel + "' is not \"server\" or \"client\"");
    if (auto r = get_ms(t, "initial_retransmit_ms", w, 10, 60000, d.timers.initial_retransmit); !r) return r;
    if (auto r = get_int(t, "backoff", w, 1, 8, d.timers.backoff); !r) return r;
    if (auto r = get_ms(t, "max_retransmit_ms", w, 10, 600000, d.timers.max_retransmit); !r) return r;
    if (auto r = get_ms(t, "handshake_timeout_ms", w, 100, 600000, d.timers.handshake_timeout); !r) return r;
    if (auto r = get_int(t, "mtu", w, 256, 9000, d.mtu); !r) return r;
    if (auto r = get_int(t, "max_handshakes_per_source", w, 1, 1 << 20, d.max_handshakes_per_source); !r) return r;
    if (auto r = get_int(t, "max_handshakes", w, 1, 1 << 24, d.max_handshakes); !r) return r;
    if (d.timers.max_retransmit < d.timers.initial_retransmit)
        return make_error(errc::invalid_argument, "dtls.max_retransmit_ms: must be >= initial_retransmit_ms");
    return {};
}

template <class T>
auto word_lookup(std::optional<T> (*from)(zrtp::algo_word) noexcept) {
    return [from](const std::string& s) -> std::optional<T> {
        if (s.size() != 4) return std::nullopt;
        return from(zrtp::word_of(s));
    };
}

engine::result<void> parse_zrtp(const toml::table& t, zrtp_settings& z) {
    const std::string w = "zrtp";
    if (auto r = only_known(t, w, {"cache", "cache_key", "hashes", "ciphers", "auth_tags", "key_agreements", "sas_types",
                                   "t1_initial_ms", "t1_cap_ms", "t1_max_retransmissions", "t2_initial_ms", "t2_cap_ms",
                                   "t2_max_retransmissions", "handshake_timeout_ms", "client_id"});
        !r)
        return r;
    if (auto r = get_string(t, "cache", w, z.cache); !r) return r;
    if (auto r = get_string(t, "cache_key", w, z.cache_key); !r) return r;
    auto& e = z.exchange;
    auto& a = e.algorithms;
    if (auto r = get_list(t, "hashes", w, 7, word_lookup(&zrtp::hash_from_word), a.hashes); !r) return r;
    if (auto r = get_list(t, "ciphers", w, 7, word_lookup(&zrtp::cipher_from_word), a.ciphers); !r) return r;
    if (auto r = get_list(t, "auth_tags", w, 7, word_lookup(&zrtp::auth_from_word), a.auth_tags); !r) return r;
    const auto ka = [](const std::string& s) -> std::optional<zrtp::key_agreement> {
        if (s.size() != 4) return std::nullopt;
        auto k = zrtp::ka_from_word(zrtp::word_of(s));
        // Mult is added by the endpoint when allowed; Prsh is not offered (no preshared mode).
        if (!k || *k == zrtp::key_agreement::mult || *k == zrtp::key_agreement::prsh) return std::nullopt;
        return k;
    };
    if (auto r = get_list(t, "key_agreements", w, 7, ka, a.key_agreements); !r) return r;
    if (auto r = get_list(t, "sas_types", w, 7, word_lookup(&zrtp::sas_from_word), a.sas_types); !r) return r;
    if (auto r = get_ms(t, "t1_initial_ms", w, 10, 10000, e.t1_initial); !r) return r;
    if (auto r = get_ms(t, "t1_cap_ms", w, 10, 60000, e.t1_cap); !r) return r;
    if (auto r = get_int(t, "t1_max_retransmissions", w, 1, 1000, e.t1_max_retransmissions); !r) return r;
    if (auto r = get_ms(t, "t2_initial_ms", w, 10, 10000, e.t2_initial); !r) return r;
    if (auto r = get_ms(t, "t2_cap_ms", w, 10, 60000, e.t2_cap); !r) return r;
    if (auto r = get_int(t, "t2_max_retransmissions", w, 1, 1000, e.t2_max_retransmissions); !r) return r;
    if (auto r = get_ms(t, "handshake_timeout_ms", w, 100, 600000, e.handshake_timeout); !r) return r;
    if (auto r = get_string(t, "client_id", w, e.client_id); !r) return r;
    if (e.client_id.size() > 16) return make_error(errc::invalid_argument, "zrtp.client_id: at most 16 characters (RFC 6189 §5.2)");
    if (e.t1_cap < e.t1_initial || e.t2_cap < e.t2_initial)
        return make_error(errc::invalid_argument, "zrtp: a timer cap is below its initial value");
    return {};
}

} // namespace

engine::result<media_config> parse_media_config(std::string_view toml_text, const std::string& source) {
    auto parsed = toml_fields::parse(toml_text, source);
    if (!parsed) return parsed.err();
    const toml::table& doc = *parsed;
    media_config c;
    engine::result<void> err;
    if (const auto* t = section(doc, "dtls", err))
        if (auto r = parse_dtls(*t, c.dtls); !r) return bad(source, r.err().message);
    if (const auto* t = section(doc, "zrtp", err))
        if (auto r = parse_zrtp(*t, c.zrtp); !r) return bad(source, r.err().message);
    if (!err) return bad(source, err.err().message);
    return c;
}

} // namespace srtpo::cp::media
