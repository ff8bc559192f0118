#include <srtpo/cp/api/endpoint_text.hpp>
#include <srtpo/cp/api/flow_fields.hpp>
#include <srtpo/cp/api/flow_spec.hpp>

#include <srtpo/engine/kdf.hpp>
#include <srtpo/engine/session.hpp>

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <limits>
#include <string_view>

namespace srtpo::cp::api {

using nlohmann::json;

namespace {

api_error bad_request(const std::string& field, const std::string& msg) {
    return make_api_error(api_errc::bad_request, field, msg);
}

/// Refuses fields the API does not define: a typo ("send-to") must not silently do nothing.
template <class Fields>
std::optional<api_error> only_known(const Fields& f, const std::string& field) {
    if (!f.has_unknown) return std::nullopt;
    const std::string k(f.first_unknown);
    return bad_request(field + "." + k, "unknown field '" + k + "'");
}

template <class T>
std::optional<api_error> get_uint(const raw_value& v, const char* name, const std::string& field, uint64_t lo, uint64_t hi,
                                  T& out) {
    if (!v.present()) return std::nullopt;
    if (v.k != raw_value::kind::unsigned_int)
        return bad_request(field + "." + name, std::string(name) + " must be a non-negative integer");
    if (v.u < lo || v.u > hi)
        return make_api_error(api_errc::invalid_argument, field + "." + name,
                              std::string(name) + " " + std::to_string(v.u) + " is outside " + std::to_string(lo) + ".." +
                                  std::to_string(hi));
    out = static_cast<T>(v.u);
    return std::nullopt;
}

std::optional<api_error> get_bool(const raw_value& v, const char* name, const std::string& field, bool& out) {
    if (!v.present()) return std::nullopt;
    if (v.k != raw_value::kind::boolean) return bad_request(field + "." + name, std::string(name) + " must be true or false");
    out = v.b;
    return std::nullopt;
}

api_result<std::optional<table::endpoint>> get_endpoint(const raw_value& v, const char* name, const std::string& field) {
    if (!v.present() || v.k == raw_value::kind::null) return std::optional<table::endpoint>{};
    const std::string f = field + "." + name;
    if (v.k != raw_value::kind::string) return bad_request(f, std::string(name) + " must be a string \"address:port\"");
    auto e = parse_endpoint(v.str, f);
    if (!e) return e.err();
    return std::optional<table::endpoint>{*e};
}

// --- the DOM's view of a flow as raw fields ---

raw_value raw_of(const json& v) {
    raw_value r;
    switch (v.type()) {
    case json::value_t::null: r.k = raw_value::kind::null; break;
    case json::value_t::string:
        r.k = raw_value::kind::string;
        r.str = v.get_ref<const std::string&>();
        break;
    case json::value_t::boolean:
        r.k = raw_value::kind::boolean;
        r.b = v.get<bool>();
        break;
    case json::value_t::number_unsigned:
        r.k = raw_value::kind::unsigned_int;
        r.u = v.get<uint64_t>();
        break;
    case json::value_t::number_integer: // a json built in code holds non-negative ints here too
        if (v.get<int64_t>() < 0) r.k = raw_value::kind::negative_int;
        else {
            r.k = raw_value::kind::unsigned_int;
            r.u = static_cast<uint64_t>(v.get<int64_t>());
        }
        break;
    case json::value_t::number_float: r.k = raw_value::kind::number_float; break;
    case json::value_t::object: r.k = raw_value::kind::object; break;
    default: r.k = raw_value::kind::array; break; // array, binary, discarded: none is valid anywhere
    }
    return r;
}

leg_fields leg_fields_of(const json& j) {
    leg_fields l;
    if (!j.is_object()) return l;
    for (const auto& [k, v] : j.items()) {
        raw_value* slot = l.field(k);
        if (slot) *slot = raw_of(v);
        else note_unknown(l.has_unknown, l.first_unknown, k);
    }
    return l;
}

flow_fields flow_fields_of(const json& j) {
    flow_fields f;
    if (!j.is_object()) return f;
    for (const auto& [k, v] : j.items()) {
        if (k == "in" || k == "out") {
            (k == "in" ? f.in_v : f.out_v) = raw_of(v);
            (k == "in" ? f.in : f.out) = leg_fields_of(v);
            continue;
        }
        raw_value* slot = f.field(k);
        if (slot) *slot = raw_of(v);
        else note_unknown(f.has_unknown, f.first_unknown, k);
    }
    return f;
}

} // namespace

table::leg_action action_of(const flow_spec& f) noexcept {
    if (f.authenticate_only) return table::leg_action::auth_only;
    if (f.in && f.out) return table::leg_action::transcrypt;
    if (f.in) return table::leg_action::unprotect;
    if (f.out) return table::leg_action::protect;
    return table::leg_action::tap;
}

api_result<leg_spec> parse_leg_fields(const raw_value& v, const leg_fields& j, const std::string& field, bool key_required) {
    if (v.k != raw_value::kind::object) return bad_request(field, "must be an object {\"suite\": ..., \"key\": ...}");
    if (auto e = only_known(j, field)) return *e;
    leg_spec l;
    if (!j.suite.present()) return bad_request(field + ".suite", "suite is missing");
    if (j.suite.k != raw_value::kind::string) return bad_request(field + ".suite", "suite must be a string");
    const std::string_view name = j.suite.str;
    auto id = engine::suite_from_name(name);
    if (!id)
        return make_api_error(api_errc::unknown_suite, field + ".suite",
                              "unknown suite '" + std::string(name) +
                                  "' (SDES names, e.g. AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM)");
    l.suite = *id;
    const auto& t = engine::traits(l.suite);

    if (!j.key.present()) {
        if (key_required) return bad_request(field + ".key", "key is missing (SDES key-param: inline:BASE64[|lifetime][|mki:len])");
    } else {
        if (j.key.k != raw_value::kind::string) return bad_request(field + ".key", "key must be a string");
        auto p = engine::parse_sdes_inline(j.key.str);
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
    if (auto e = get_uint(j.window, "window", field, engine::min_replay_window, engine::max_replay_window, l.window)) return *e;
    if (auto e = get_uint(j.roc, "roc", field, 0, std::numeric_limits<uint32_t>::max(), l.roc)) return *e;
    if (auto e = get_bool(j.unencrypted_srtp, "unencrypted_srtp", field, l.unencrypted_srtp)) return *e;
    if (auto e = get_bool(j.unencrypted_srtcp, "unencrypted_srtcp", field, l.unencrypted_srtcp)) return *e;
    if (auto e = get_bool(j.unauthenticated_srtp, "unauthenticated_srtp", field, l.unauthenticated_srtp)) return *e;
    if (l.unauthenticated_srtp && t.aead())
        return make_api_error(api_errc::unsupported, field + ".unauthenticated_srtp",
                              "UNAUTHENTICATED_SRTP is not allowed with an AEAD suite (RFC 7714 §13)");
    return l;
}

api_result<leg_spec> parse_leg(const json& j, const std::string& field, bool key_required) {
    return parse_leg_fields(raw_of(j), leg_fields_of(j), field, key_required);
}

api_result<flow_spec> parse_flow_fields(const flow_fields& j, bool is_object, const std::string& field, bool keys_required) {
    if (!is_object) return bad_request(field, "a flow must be a JSON object");
    if (auto e = only_known(j, field)) return *e;
    flow_spec f;
    if (!j.match.present()) return bad_request(field + ".match", "match is missing (the local \"address:port\" media arrives on)");
    if (j.match.k != raw_value::kind::string) return bad_request(field + ".match", "match must be a string \"address:port\"");
    auto me = parse_endpoint(j.match.str, field + ".match");
    if (!me) return me.err();
    f.match = *me;
    for (const bool in : {true, false}) {
        const raw_value& v = in ? j.in_v : j.out_v;
        if (!v.present() || v.k == raw_value::kind::null) continue;
        auto l = parse_leg_fields(v, in ? j.in : j.out, field + (in ? ".in" : ".out"), keys_required);
        if (!l) return l.err();
        (in ? f.in : f.out) = std::move(l.value());
    }
    if (auto e = get_bool(j.authenticate_only, "authenticate_only", field, f.authenticate_only)) return *e;
    if (auto e = get_bool(j.rtcp_mux, "rtcp_mux", field, f.rtcp_mux)) return *e;
    if (f.authenticate_only && (!f.in || f.out))
        return make_api_error(api_errc::invalid_argument, field + ".authenticate_only",
                              "authenticate_only needs an \"in\" leg and no \"out\" leg");
    if (!f.rtcp_mux && f.match.port == 65535)
        return make_api_error(api_errc::invalid_argument, field + ".match",
                              "port 65535 has no port + 1 for RTCP: set rtcp_mux or use another port");
    auto sf = get_endpoint(j.send_from, "send_from", field);
    if (!sf) return sf.err();
    f.send_from = *sf;
    auto st = get_endpoint(j.send_to, "send_to", field);
    if (!st) return st.err();
    f.send_to = *st;
    uint16_t grace = 0;
    if (j.rekey_grace_ms.present()) {
        if (auto e = get_uint(j.rekey_grace_ms, "rekey_grace_ms", field, 0, 60000, grace)) return *e;
        f.rekey_grace_ms = grace;
    }
    return f;
}

api_result<flow_spec> parse_flow(const json& j, const std::string& field, bool keys_required) {
    return parse_flow_fields(flow_fields_of(j), j.is_object(), field, keys_required);
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
