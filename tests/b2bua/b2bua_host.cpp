// b2bua_host: srtpo-cp's SIP service (socket transports + B2BUA core) on an srtpo-cp event loop,
// with the recording test double of the call engine (fake_call_engine.hpp) behind it, so the
// interop tests can put real peers (sipp, socat/OpenSSL TLS hops, openssl s_client) on both
// sides without a session table or the pmd. It is srtpo-cp's own wiring (sip_service::start) with
// the media handler swapped, nothing else.
//
//   b2bua_host CONFIG.toml      (a file whose [sip] section is srtpo-cp's)
// Prints "READY" once listening; on SIGTERM prints "STATS ..." and one "MEDIA op side" line per
// media_handler call, then exits 0. Exit 2 on a config or listen error (message on stderr).

#include "fake_call_engine.hpp"

#include <srtpo/cp/b2bua/sip_service.hpp>

#include <signal.h>

#include <cstdio>
#include <toml++/toml.h>

int main(int argc, char** argv) {
    using namespace srtpo::cp;
    if (argc != 2) {
        std::fprintf(stderr, "usage: b2bua_host CONFIG.toml\n");
        return 2;
    }
    toml::table doc;
    try {
        doc = toml::parse_file(argv[1]);
    } catch (const toml::parse_error& e) {
        std::fprintf(stderr, "config: %s\n", std::string(e.description()).c_str());
        return 2;
    }
    const auto* sip = doc["sip"].as_table();
    if (!sip) {
        std::fprintf(stderr, "config: no [sip] section\n");
        return 2;
    }
    auto cfg = b2bua::parse_sip_config(*sip);
    if (!cfg) {
        std::fprintf(stderr, "config: %s\n", cfg.err().message.c_str());
        return 2;
    }
    auto loop = event_loop::create({SIGTERM, SIGINT});
    if (!loop) return 2;
    ::signal(SIGPIPE, SIG_IGN);
    test::fake_call_engine media;
    auto svc = b2bua::sip_service::start(*cfg, *loop, media);
    if (!svc) {
        std::fprintf(stderr, "sip: %s\n", svc.err().message.c_str());
        return 2;
    }
    loop->on_signal([&](int) { loop->stop(); });
    std::printf("READY\n");
    std::fflush(stdout);
    if (!loop->run()) return 1;
    const auto& st = (*svc)->core().stats();
    const auto& ts = (*svc)->transport().stats();
    std::printf("STATS set_up=%llu ended=%llu active=%zu peak=%zu parse_errors=%llu pings=%llu refused_limit=%llu tls_failures=%llu idle_closed=%llu framing_errors=%llu\n",
                static_cast<unsigned long long>(st.calls_set_up), static_cast<unsigned long long>(st.calls_ended),
                (*svc)->core().calls_active(), st.peak_active, static_cast<unsigned long long>(ts.parse_errors),
                static_cast<unsigned long long>(ts.pings), static_cast<unsigned long long>(ts.refused_limit),
                static_cast<unsigned long long>(ts.tls_failures), static_cast<unsigned long long>(ts.idle_closed),
                static_cast<unsigned long long>(ts.framing_errors));
    for (const auto& [reason, n] : st.failed) std::printf("FAILED %s=%llu\n", reason.c_str(), static_cast<unsigned long long>(n));
    for (const auto& r : media.calls) std::printf("MEDIA %s %s\n", r.op.c_str(), r.side == call::side::a ? "a" : "b");
    std::fflush(stdout);
    svc->reset();
    return 0;
}
