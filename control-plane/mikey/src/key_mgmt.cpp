// RFC 4567 a=key-mgmt:mikey attribute value, with strict RFC 4648 base64.
#include <srtpo/cp/mikey/key_mgmt.hpp>

#include <cctype>

namespace srtpo::cp::mikey {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64v(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
engine::error bad(std::string m) { return engine::make_error(engine::errc::invalid_argument, std::move(m)); }
bool iequal_prefix(std::string_view s, std::string_view p) {
    if (s.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != p[i]) return false;
    return true;
}
std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}
} // namespace

std::string base64_encode(std::span<const uint8_t> in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const uint32_t n = static_cast<uint32_t>(in[i]) << 16 | (i + 1 < in.size() ? in[i + 1] << 8 : 0) |
                           (i + 2 < in.size() ? in[i + 2] : 0);
        out.push_back(alphabet[n >> 18 & 63]);
        out.push_back(alphabet[n >> 12 & 63]);
        out.push_back(i + 1 < in.size() ? alphabet[n >> 6 & 63] : '=');
        out.push_back(i + 2 < in.size() ? alphabet[n & 63] : '=');
    }
    return out;
}

engine::result<bytes> base64_decode(std::string_view in) {
    if (in.empty()) return bad("key-mgmt: no base64 data");
    if (in.size() % 4 != 0) return bad("key-mgmt: base64 length is not a multiple of 4");
    std::size_t pad = 0;
    while (pad < 2 && in[in.size() - 1 - pad] == '=') ++pad;
    bytes out;
    out.reserve(in.size() / 4 * 3);
    uint32_t acc = 0;
    for (std::size_t i = 0; i < in.size() - pad; ++i) {
        const int v = b64v(in[i]);
        if (v < 0) return bad("key-mgmt: character outside the base64 alphabet at offset " + std::to_string(i));
        acc = acc << 6 | static_cast<uint32_t>(v);
        if (i % 4 == 3) {
            out.push_back(static_cast<uint8_t>(acc >> 16));
            out.push_back(static_cast<uint8_t>(acc >> 8));
            out.push_back(static_cast<uint8_t>(acc));
            acc = 0;
        }
    }
    if (pad == 2) {
        if (acc & 0xf) return bad("key-mgmt: non-zero base64 pad bits");
        out.push_back(static_cast<uint8_t>(acc >> 4));
    } else if (pad == 1) {
        if (acc & 0x3) return bad("key-mgmt: non-zero base64 pad bits");
        out.push_back(static_cast<uint8_t>(acc >> 10));
        out.push_back(static_cast<uint8_t>(acc >> 2));
    }
    return out;
}

std::string key_mgmt_value(std::span<const uint8_t> msg) { return "mikey " + base64_encode(msg); }
std::string key_mgmt_line(std::span<const uint8_t> msg) { return "a=key-mgmt:" + key_mgmt_value(msg); }

engine::result<bytes> parse_key_mgmt(std::string_view text) {
    std::string_view s = trim(text);
    if (iequal_prefix(s, "a=")) s.remove_prefix(2);
    if (iequal_prefix(s, "key-mgmt:")) {
        s.remove_prefix(9);
        s = trim(s);
        const auto sp = s.find_first_of(" \t");
        const std::string_view id = s.substr(0, sp);
        if (!(id.size() == 5 && iequal_prefix(id, "mikey")))
            return bad("key-mgmt: prtcl-id is \"" + std::string(id.substr(0, 32)) + "\", not mikey");
        if (sp == std::string_view::npos) return bad("key-mgmt: no keymgmt-data after prtcl-id");
        s = trim(s.substr(sp));
    } else if (iequal_prefix(s, "mikey") && s.size() > 5 && std::isspace(static_cast<unsigned char>(s[5]))) {
        s = trim(s.substr(5));
    }
    return base64_decode(s);
}

} // namespace srtpo::cp::mikey
