#include "flow_keys.hpp"

#include <srtpo/engine/sdes_inline.hpp>

#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include <sys/stat.h>

namespace srtpo::tools {

using engine::errc;
using engine::make_error;

engine::result<engine::session_ptr> make_session_from(const key_spec& k, engine::direction dir) {
    auto s = engine::suite_from_name(k.suite);
    if (!s) return make_error(errc::unknown_suite, "unknown suite '" + k.suite + "' (expected an SDES name such as AES_CM_128_HMAC_SHA1_80)");
    const auto& t = engine::traits(*s);
    auto p = engine::parse_sdes_inline(k.inline_key);
    if (!p) return make_error(p.err().code, "key: " + p.err().message);
    const auto ks = p->key_salt.bytes();
    if (ks.size() != t.key_salt_len())
        return make_error(errc::bad_key_length, "key: " + std::string(t.name) + " needs " + std::to_string(t.key_salt_len()) +
                                                    " octets of master key and salt (base64 of " +
                                                    std::to_string(t.master_key_len) + " + " + std::to_string(t.master_salt_len) +
                                                    "), got " + std::to_string(ks.size()));
    engine::session_config c;
    c.s = *s;
    c.dir = dir;
    c.backend = k.backend;
    c.replay_window = k.window;
    c.initial_roc = k.roc;
    c.max_streams = 4096;
    engine::master_key_config m;
    m.key = ks.first(t.master_key_len);
    m.salt = ks.subspan(t.master_key_len);
    m.lifetime = p->lifetime;
    if (p->mki) m.mki = p->mki->bytes;
    c.keys.push_back(m);
    return engine::make_session(c);
}

engine::result<std::pair<std::optional<net::ip_address>, std::optional<uint16_t>>> parse_endpoint(const std::string& s) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return make_error(errc::invalid_argument, "endpoint '" + s + "' needs addr:port");
    std::string host = s.substr(0, colon), port = s.substr(colon + 1);
    std::optional<net::ip_address> addr;
    std::optional<uint16_t> p;
    if (port != "*") {
        char* end = nullptr;
        const long v = std::strtol(port.c_str(), &end, 10);
        if (port.empty() || *end || v < 0 || v > 65535) return make_error(errc::invalid_argument, "endpoint '" + s + "': bad port");
        p = static_cast<uint16_t>(v);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host != "*") {
        net::ip_address a;
        if (inet_pton(AF_INET, host.c_str(), a.bytes.data()) == 1) a.family = net::ip_family::ipv4;
        else if (inet_pton(AF_INET6, host.c_str(), a.bytes.data()) == 1) a.family = net::ip_family::ipv6;
        else return make_error(errc::invalid_argument, "endpoint '" + s + "': bad address");
        addr = a;
    }
    return std::pair{addr, p};
}

engine::result<std::vector<flow_rule>> load_streams(const std::string& path, const key_spec& defaults, engine::direction dir) {
    std::ifstream f(path);
    if (!f) return make_error(errc::io_error, "cannot read streams file " + path);
    // The file holds master keys: say so when others can read it (it should be 0600).
    struct stat sb {};
    if (::stat(path.c_str(), &sb) == 0 && (sb.st_mode & 077))
        std::cerr << "srtpo-pcap: warning: " << path << " holds keys and is accessible to group/others (mode "
                  << std::oct << (sb.st_mode & 0777) << std::dec << "); chmod 600 it\n";
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
        return make_error(errc::invalid_argument, path + ": not JSON: " + e.what());
    }
    if (!doc.is_array()) return make_error(errc::invalid_argument, path + ": expected a JSON array of stream objects");
    std::vector<flow_rule> rules;
    for (std::size_t i = 0; i < doc.size(); ++i) {
        const auto& o = doc[i];
        const std::string where = path + " entry " + std::to_string(i) + ": ";
        try {
            key_spec k = defaults;
            k.suite = o.value("suite", defaults.suite);
            if (!o.contains("key")) return make_error(errc::invalid_argument, where + "missing \"key\"");
            k.inline_key = o.at("key").get<std::string>();
            k.roc = o.value("roc", defaults.roc);
            k.window = o.value("window", defaults.window);
            flow_rule r;
            for (const char* field : {"dst", "src"}) {
                if (!o.contains(field)) continue;
                auto ep = parse_endpoint(o.at(field).get<std::string>());
                if (!ep) return make_error(ep.err().code, where + ep.err().message);
                (field[0] == 'd' ? r.dst_addr : r.src_addr) = ep->first;
                (field[0] == 'd' ? r.dst_port : r.src_port) = ep->second;
            }
            if (o.contains("ssrc")) {
                const auto& v = o.at("ssrc");
                r.ssrc = v.is_string() ? static_cast<uint32_t>(std::stoul(v.get<std::string>(), nullptr, 0)) : v.get<uint32_t>();
            }
            auto s = make_session_from(k, dir);
            if (!s) return make_error(s.err().code, where + s.err().message);
            r.session = std::move(s.value());
            rules.push_back(std::move(r));
        } catch (const std::exception& e) {
            return make_error(errc::invalid_argument, where + e.what());
        }
    }
    return rules;
}

engine::session_rt* flow_keys::find(const net::udp_frame& f, uint32_t ssrc) const noexcept {
    for (const auto& r : rules) {
        if (r.dst_addr && !(*r.dst_addr == f.dst)) continue;
        if (r.src_addr && !(*r.src_addr == f.src)) continue;
        if (r.dst_port && *r.dst_port != f.dst_port) continue;
        if (r.src_port && *r.src_port != f.src_port) continue;
        if (r.ssrc && *r.ssrc != ssrc) continue;
        return r.session.get();
    }
    return nullptr;
}

} // namespace srtpo::tools
