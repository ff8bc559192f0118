// srtpo-pcap: protect or unprotect the SRTP/SRTCP in a capture, offline (what users of libsrtp's
// rtp_decoder ask for), plus the generator and the demo the README runs.
//
// Exit codes: 0 the run completed (even with failed packets), 1 a run-time failure (unreadable
// capture, demo check failed), 2 a usage error (bad arguments, key, suite).

#include "demo.hpp"
#include "flow_keys.hpp"
#include "pcap_crypto.hpp"

#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>

#include <CLI/CLI.hpp>

#include <iostream>

using namespace srtpo;
using namespace srtpo::tools;

namespace {

constexpr int exit_usage = 2;
constexpr int exit_runtime = 1;

int run_crypto(mode m, const key_spec& k, const std::string& streams, const std::string& in, const std::string& out,
               const run_options& ro, bool json) {
    const auto dir = m == mode::protect ? engine::direction::protect : engine::direction::unprotect;
    flow_keys keys;
    if (!streams.empty()) {
        auto r = load_streams(streams, k, dir);
        if (!r) {
            std::cerr << "srtpo-pcap: " << r.err().message << "\n";
            return exit_usage;
        }
        keys.rules = std::move(r.value());
    }
    if (!k.inline_key.empty()) {
        auto s = make_session_from(k, dir);
        if (!s) {
            std::cerr << "srtpo-pcap: " << s.err().message << "\n";
            return exit_usage;
        }
        flow_rule any;
        any.session = std::move(s.value());
        keys.rules.push_back(std::move(any)); // the default: after every --streams rule
    }
    if (keys.rules.empty()) {
        std::cerr << "srtpo-pcap: give --key (with --suite) or --streams\n";
        return exit_usage;
    }
    auto w = engine::worker_ctx::create();
    if (!w) {
        std::cerr << "srtpo-pcap: " << w.err().message << "\n";
        return exit_runtime;
    }
    try {
        const auto st = process_capture(in, out, m, keys, **w, ro);
        std::cout << (json ? summary_json(st) : summary_line(st)) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "srtpo-pcap: " << e.what() << "\n";
        return exit_runtime;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"srtpo-pcap: offline SRTP/SRTCP protect and unprotect of pcap captures (srtp-offload)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "srtpo-pcap 0.1.0");

    key_spec k;
    k.suite = "AES_CM_128_HMAC_SHA1_80";
    std::string in, out, streams, backend = "auto";
    run_options ro;
    bool json = false;

    auto add_crypto_opts = [&](CLI::App* c, bool protect) {
        c->add_option("--suite", k.suite, "SDES crypto suite, e.g. AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM")
            ->capture_default_str();
        c->add_option("--key", k.inline_key, "base64 master key||salt as in SDES inline:, optionally KEY|2^31|1:4");
        c->add_option("--streams", streams, "JSON file of per-flow/SSRC keys (see docs/srtpo-pcap.md)")->check(CLI::ExistingFile);
        c->add_option("--in", in, "input capture (pcap or pcapng)")->required()->check(CLI::ExistingFile);
        c->add_option("--out", out, "output capture (pcap)")->required();
        c->add_option("--roc", k.roc, "initial rollover counter of every stream")->capture_default_str();
        if (!protect)
            c->add_option("--window", k.window, "replay window, packets (64..32768)")->capture_default_str()->check(CLI::Range(64, 32768));
        c->add_option("--backend", backend, "openssl, ipsec-mb or auto")->capture_default_str();
        c->add_option("--burst", ro.burst, "packets per engine call (1..64)")->capture_default_str()->check(CLI::Range(1, 64));
        c->add_flag("--drop-other", ro.drop_other, "drop frames that are not SRTP/SRTCP of a keyed flow");
        c->add_flag("--json", json, "print the summary as one JSON object");
    };
    auto* prot = app.add_subcommand("protect", "RTP/RTCP -> SRTP/SRTCP");
    add_crypto_opts(prot, true);
    auto* unprot = app.add_subcommand("unprotect", "SRTP/SRTCP -> RTP/RTCP; failed packets are counted, not written");
    add_crypto_opts(unprot, false);

    net::rtp_capture_options g;
    std::string gen_out;
    uint16_t seq = 0;
    auto* gen = app.add_subcommand("generate", "write a capture of synthetic RTP/RTCP calls");
    gen->add_option("--out", gen_out, "output capture")->required();
    gen->add_option("--calls", g.calls, "concurrent calls")->capture_default_str();
    gen->add_option("--packets", g.packets_per_direction, "RTP packets per direction")->capture_default_str();
    gen->add_option("--payload", g.payload_size, "RTP payload octets")->capture_default_str();
    gen->add_option("--seed", g.seed, "PRNG seed")->capture_default_str();
    gen->add_option("--initial-seq", seq, "first sequence number of every stream (default random)");
    gen->add_flag("--ipv6", g.ipv6, "IPv6 instead of IPv4");
    gen->add_flag("--rtcp-mux", g.rtcp_mux, "RTCP on the RTP port (RFC 5761)");

    demo_options d;
    std::string demo_backend = "auto";
    auto* demo = app.add_subcommand("demo", "generate calls, protect, tamper, unprotect, verify; print counts and rate");
    demo->add_option("--calls", d.calls, "concurrent calls")->capture_default_str();
    demo->add_option("--packets", d.packets, "RTP packets per direction of each call")->capture_default_str();
    demo->add_option("--suite", d.suite, "SDES crypto suite")->capture_default_str();
    demo->add_option("--workdir", d.workdir, "keep the captures in this directory");
    demo->add_option("--backend", demo_backend, "openssl, ipsec-mb or auto")->capture_default_str();
    demo->add_flag("--json", d.json, "also print both runs' summaries as JSON");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : exit_usage;
    }

    auto pick_backend = [](const std::string& name, engine::backend_kind& out_kind) {
        auto b = engine::backend_from_name(name);
        if (!b) {
            std::cerr << "srtpo-pcap: " << b.err().message << "\n";
            return false;
        }
        if (!engine::backend_available(*b)) {
            std::cerr << "srtpo-pcap: backend " << name << " is not available on this build or CPU\n";
            return false;
        }
        out_kind = *b;
        return true;
    };

    if (*prot || *unprot) {
        if (!pick_backend(backend, k.backend)) return exit_usage;
        return run_crypto(*prot ? mode::protect : mode::unprotect, k, streams, in, out, ro, json);
    }
    if (*gen) {
        if (gen->count("--initial-seq")) g.initial_seq = seq;
        try {
            const auto s = net::write_rtp_capture(gen_out, g);
            std::cout << "wrote " << s.frames << " frames (" << s.rtp_packets << " RTP, " << s.rtcp_packets << " RTCP) in "
                      << s.streams.size() << " streams to " << gen_out << "\n";
            return 0;
        } catch (const std::invalid_argument& e) {
            std::cerr << "srtpo-pcap generate: " << e.what() << "\n";
            return exit_usage;
        } catch (const std::exception& e) {
            std::cerr << "srtpo-pcap generate: " << e.what() << "\n";
            return exit_runtime;
        }
    }
    if (!pick_backend(demo_backend, d.backend)) return exit_usage;
    return run_demo(d);
}
