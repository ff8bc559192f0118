// a=crypto parse/serialize (RFC 4568 §9.1 grammar, §6 semantics).

#include <srtpo/cp/sdes/crypto_attribute.hpp>

#include <openssl/crypto.h>

#include <cctype>
#include <set>

namespace srtpo::cp::sdes {
namespace {

error bad(std::string msg) { return engine::make_error(errc::invalid_argument, "a=crypto: " + std::move(msg)); }

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::vector<std::string_view> split_wsp(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_wsp(s[i])) ++i;
        std::size_t j = i;
        while (j < s.size() && !is_wsp(s[j])) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<uint32_t> digits(std::string_view s, std::size_t max_len) {
    if (s.empty() || s.size() > max_len) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > 0xffffffffu) return std::nullopt;
    return static_cast<uint32_t>(v);
}

// key-params = key-param *(";" key-param), each checked against the suite's key||salt length
// (§6.2), and, when there are several, each with an MKI of one common length and distinct
// values (§6.1: the MKI tells the receiver which key a packet uses).
result<std::vector<engine::sdes_key_params>> parse_key_params(std::string_view s, const engine::suite_traits& t,
                                                              std::string_view what) {
    std::vector<engine::sdes_key_params> keys;
    std::size_t i = 0;
    while (true) {
        auto j = s.find(';', i);
        auto one = s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
        auto k = engine::parse_sdes_inline(one);
        if (!k) return engine::make_error(k.err().code, "a=crypto: " + std::string(what) + " " + std::to_string(keys.size() + 1) + ": " + k.err().message);
        if (k->key_salt.size() != t.key_salt_len())
            return engine::make_error(errc::bad_key_length,
                "a=crypto: " + std::string(what) + " " + std::to_string(keys.size() + 1) + " is " +
                std::to_string(k->key_salt.size()) + " octets, " + std::string(t.name) + " needs " +
                std::to_string(t.key_salt_len()));
        keys.push_back(std::move(*k));
        if (j == std::string_view::npos) break;
        i = j + 1;
    }
    if (keys.size() > 1) {
        std::set<uint64_t> seen;
        for (const auto& k : keys) {
            if (!k.mki) return bad("several " + std::string(what) + "s but not each with an MKI (RFC 4568 §6.1)");
            if (k.mki->length != keys.front().mki->length) return bad("MKI lengths differ between keys");
            if (!seen.insert(k.mki->value).second) return bad("two keys with the same MKI value");
        }
    }
    return keys;
}

result<void> parse_session_param(std::string_view p, session_params& sp, const engine::suite_traits& t) {
    auto once = [&](bool already, std::string_view name) -> result<void> {
        if (already) return bad(std::string(name) + " given twice");
        return {};
    };
    if (p.starts_with("KDR=")) {
        if (auto r = once(sp.kdr.has_value(), "KDR"); !r) return r;
        auto v = digits(p.substr(4), 2);
        if (!v || *v > 24) return bad("KDR is not 0..24 (RFC 4568 §6.3.1)");
        sp.kdr = *v;
    } else if (p == "UNENCRYPTED_SRTP") {
        if (auto r = once(sp.unencrypted_srtp, p); !r) return r;
        sp.unencrypted_srtp = true;
    } else if (p == "UNENCRYPTED_SRTCP") {
        if (auto r = once(sp.unencrypted_srtcp, p); !r) return r;
        sp.unencrypted_srtcp = true;
    } else if (p == "UNAUTHENTICATED_SRTP") {
        if (auto r = once(sp.unauthenticated_srtp, p); !r) return r;
        sp.unauthenticated_srtp = true;
    } else if (p.starts_with("FEC_ORDER=")) {
        if (auto r = once(sp.fec.has_value(), "FEC_ORDER"); !r) return r;
        auto v = p.substr(10);
        if (v == "FEC_SRTP") sp.fec = fec_order::fec_srtp;
        else if (v == "SRTP_FEC") sp.fec = fec_order::srtp_fec;
        else return bad("FEC_ORDER is not FEC_SRTP or SRTP_FEC (RFC 4568 §6.3)");
    } else if (p.starts_with("FEC_KEY=")) {
        if (auto r = once(!sp.fec_keys.empty(), "FEC_KEY"); !r) return r;
        auto k = parse_key_params(p.substr(8), t, "FEC_KEY key");
        if (!k) return k.err();
        sp.fec_keys = std::move(*k);
    } else if (p.starts_with("WSH=")) {
        if (auto r = once(sp.wsh.has_value(), "WSH"); !r) return r;
        auto v = digits(p.substr(4), 10);
        if (!v || *v < 64) return bad("WSH is not a number >= 64 (RFC 4568 §6.3)");
        sp.wsh = *v;
    } else {
        for (char c : p)
            if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
                return bad("session parameter has a non-visible character");
        // srtp-session-extension = ["-"] 1*VCHAR: '-' marks one the receiver may ignore.
        if (p.front() == '-') sp.ignorable_extensions.emplace_back(p);
        else sp.mandatory_extensions.emplace_back(p);
    }
    return {};
}

void append_key(std::string& out, const engine::sdes_key_params& k, bool& ok, error& err) {
    auto s = engine::encode_sdes_inline(k);
    if (!s) {
        ok = false;
        err = s.err();
        return;
    }
    out.append(*s);
    OPENSSL_cleanse(s->data(), s->size());
}

} // namespace

result<crypto_attribute> parse_crypto(std::string_view value) {
    auto f = split_wsp(value);
    if (f.size() < 3) return bad("needs a tag, a crypto-suite and key-params");
    crypto_attribute a;
    auto tag = digits(f[0], 9);
    if (!tag) return bad("tag is not 1 to 9 digits");
    a.tag = *tag;
    for (char c : f[1])
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return bad("crypto-suite name is malformed");
    a.suite_name = std::string(f[1]);
    a.suite = engine::suite_from_name(f[1]);
    if (!a.suite) return a; // unknown suite: the answerer skips it (§7.1.2)
    const auto& t = engine::traits(*a.suite);
    auto keys = parse_key_params(f[2], t, "key");
    if (!keys) return keys.err();
    a.keys = std::move(*keys);
    for (std::size_t i = 3; i < f.size(); ++i) {
        auto r = parse_session_param(f[i], a.params, t);
        if (!r) return r.err();
    }
    return a;
}

result<std::string> serialize_crypto(const crypto_attribute& a) {
    if (a.keys.empty()) return bad("no key to serialize");
    std::string out;
    // Reserve once so appending keys never reallocates and leaves key text in freed memory.
    out.reserve(256 + (a.keys.size() + a.params.fec_keys.size()) * 128);
    out.append(std::to_string(a.tag)).append(" ");
    out.append(a.suite ? engine::traits(*a.suite).name : std::string_view(a.suite_name)).append(" ");
    bool ok = true;
    error err{};
    for (std::size_t i = 0; i < a.keys.size() && ok; ++i) {
        if (i) out.push_back(';');
        append_key(out, a.keys[i], ok, err);
    }
    const auto& p = a.params;
    if (p.kdr) out.append(" KDR=").append(std::to_string(*p.kdr));
    if (p.unencrypted_srtp) out.append(" UNENCRYPTED_SRTP");
    if (p.unencrypted_srtcp) out.append(" UNENCRYPTED_SRTCP");
    if (p.unauthenticated_srtp) out.append(" UNAUTHENTICATED_SRTP");
    if (p.fec) out.append(*p.fec == fec_order::fec_srtp ? " FEC_ORDER=FEC_SRTP" : " FEC_ORDER=SRTP_FEC");
    if (!p.fec_keys.empty()) {
        out.append(" FEC_KEY=");
        for (std::size_t i = 0; i < p.fec_keys.size() && ok; ++i) {
            if (i) out.push_back(';');
            append_key(out, p.fec_keys[i], ok, err);
        }
    }
    if (p.wsh) out.append(" WSH=").append(std::to_string(*p.wsh));
    for (const auto& e : p.mandatory_extensions) out.append(" ").append(e);
    for (const auto& e : p.ignorable_extensions) out.append(" ").append(e);
    if (!ok) {
        OPENSSL_cleanse(out.data(), out.size());
        return err;
    }
    return out;
}

} // namespace srtpo::cp::sdes
