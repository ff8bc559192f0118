#include "options.hpp"

#include <charconv>
#include <string_view>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

namespace {

engine::result<uint64_t> number(std::string_view opt, const char* v, uint64_t lo, uint64_t hi) {
    const std::string_view s = v ? v : "";
    uint64_t x = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || x < lo || x > hi)
        return make_error(errc::invalid_argument,
                          std::string(opt) + ": expected an integer " + std::to_string(lo) + ".." + std::to_string(hi));
    return x;
}

} // namespace

engine::result<options> parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        auto num = [&](uint64_t lo, uint64_t hi) {
            ++i;
            return number(a, v, lo, hi);
        };
        if (a == "--flows") {
            if (!v) return make_error(errc::invalid_argument, "--flows: needs a file");
            o.flows = v;
            ++i;
        } else if (a == "--table") {
            if (!v || !*v) return make_error(errc::invalid_argument, "--table: needs the session table's shm name");
            o.table = v;
            ++i;
        } else if (a == "--exit-after-idle") {
            auto n = num(1, 3'600'000);
            if (!n) return n.err();
            o.exit_after_idle_ms = static_cast<uint32_t>(*n);
        } else if (a == "--stats-interval") {
            auto n = num(1, 86'400);
            if (!n) return n.err();
            o.stats_interval_s = static_cast<uint32_t>(*n);
        } else if (a == "--burst") {
            auto n = num(1, 64);
            if (!n) return n.err();
            o.burst = static_cast<uint16_t>(*n);
        } else if (a == "--tx-port") {
            auto n = num(0, 1023);
            if (!n) return n.err();
            o.tx_port = static_cast<uint16_t>(*n);
        } else if (a == "--exception-port") {
            auto n = num(0, 1023);
            if (!n) return n.err();
            o.exception_port = static_cast<uint16_t>(*n);
        } else if (a == "--exception-iface") {
            const std::string_view n = v ? v : "";
            // IFNAMSIZ is 16 with the terminating NUL; net_tap takes the name as a devargs value.
            if (n.empty() || n.size() > 15 || n.find_first_of(",= /") != std::string_view::npos)
                return make_error(errc::invalid_argument, "--exception-iface: an interface name of 1..15 characters without , = / or space");
            o.exception_iface = n;
            ++i;
        } else if (a == "--no-exception") {
            o.no_exception = true;
        } else if (a == "--rss") {
            const std::string_view r = v ? v : "";
            if (r == "ip") o.rss = options::rss_kind::ip;
            else if (r == "udp") o.rss = options::rss_kind::udp;
            else return make_error(errc::invalid_argument, "--rss: expected ip or udp");
            ++i;
        } else if (a == "--l2") {
            const std::string_view m = v ? v : "";
            if (m == "route") o.l2_route = true;
            else if (m == "keep") o.l2_route = false;
            else return make_error(errc::invalid_argument, "--l2: expected route or keep");
            ++i;
        } else if (a == "--next-hop-mac") {
            if (!v) return make_error(errc::invalid_argument, "--next-hop-mac: needs [PORT=]MAC");
            std::string_view t = v;
            options::port_next_hop h;
            if (const auto eq = t.find('='); eq != std::string_view::npos) {
                const std::string port(t.substr(0, eq));
                auto n = number("--next-hop-mac PORT", port.c_str(), 0, 1023);
                if (!n) return n.err();
                h.port = static_cast<uint16_t>(*n);
                t = t.substr(eq + 1);
            }
            auto mac = parse_mac(t);
            if (!mac) return make_error(errc::invalid_argument, "--next-hop-mac: " + mac.err().message);
            h.mac = *mac;
            for (const auto& o2 : o.next_hops)
                if (o2.port == h.port)
                    return make_error(errc::invalid_argument, "--next-hop-mac: given twice for " +
                                                                  (h.port ? "port " + std::to_string(*h.port) : std::string("all ports")));
            o.next_hops.push_back(h);
            ++i;
        } else if (a == "--json") {
            o.json = true;
        } else {
            return make_error(errc::invalid_argument, "unknown option '" + std::string(a) + "'");
        }
    }
    if (o.flows.empty() && o.table.empty())
        return make_error(errc::invalid_argument, "--flows FILE.toml or --table NAME is required");
    if (o.no_exception && o.exception_port)
        return make_error(errc::invalid_argument, "--no-exception and --exception-port contradict each other");
    if (o.tx_port && o.exception_port && *o.tx_port == *o.exception_port)
        return make_error(errc::invalid_argument, "--tx-port and --exception-port must differ");
    return o;
}

} // namespace srtpo::pmd
