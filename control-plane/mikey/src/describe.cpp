// MIKEY message -> JSON / text for operators (keying-ctl mikey decode, srtpo-mikey-decode).
#include <srtpo/cp/mikey/describe.hpp>

#include <srtpo/cp/mikey/key_mgmt.hpp>

#include <cstdio>

namespace srtpo::cp::mikey {

namespace {
using json = nlohmann::ordered_json;

std::string hex(std::span<const uint8_t> b) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto c : b) {
        s.push_back(d[c >> 4]);
        s.push_back(d[c & 15]);
    }
    return s;
}
std::string hex32(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}
/// IDs are usually URIs; anything else (control characters, non-ASCII, invalid UTF-8, which
/// JSON cannot carry) is shown as hex so that output is always valid and terminal-safe.
std::string id_text(std::span<const uint8_t> b) {
    for (auto c : b)
        if (c < 0x20 || c > 0x7e) return "hex:" + hex(b);
    return std::string(b.begin(), b.end());
}
template <class E> json code(E v) {
    return json{{"value", static_cast<unsigned>(v)}, {"name", std::string(name_of(v))}};
}
json kv_json(const key_validity& kv) {
    json j{{"kv_type", code(kv.type)}};
    if (kv.type == kv_type::spi) j["spi"] = hex(kv.spi);
    if (kv.type == kv_type::interval) {
        j["valid_from"] = hex(kv.valid_from);
        j["valid_to"] = hex(kv.valid_to);
    }
    return j;
}

json payload_json(const payload& p, bool show_keys) {
    json j{{"payload", code(type_of(p))}};
    std::visit(
        [&](const auto& x) {
            using P = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<P, kemac_payload>) {
                j["encr_alg"] = code(x.encr);
                j["encr_data_len"] = x.encr_data.size();
                j["mac_alg"] = code(x.mac);
                j["mac"] = hex(x.mac_value);
                if (x.encr == encr_alg::null && !x.encr_data.empty()) {
                    auto pt = decode_kemac_plaintext(x.encr_data);
                    if (!pt) {
                        j["key_data_error"] = pt.err().message;
                        return;
                    }
                    for (const auto& kd : pt->keys) {
                        json k{{"type", code(kd.type)}, {"key_len", kd.key.size()}, {"salt_len", kd.salt.size()}};
                        if (show_keys) {
                            k["key"] = hex(kd.key.view());
                            if (!kd.salt.empty()) k["salt"] = hex(kd.salt.view());
                        }
                        k["kv"] = kv_json(kd.kv);
                        j["key_data"].push_back(k);
                    }
                }
            } else if constexpr (std::is_same_v<P, pke_payload>) {
                j["c"] = static_cast<unsigned>(x.cache);
                j["data_len"] = x.data.size();
            } else if constexpr (std::is_same_v<P, dh_payload>) {
                j["group"] = code(x.group);
                j["value"] = hex(x.value);
                j["kv"] = kv_json(x.kv);
            } else if constexpr (std::is_same_v<P, sign_payload>) {
                j["s_type"] = static_cast<unsigned>(x.type);
                j["signature_len"] = x.signature.size();
            } else if constexpr (std::is_same_v<P, t_payload>) {
                j["ts_type"] = code(x.type);
                j["ts_value"] = hex(x.wire_value());
            } else if constexpr (std::is_same_v<P, id_payload>) {
                j["id_type"] = static_cast<unsigned>(x.type);
                j["id"] = id_text(x.data);
            } else if constexpr (std::is_same_v<P, idr_payload>) {
                j["role"] = static_cast<unsigned>(x.role);
                j["id_type"] = static_cast<unsigned>(x.type);
                j["id"] = id_text(x.data);
            } else if constexpr (std::is_same_v<P, cert_payload>) {
                j["cert_type"] = static_cast<unsigned>(x.type);
                j["cert_len"] = x.data.size();
            } else if constexpr (std::is_same_v<P, chash_payload>) {
                j["hash_func"] = static_cast<unsigned>(x.func);
                j["hash"] = hex(x.hash);
            } else if constexpr (std::is_same_v<P, v_payload>) {
                j["mac_alg"] = code(x.mac);
                j["ver_data"] = hex(x.ver_data);
            } else if constexpr (std::is_same_v<P, sp_payload>) {
                j["policy_no"] = x.policy_no;
                j["prot_type"] = static_cast<unsigned>(x.prot);
                for (const auto& q : x.params) {
                    json pj{{"type", q.type}, {"name", std::string(name_of(static_cast<srtp_param>(q.type)))}, {"value", hex(q.value)}};
                    if (!q.value.empty() && q.value.size() <= 4) {
                        uint32_t v = 0;
                        for (auto b : q.value) v = v << 8 | b;
                        pj["int"] = v;
                    }
                    j["params"].push_back(pj);
                }
            } else if constexpr (std::is_same_v<P, rand_payload>) {
                j["rand"] = hex(x.rand);
            } else if constexpr (std::is_same_v<P, err_payload>) {
                j["err"] = code(x.err);
            } else {
                j["type"] = x.type;
                j["data"] = hex(x.data);
            }
        },
        p);
    return j;
}

void text_of(const json& j, const std::string& ind, std::string& out) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        const json& v = it.value();
        const std::string key = j.is_array() ? "-" : it.key() + ":";
        if (v.is_object() && v.contains("name") && v.contains("value") && v.size() == 2) {
            out += ind + key + " " + v["name"].get<std::string>() + " (" + std::to_string(v["value"].get<unsigned>()) + ")\n";
        } else if (v.is_structured()) {
            out += ind + key + "\n";
            text_of(v, ind + "  ", out);
        } else {
            out += ind + key + " " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
        }
    }
}
} // namespace

json to_json(const message& m, bool show_keys) {
    json h{{"version", m.hdr.version}, {"data_type", code(m.hdr.type)}, {"v", m.hdr.v},
           {"prf_func", static_cast<unsigned>(m.hdr.prf)}, {"csb_id", hex32(m.hdr.csb_id)},
           {"n_cs", m.hdr.n_cs()},
           {"cs_id_map_type", m.hdr.map_type == cs_id_map_type::srtp_id ? "SRTP-ID" : "Empty"}};
    for (const auto& c : m.hdr.cs)
        h["cs"].push_back(json{{"policy_no", c.policy_no}, {"ssrc", hex32(c.ssrc)}, {"roc", c.roc}});
    json j{{"hdr", h}, {"payloads", json::array()}};
    for (const auto& p : m.payloads) j["payloads"].push_back(payload_json(p, show_keys));
    return j;
}

std::string to_text(const json& j) {
    std::string out;
    text_of(j, "", out);
    return out;
}

engine::result<std::string> describe(std::string_view input, describe_format f, bool show_keys) {
    auto raw = parse_key_mgmt(input);
    if (!raw) return raw.err();
    auto m = decode(*raw);
    if (!m) return m.err();
    json j = to_json(*m, show_keys);
    return f == describe_format::json ? j.dump(2) + "\n" : to_text(j);
}

} // namespace srtpo::cp::mikey
