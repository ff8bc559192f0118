#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/api/flow_spec.hpp>

#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/session.hpp>

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <limits>
#include <string_view>

namespace srtpo::cp::api {

using nlohmann::json;

namespace {

api_error bad_request(const std::string& field, const std::string& msg) {
    return make_api_error(api_errc::bad_request, field, msg);
}

/// Refuses fields the API does not define: a typo ("send-to") must not silently do nothing.
std::optional<api_error> only_known(const json& j, const std::string& field, std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : j.items()) {
        bool found = false;
        for (auto n : known) found = found || k == n;
        if (!found) return bad_request(field + "." + k, "unknown field '" + k + "'");
    }
    return std::nullopt;
}

template <class T>
std::optional<api_error> get_uint(const json& j, const char* name, const std::string& field, uint64_t lo, uint64_t hi,
                                  T& out) {
    auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    const std::string f = field + "." + name;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->template get<int64_t>() >= 0))
        return bad_request(f, std::string(name) + " must be a non-negative integer");
    const uint64_t v = it->template get<uint64_t>();
    if (v < lo || v > hi)
        return make_api_error(api_errc::invalid_argument, f,
                              std::string(name) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
                                  std::to_string(hi));
    out = static_cast<T>(v);
    return std::nullopt;
}

std::optional<api_error> get_bool(const json& j, const char* name, const std::string& field, bool& out) {
    auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    if (!it->is_boolean()) return bad_request(field + "." + name, std::string(name) + " must be true or false");
    out = it->get<bool>();
    return std::nullopt;
}

api_result<std::optional<table::endpoint>> get_endpoint(const json& j, const char* name, const std::string& field) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::optional<table::endpoint>{};
    const std::string f = field + "." + name;
    if (!it->is_string()) return bad_request(f, std::string(name) + " must be a string \"address:port\"");
    auto e = parse_endpoint(it->get_ref<const std::string&>(), f);
    if (!e) return e.err();
    return std::optional<table::endpoint>{*e};
}

} // namespace

table::leg_action action_of(const flow_spec& f) noexcept {
    if (f.authenticate_only) return table::leg_action::auth_only;
    if (f.in && f.out) return table::leg_action::transcrypt;
    if (f.in) return table::leg_action::unprotect;
    if (f.out) return table::leg_action::protect;
    return table::leg_action::tap;
}

api_result<leg_spec> parse_leg(const json& j, const std::string& field, bool key_required) {
    if (!j.is_object()) return bad_request(field, "must be an object {\"suite\": ..., \"key\": ...}");
    if (auto e = only_known(j, field, {"suite", "key", "window", "roc", "unencrypted_srtp", "unencrypted_srtcp",
                                       "unauthenticated_srtp"}))
        return *e;
    leg_spec l;
    auto s = j.find("suite");
    if (s == j.end()) return bad_request(field + ".suite", "suite is missing");
    if (!s->is_string()) return bad_request(field + ".suite", "suite must be a string");
    const auto& name = s->get_ref<const std::string&>();
    auto id = engine::suite_from_name(name);
    if (!id)
        return make_api_error(api_errc::unknown_suite, field + ".suite",
                              "unknown suite '" + name + "' (SDES names, e.g. AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM)");
    l.suite = *id;
    const auto& t = engine::traits(l.suite);

    auto k = j.find("key");
    if (k == j.end()) {
        if (key_required) return bad_request(field + ".key", "key is missing (SDES key-param: inline:BASE64[|lifetime][|mki:len])");
    } else {
        if (!k->is_string()) return bad_request(field + ".key", "key must be a string");
        auto p = engine::parse_sdes_inline(k->get_ref<const std::string&>());
        if (!p) {
            const auto c = p.err().code == engine::errc::bad_key_length ? api_errc::bad_key_length : api_errc::invalid_argument;
            return make_api_error(c, field + ".key", p.err().message);
        }
        if (p->key_salt.size() != t.key_salt_len())
            return make_api_error(api_errc::bad_key_length, field + ".key",
                                  std::string(t.name) + " needs " + std::to_string(t.key_salt_len()) +
                                      " octets of master key || salt (" + std::to_string(t.master_key_len) + " + " +
                                      std::to_string(t.master_salt_len) + "), the key has " +
                                      std::to_string(p->key_salt.size()));
        if (p->mki) {
            if (p->mki->length > table::max_slot_mki_len)
                return make_api_error(api_errc::unsupported, field + ".key",
                                      "MKI of " + std::to_string(p->mki->length) + " octets: the session table carries at most " +
                                          std::to_string(table::max_slot_mki_len));
            l.mki = p->mki->bytes;
            l.mki_value = p->mki->value;
        }
        l.key_salt = std::move(p->key_salt);
        l.lifetime = p->lifetime;
    }
    if (auto e = get_uint(j, "window", field, engine::min_replay_window, engine::max_replay_window, l.window)) return *e;
    if (auto e = get_uint(j, "roc", field, 0, std::numeric_limits<uint32_t>::max(), l.roc)) return *e;
    if (auto e = get_bool(j, "unencrypted_srtp", field, l.unencrypted_srtp)) return *e;
    if (auto e = get_bool(j, "unencrypted_srtcp", field, l.unencrypted_srtcp)) return *e;
    if (auto e = get_bool(j, "unauthenticated_srtp", field, l.unauthenticated_srtp)) return *e;
    if (l.unauthenticated_srtp && t.aead())
        return make_api_error(api_errc::unsupported, field + ".unauthenticated_srtp",
                              "UNAUTHENTICATED_SRTP is not allowed with an AEAD suite (RFC 7714 §13)");
    return l;
}

api_result<flow_spec> parse_flow(const json& j, const std::string& field, bool keys_required) {
    if (!j.is_object()) return bad_request(field, "a flow must be a JSON object");
    if (auto e = only_known(j, field, {"match", "in", "out", "authenticate_only", "rtcp_mux", "send_from", "send_to",
                                       "rekey_grace_ms"}))
        return *e;
    flow_spec f;
    auto m = j.find("match");
    if (m == j.end()) return bad_request(field + ".match", "match is missing (the local \"address:port\" media arrives on)");
    if (!m->is_string()) return bad_request(field + ".match", "match must be a string \"address:port\"");
    auto me = parse_endpoint(m->get_ref<const std::string&>(), field + ".match");
    if (!me) return me.err();
    f.match = *me;
    for (const char* side : {"in", "out"}) {
        auto it = j.find(side);
        if (it == j.end() || it->is_null()) continue;
        auto l = parse_leg(*it, field + "." + side, keys_required);
        if (!l) return l.err();
        (std::string_view(side) == "in" ? f.in : f.out) = std::move(l.value());
    }
    if (auto e = get_bool(j, "authenticate_only", field, f.authenticate_only)) return *e;
    if (auto e = get_bool(j, "rtcp_mux", field, f.rtcp_mux)) return *e;
    if (f.authenticate_only && (!f.in || f.out))
        return make_api_error(api_errc::invalid_argument, field + ".authenticate_only",
                              "authenticate_only needs an \"in\" leg and no \"out\" leg");
    if (!f.rtcp_mux && f.match.port == 65535)
        return make_api_error(api_errc::invalid_argument, field + ".match",
                              "port 65535 has no port + 1 for RTCP: set rtcp_mux or use another port");
    auto sf = get_endpoint(j, "send_from", field);
    if (!sf) return sf.err();
    f.send_from = *sf;
    auto st = get_endpoint(j, "send_to", field);
    if (!st) return st.err();
    f.send_to = *st;
    uint16_t grace = 0;
    if (j.contains("rekey_grace_ms")) {
        if (auto e = get_uint(j, "rekey_grace_ms", field, 0, 60000, grace)) return *e;
        f.rekey_grace_ms = grace;
    }
    return f;
}

namespace {
json leg_json(const leg_spec& l, bool reveal) {
    json j{{"suite", engine::traits(l.suite).name}, {"window", l.window}, {"roc", l.roc}};
    if (!l.mki.empty()) j["mki"] = std::to_string(l.mki_value) + ":" + std::to_string(l.mki.size());
    if (l.lifetime) j["lifetime"] = l.lifetime;
    if (l.unencrypted_srtp) j["unencrypted_srtp"] = true;
    if (l.unencrypted_srtcp) j["unencrypted_srtcp"] = true;
    if (l.unauthenticated_srtp) j["unauthenticated_srtp"] = true;
    j["key_available"] = !l.key_salt.empty();
    if (reveal && !l.key_salt.empty()) {
        std::optional<engine::sdes_mki> mki;
        if (!l.mki.empty())
            if (auto m = engine::make_sdes_mki(l.mki_value, l.mki.size())) mki = std::move(m.value());
        if (auto s = engine::encode_sdes_inline(l.key_salt.bytes(), l.lifetime, mki)) {
            j["key"] = *s;
            engine::secure_zero(s->data(), s->size());
        }
    }
    return j;
}
} // namespace

json to_json(const flow_spec& f, bool reveal_keys) {
    json j{{"match", to_string(f.match)},
           {"action", table::to_string(action_of(f))},
           {"rtcp_mux", f.rtcp_mux},
           {"authenticate_only", f.authenticate_only}};
    if (f.in) j["in"] = leg_json(*f.in, reveal_keys);
    if (f.out) j["out"] = leg_json(*f.out, reveal_keys);
    if (f.send_from) j["send_from"] = to_string(*f.send_from);
    if (f.send_to) j["send_to"] = to_string(*f.send_to);
    if (f.rekey_grace_ms) j["rekey_grace_ms"] = *f.rekey_grace_ms;
    return j;
}

} // namespace srtpo::cp::api
