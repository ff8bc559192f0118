#pragma once
// Parsing what tests/interop/zrtp/bzrtp_harness prints (its "SECURE stream=K sas=...",
// "KEYS stream=K tx=.. rx=..", "SRTP ..." and "ZRTP-HASH 1.10 <hex>" lines), shared by the tests
// that drive it (tests/zrtp, tests/media, tests/bridge). Header-only, test code, pure functions.

#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace srtpo::test::bzrtp {

/// key=value fields of the first line of `out` starting with `tag` (and, if given, carrying
/// stream=`stream`); empty when there is none.
inline std::map<std::string, std::string> fields(const std::string& out, const std::string& tag, std::optional<int> stream = {}) {
    std::istringstream in(out);
    std::string l;
    while (std::getline(in, l)) {
        if (l.rfind(tag + " ", 0) != 0) continue;
        if (stream && l.find("stream=" + std::to_string(*stream) + " ") == std::string::npos) continue;
        std::map<std::string, std::string> m;
        std::istringstream ls(l.substr(tag.size() + 1));
        std::string kv;
        while (ls >> kv)
            if (auto e = kv.find('='); e != std::string::npos) m[kv.substr(0, e)] = kv.substr(e + 1);
        return m;
    }
    return {};
}

/// The harness's own a=zrtp-hash value ("1.10 <hex>"), from its "ZRTP-HASH " line; "" if none yet.
inline std::string hello_hash(const std::string& out) {
    const auto p = out.find("ZRTP-HASH ");
    if (p == std::string::npos) return "";
    return out.substr(p + 10, out.find('\n', p) - p - 10);
}

} // namespace srtpo::test::bzrtp
