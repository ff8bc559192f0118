// DTLS-SRTP handshakes per second on one core (issue 7; docs/PERFORMANCE.md §8). Two of our
// endpoints (control-plane/dtls) complete full DTLS 1.2 handshakes in memory: one in the server
// role with srtpo-cp's production context (ECDSA P-256 certificate, its cipher and group lists),
// one in the client role. Every handshake is a new pair of endpoints (no session resumption, as
// for a new call), with the certificate check against a=fingerprint (RFC 5763 §5) and the SRTP
// key export (RFC 5764 §4.2) included. No sockets, no loss, no timers.
//
// The client is our own endpoint, not a third-party stack: what is measured is OpenSSL's and our
// code's CPU per handshake, which a real client does not change. Each call into an endpoint is
// timed on its own, so one run reports both shares: `server` counts only the CPU time spent inside
// the server endpoint (create, start, receive, poll), `client` only the client's, `pair` both.
// The "handshakes/s" of `server` is therefore what one core does as a DTLS server.
//
// The key exchange group is chosen by the client's offer: `P-256` restricts the client to
// secp256r1 (the case the issue names), `X25519` leaves the production list (X25519 first).
//
// Run: build/bench/dtls_handshake_bench (bench/run-cp-benches.sh pins it to one core).
#include <srtpo/cp/dtls/certificate.hpp>
#include <srtpo/cp/dtls/endpoint.hpp>

#include "cpu_meter.hpp"

#include <benchmark/benchmark.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace {

namespace cd = srtpo::cp::dtls;
using steady = std::chrono::steady_clock;

enum class group : int { p256, x25519 };
enum class share : int { pair, server, client };

struct identities {
    cd::certificate server_cert, client_cert;
    std::shared_ptr<const cd::context> server_ctx;           ///< production settings, unchanged
    std::shared_ptr<const cd::context> client_p256, client_default;
};

// Certificates are long-lived in srtpo-cp (certificate.hpp), so they are made once, outside the
// measurement.
const identities& ids() {
    static const identities v = [] {
        auto s = cd::certificate::generate("bench-server").value();
        auto c = cd::certificate::generate("bench-client").value();
        identities r{s, c, cd::context::create(s).value(), cd::context::create(c).value(), cd::context::create(c).value()};
        // Only the client's offer is narrowed; the server context is exactly srtpo-cp's.
        SSL_CTX_set1_groups_list(static_cast<SSL_CTX*>(r.client_p256->native()), "P-256");
        return r;
    }();
    return v;
}

using meter = srtpo::bench::cpu_meter;

/// Moves every queued datagram from `from` to `to`; false if `from` reported a failure.
bool pump(cd::endpoint& from, cd::endpoint& to, meter& mf, meter& mt, steady::time_point now, bool& done) {
    while (auto d = mf([&] { return from.poll_datagram(); })) mt([&] { to.receive(*d, now); });
    while (auto e = mf([&] { return from.poll_event(); })) {
        if (std::holds_alternative<cd::handshake_done>(*e)) done = true;
        else if (std::holds_alternative<cd::handshake_failed>(*e)) return false;
    }
    return true;
}

void handshake(benchmark::State& st) {
    const auto g = static_cast<group>(st.range(0));
    const auto who = static_cast<share>(st.range(1));
    const auto& id = ids();
    cd::endpoint_config scfg, ccfg;
    scfg.role = cd::dtls_role::server;
    ccfg.role = cd::dtls_role::client;
    scfg.remote_fingerprints = {cd::parse_fingerprint(id.client_cert.sdp_fingerprint()).value()};
    ccfg.remote_fingerprints = {cd::parse_fingerprint(id.server_cert.sdp_fingerprint()).value()};
    const auto& cctx = g == group::p256 ? id.client_p256 : id.client_default;
    meter ms, mc;
    for (auto _ : st) {
        const auto s0 = ms.spent, c0 = mc.spent;
        const auto now = steady::now();
        auto server = ms([&] { return cd::endpoint::create(id.server_ctx, scfg).value(); });
        auto client = mc([&] { return cd::endpoint::create(cctx, ccfg).value(); });
        (void)ms([&] { return server->start(now); });
        (void)mc([&] { return client->start(now); });
        bool server_done = false, client_done = false, ok = true;
        for (int round = 0; round < 16 && ok && !(server_done && client_done); ++round)
            ok = pump(*client, *server, mc, ms, now, client_done) && pump(*server, *client, ms, mc, now, server_done);
        if (!ok || !server_done || !client_done) {
            st.SkipWithError("handshake did not complete");
            break;
        }
        // Destruction (SSL_free, key wipes) belongs to the handshake's cost too.
        ms([&] { server.reset(); });
        mc([&] { client.reset(); });
        const auto ds = ms.spent - s0, dc = mc.spent - c0;
        st.SetIterationTime(std::chrono::duration<double>(who == share::server ? ds : who == share::client ? dc : ds + dc).count());
    }
    st.SetLabel(std::string(g == group::p256 ? "P-256" : "X25519") + " " +
                (who == share::server ? "server" : who == share::client ? "client" : "pair"));
    // The rate over the measured share's own time (kIsRate would divide by the process CPU time).
    const double n = static_cast<double>(st.iterations());
    if (n == 0) return;
    const auto mine = who == share::server ? ms.spent : who == share::client ? mc.spent : ms.spent + mc.spent;
    st.counters["handshakes/s"] = n / std::chrono::duration<double>(mine).count();
    st.counters["server_us"] = std::chrono::duration<double, std::micro>(ms.spent).count() / n;
    st.counters["client_us"] = std::chrono::duration<double, std::micro>(mc.spent).count() / n;
    st.counters["metered_calls"] = static_cast<double>(ms.calls + mc.calls) / n;
}

} // namespace

BENCHMARK(handshake)
    ->ArgNames({"group", "share"})
    ->Args({static_cast<int>(group::p256), static_cast<int>(share::server)})
    ->Args({static_cast<int>(group::p256), static_cast<int>(share::client)})
    ->Args({static_cast<int>(group::p256), static_cast<int>(share::pair)})
    ->Args({static_cast<int>(group::x25519), static_cast<int>(share::server)})
    ->Args({static_cast<int>(group::x25519), static_cast<int>(share::client)})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
