// srtpo-bench compare: srtp-offload against libsrtp 2.5 on the same packets, in one process run.
//
// Two libsrtp builds are loaded side by side with dlopen(RTLD_LOCAL) into a binary that does not
// link libsrtp, so each resolves its own srtp_* symbols in its own scope and the two never meet
// (RTLD_DEEPBIND is not used: it breaks NSS's own start-up): libsrtp 2.5 built from Debian's source against OpenSSL 3
// (bench/setup-libsrtp-openssl.sh) and Debian's binary libsrtp2 (built with NSS). Both are the
// same 2.5.0 release, so the srtp.h structures match the header we compile against.
//
// Method (the same for every implementation): a pool of RTP packets over 32 SSRCs; protect
// copies each packet into a work buffer, sets a fresh sequence number and protects it; unprotect
// copies a packet protected once beforehand and unprotects it, re-creating the receiver
// (untimed) each time the pool has been consumed. srtp-offload runs bursts of 32 through the
// burst API; libsrtp one packet per call, as its API allows. Each cell runs for --seconds.

#include "bench_util.hpp"

#include <srtpo/engine/suite.hpp>

#include <CLI/CLI.hpp>
#include <dlfcn.h>
#include <nlohmann/json.hpp>
#include <srtp2/srtp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

std::atomic<uint64_t> srtpo::bench::allocations{0};

using namespace srtpo;
using bench::rtp_pool;
using engine::suite;

namespace {

constexpr uint32_t ssrcs = 32;
constexpr std::size_t pool_packets = 8192;
constexpr std::size_t burst = 32;

/// The libsrtp entry points we use, resolved from one dlopen()ed copy.
struct libsrtp_api {
    std::string name;
    void* handle = nullptr;
    decltype(&srtp_init) init = nullptr;
    decltype(&srtp_create) create = nullptr;
    decltype(&srtp_dealloc) dealloc = nullptr;
    decltype(&srtp_protect) protect = nullptr;
    decltype(&srtp_unprotect) unprotect = nullptr;
    decltype(&srtp_crypto_policy_set_rtp_default) cm128_80 = nullptr; // = aes_cm_128_hmac_sha1_80 (a macro)
    decltype(&srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32) cm128_32 = nullptr;
    decltype(&srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80) cm256_80 = nullptr;
    decltype(&srtp_crypto_policy_set_aes_gcm_128_16_auth) gcm128 = nullptr;
    decltype(&srtp_crypto_policy_set_aes_gcm_256_16_auth) gcm256 = nullptr;

    static std::optional<libsrtp_api> load(const std::string& name, const std::string& path) {
        libsrtp_api a;
        a.name = name;
        a.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!a.handle) {
            std::cerr << "srtpo-bench: cannot load " << name << " from " << path << ": " << dlerror() << "\n";
            return std::nullopt;
        }
        bool ok = true;
        auto sym = [&](auto& fn, const char* s) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(a.handle, s));
            if (!fn) {
                std::cerr << "srtpo-bench: " << path << " lacks " << s << "\n";
                ok = false;
            }
        };
        sym(a.init, "srtp_init");
        sym(a.create, "srtp_create");
        sym(a.dealloc, "srtp_dealloc");
        sym(a.protect, "srtp_protect");
        sym(a.unprotect, "srtp_unprotect");
        sym(a.cm128_80, "srtp_crypto_policy_set_rtp_default");
        sym(a.cm128_32, "srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32");
        sym(a.cm256_80, "srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80");
        sym(a.gcm128, "srtp_crypto_policy_set_aes_gcm_128_16_auth");
        sym(a.gcm256, "srtp_crypto_policy_set_aes_gcm_256_16_auth");
        if (!ok) return std::nullopt;
        if (const auto st = a.init(); st != srtp_err_status_ok) {
            std::cerr << "srtpo-bench: " << name << ": srtp_init failed (status " << st << ")\n";
            return std::nullopt;
        }
        return a;
    }

    srtp_t session(suite s, bool outbound) const {
        srtp_policy_t p{};
        auto set = s == suite::aes_cm_128_hmac_sha1_80   ? cm128_80
                   : s == suite::aes_cm_128_hmac_sha1_32 ? cm128_32
                   : s == suite::aes_256_cm_hmac_sha1_80 ? cm256_80
                   : s == suite::aead_aes_128_gcm        ? gcm128
                                                         : gcm256;
        set(&p.rtp);
        set(&p.rtcp);
        static std::vector<uint8_t> key(46, 0x5a);
        p.key = key.data();
        p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
        p.window_size = 128;
        srtp_t ctx = nullptr;
        if (create(&ctx, &p) != srtp_err_status_ok) return nullptr;
        return ctx;
    }
};

using clock_type = std::chrono::steady_clock;

/// Packets per second of one implementation on one cell.
struct cell {
    suite s;
    std::size_t payload;
    bool protect;
};

/// Runs `step(first_index)` over the pool in bursts until `seconds` of timed work accumulated;
/// `reset()` (untimed) runs whenever the pool is used up.
template <class Step, class Reset>
double measure(double seconds, Step step, Reset reset) {
    double timed = 0;
    uint64_t packets = 0;
    std::size_t next = 0;
    while (timed < seconds) {
        if (next + burst > pool_packets) {
            next = 0;
            reset();
        }
        const auto t0 = clock_type::now();
        step(next);
        timed += std::chrono::duration<double>(clock_type::now() - t0).count();
        packets += burst;
        next += burst;
    }
    return static_cast<double>(packets) / timed / 1e6;
}

/// Copies pool packet i into work slot k (the same for every implementation); for protect it
/// also gives the packet a fresh sequence number, since a sender never repeats an index.
std::byte* stage(std::vector<std::byte>& work, const rtp_pool& src, std::size_t k, std::size_t i, bool protect,
                 uint16_t base) {
    std::byte* p = work.data() + k * rtp_pool::stride;
    std::memcpy(p, const_cast<rtp_pool&>(src).at(i), src.len[i]);
    if (protect) {
        const auto seq = static_cast<uint16_t>(base + 1 + i / ssrcs);
        p[2] = std::byte(seq >> 8);
        p[3] = std::byte(seq & 0xff);
    }
    return p;
}

double run_srtpo(const cell& c, double seconds, engine::worker_ctx& w, rtp_pool& plain, rtp_pool& wire) {
    const rtp_pool& src = c.protect ? plain : wire;
    auto sess = bench::make_session(c.s, c.protect ? engine::direction::protect : engine::direction::unprotect,
                                    engine::default_backend(), ssrcs);
    std::vector<std::byte> work(burst * rtp_pool::stride);
    std::vector<engine::op> ops(burst);
    uint16_t base = 0;
    bool failed = false;
    const double mpps = measure(
        seconds,
        [&](std::size_t first) {
            for (std::size_t k = 0; k < burst; ++k) {
                const std::size_t i = first + k;
                std::byte* p = stage(work, src, k, i, c.protect, base);
                ops[k] = {sess.get(), {p, src.len[i], static_cast<uint16_t>(rtp_pool::stride)}, engine::status::ok};
            }
            const auto ok = c.protect ? engine::protect_rtp(w, ops) : engine::unprotect_rtp(w, ops);
            failed |= ok != burst;
        },
        [&] {
            if (c.protect) base = static_cast<uint16_t>(base + pool_packets / ssrcs);
            else sess = bench::make_session(c.s, engine::direction::unprotect, engine::default_backend(), ssrcs);
        });
    return failed ? -1 : mpps;
}

double run_libsrtp(const cell& c, double seconds, const libsrtp_api& api, rtp_pool& plain, rtp_pool& wire) {
    const rtp_pool& src = c.protect ? plain : wire;
    srtp_t ctx = api.session(c.s, c.protect);
    if (!ctx) return -1;
    std::vector<std::byte> work(burst * rtp_pool::stride);
    uint16_t base = 0;
    bool failed = false;
    const double mpps = measure(
        seconds,
        [&](std::size_t first) {
            for (std::size_t k = 0; k < burst; ++k) {
                const std::size_t i = first + k;
                std::byte* p = stage(work, src, k, i, c.protect, base);
                int len = src.len[i];
                const auto st = c.protect ? api.protect(ctx, p, &len) : api.unprotect(ctx, p, &len);
                failed |= st != srtp_err_status_ok;
            }
        },
        [&] {
            if (c.protect) {
                base = static_cast<uint16_t>(base + pool_packets / ssrcs);
            } else {
                api.dealloc(ctx);
                ctx = api.session(c.s, false);
            }
        });
    api.dealloc(ctx);
    return failed ? -1 : mpps;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"srtpo-bench: side-by-side SRTP benchmarks (srtp-offload vs libsrtp 2.5)"};
    app.require_subcommand(1);
    auto* cmp = app.add_subcommand("compare", "packets/s of srtp-offload and libsrtp on the same packets, in one run");
    bool json = false;
    double seconds = 0.5;
    std::string ossl_path, nss_path = "libsrtp2.so.1";
    std::vector<std::string> suites{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
                                    "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"};
    std::vector<std::size_t> payloads{20, 160, 1200};
    cmp->add_flag("--json", json, "print the rows as a JSON array");
    cmp->add_option("--seconds", seconds, "timed seconds per cell and implementation")->capture_default_str();
    cmp->add_option("--libsrtp-openssl", ossl_path, "libsrtp2.so built with OpenSSL (bench/setup-libsrtp-openssl.sh)")
        ->required();
    cmp->add_option("--libsrtp-nss", nss_path, "Debian's libsrtp2 (NSS)")->capture_default_str();
    cmp->add_option("--suite", suites, "suites to compare")->capture_default_str();
    cmp->add_option("--payload", payloads, "payload sizes")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    // Both builds carry the SONAME libsrtp2.so.1, and the loader reuses a loaded library whose
    // SONAME matches a name: so the system one goes first, by name, and the other by path; then
    // we check that two distinct files were really loaded.
    auto nss = libsrtp_api::load("libsrtp+nss", nss_path);
    auto ossl = libsrtp_api::load("libsrtp+openssl", ossl_path);
    if (!ossl || !nss) return 1;
    Dl_info di_n{}, di_o{};
    if (!dladdr(reinterpret_cast<void*>(nss->protect), &di_n) || !dladdr(reinterpret_cast<void*>(ossl->protect), &di_o) ||
        std::string(di_n.dli_fname) == di_o.dli_fname) {
        std::cerr << "srtpo-bench: the two libsrtp builds did not load as two libraries\n";
        return 1;
    }
    auto w = std::move(engine::worker_ctx::create().value());

    nlohmann::ordered_json rows = nlohmann::json::array();
    if (!json)
        std::printf("srtp-offload backend: %s; burst %zu; %u SSRCs; %.2f s per cell\nlibsrtp+openssl: %s\nlibsrtp+nss:     %s\n\n%-24s %7s %-9s %12s %16s %12s %10s\n",
                    std::string(engine::backend_description(engine::default_backend())).c_str(), burst, ssrcs, seconds,
                    di_o.dli_fname, di_n.dli_fname,
                    "suite", "payload", "direction", "srtpo Mpps", "libsrtp+ossl Mpps", "+nss Mpps", "ratio/ossl");
    for (const auto& name : suites) {
        const auto s = engine::suite_from_name(name);
        if (!s) {
            std::cerr << "srtpo-bench: unknown suite " << name << "\n";
            return 2;
        }
        for (auto payload : payloads) {
            rtp_pool plain(pool_packets, payload, ssrcs), wire(pool_packets, payload, ssrcs);
            auto tx = bench::make_session(*s, engine::direction::protect, engine::default_backend(), ssrcs);
            for (std::size_t i = 0; i < pool_packets; ++i) {
                engine::op o{tx.get(), {wire.at(i), wire.len[i], static_cast<uint16_t>(rtp_pool::stride)}, engine::status::ok};
                engine::protect_rtp(*w, {&o, 1});
                wire.len[i] = o.pkt.len;
            }
            for (bool protect : {true, false}) {
                const cell c{*s, payload, protect};
                const double a = run_srtpo(c, seconds, *w, plain, wire);
                const double b = run_libsrtp(c, seconds, *ossl, plain, wire);
                const double n = run_libsrtp(c, seconds, *nss, plain, wire);
                const double ratio = b > 0 ? a / b : 0;
                nlohmann::ordered_json r;
                r["suite"] = name;
                r["payload"] = payload;
                r["direction"] = protect ? "protect" : "unprotect";
                r["srtpo_mpps"] = a;
                r["libsrtp_openssl_mpps"] = b;
                r["libsrtp_nss_mpps"] = n;
                r["ratio_vs_openssl"] = ratio;
                rows.push_back(r);
                if (!json)
                    std::printf("%-24s %7zu %-9s %12.3f %16.3f %12.3f %9.2fx\n", name.c_str(), payload,
                                protect ? "protect" : "unprotect", a, b, n, ratio);
                if (a < 0 || b < 0 || n < 0) {
                    std::cerr << "srtpo-bench: an implementation rejected packets in " << name << " " << payload << "\n";
                    return 1;
                }
            }
        }
    }
    if (json) std::cout << rows.dump(2) << "\n";
    return 0;
}
