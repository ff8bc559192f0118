#include <srtpo/cp/call/offered_keying.hpp>

namespace srtpo::cp::call {

namespace {
bool session_attribute(const sdp::session_description& sd, std::string_view name) {
    for (const auto& l : sd.session) {
        if (l.type != 'a') continue;
        std::string_view v = l.value;
        if (v.substr(0, name.size()) == name && (v.size() == name.size() || v[name.size()] == ':')) return true;
    }
    return false;
}
bool mikey_key_mgmt(std::string_view v) { return v.substr(0, 6) == "mikey " || v == "mikey"; }
} // namespace

api::api_result<keying_method> offered_keying(const sdp::session_description& sd, std::size_t m) {
    const auto& md = sd.media.at(m);
    if (!md.attributes("crypto").empty()) return keying_method::sdes;
    for (auto v : md.attributes("key-mgmt"))
        if (mikey_key_mgmt(v)) return keying_method::mikey;
    for (const auto& l : sd.session)
        if (l.type == 'a' && l.value.rfind("key-mgmt:", 0) == 0 && mikey_key_mgmt(std::string_view(l.value).substr(9)))
            return keying_method::mikey;
    const bool tls = md.proto.rfind("UDP/TLS/", 0) == 0 || md.proto.rfind("TCP/TLS/", 0) == 0;
    if (tls || md.attribute("fingerprint") || (session_attribute(sd, "fingerprint") && md.proto.find("SAVP") != std::string::npos)) {
        if (!tls) return api::make_api_error(api::api_errc::unsupported, "sdp",
                                             "m=" + md.media + " has a=fingerprint on " + md.proto + ": DTLS-SRTP needs UDP/TLS/RTP/SAVP(F) (RFC 5764 §8)");
        return keying_method::dtls_srtp;
    }
    if (md.attribute("zrtp-hash") || session_attribute(sd, "zrtp-hash")) return keying_method::zrtp;
    if (md.proto.find("SAVP") != std::string::npos)
        return api::make_api_error(api::api_errc::unsupported, "sdp",
                                   "m=" + md.media + " is " + md.proto + " without a=crypto, a=key-mgmt:mikey or a=fingerprint");
    return keying_method::plain;
}

std::string_view to_string(keying_method k) noexcept {
    switch (k) {
    case keying_method::plain: return "plain";
    case keying_method::sdes: return "sdes";
    case keying_method::dtls_srtp: return "dtls-srtp";
    case keying_method::zrtp: return "zrtp";
    case keying_method::mikey: return "mikey";
    case keying_method::same: return "same";
    }
    return "same";
}

bool parse_keying_method(std::string_view name, keying_method& out) noexcept {
    for (auto k : {keying_method::plain, keying_method::sdes, keying_method::dtls_srtp, keying_method::zrtp, keying_method::mikey,
                   keying_method::same})
        if (to_string(k) == name) {
            out = k;
            return true;
        }
    return false;
}

} // namespace srtpo::cp::call
