// The crypto alone, straight on IPsec-MB with no SRTP logic: the floor the engine is measured
// against ("engine overhead over raw IPsec-MB"). Same packets, same per-packet memcpy into a
// work buffer, same burst of 32 as burst_bench; AES-CM-128 keystream + HMAC-SHA1 over
// header ‖ payload ‖ ROC as two homogeneous bursts, and AES-GCM through the direct API.
// A second AES-CM row hashes with the engine's own 16-lane HMAC-SHA1 (ADR 0022) instead of
// IPsec-MB's: the floor of the crypto the engine really runs for voice-sized bursts.

#include "bench_util.hpp"

#include "backend/hmac_sha1_mb.hpp"

#include <benchmark/benchmark.h>
#include <intel-ipsec-mb.h>

#include <array>
#include <memory>

std::atomic<uint64_t> srtpo::bench::allocations{0};

using srtpo::bench::rtp_pool;

namespace {

constexpr uint32_t ssrcs = 32;
constexpr std::size_t pool_packets = 8192;

struct mgr_deleter {
    void operator()(IMB_MGR* m) const noexcept { free_mb_mgr(m); }
};

/// The HMAC-SHA1 part of a packet's job: header ‖ payload ‖ ROC from `pkt`, 12 octets of tag.
void fill_hmac(IMB_JOB& x, const std::byte* pkt, std::size_t payload, uint8_t* tag, const uint8_t* ipad,
               const uint8_t* opad) noexcept {
    x.src = reinterpret_cast<const uint8_t*>(pkt);
    x.hash_start_src_offset_in_bytes = 0;
    x.msg_len_to_hash_in_bytes = 12 + payload + 4;
    x.auth_tag_output = tag;
    x.auth_tag_output_len_in_bytes = 12;
    x.u.HMAC._hashed_auth_key_xor_ipad = ipad;
    x.u.HMAC._hashed_auth_key_xor_opad = opad;
}

/// The HMAC-SHA1 key of every row: ipad/opad chaining values of a 20-octet key of 7s.
struct hmac_key {
    alignas(16) uint8_t ipad[32], opad[32];
    explicit hmac_key(IMB_MGR* m) {
        alignas(16) uint8_t block[64];
        for (int i = 0; i < 64; ++i) block[i] = static_cast<uint8_t>((i < 20 ? 7 : 0) ^ 0x36);
        IMB_SHA1_ONE_BLOCK(m, block, ipad);
        for (int i = 0; i < 64; ++i) block[i] = static_cast<uint8_t>((i < 20 ? 7 : 0) ^ 0x5c);
        IMB_SHA1_ONE_BLOCK(m, block, opad);
    }
};

/// Whether hmac_sha1_mb runs on this CPU; marks the row skipped if not.
bool own_hmac_runs(benchmark::State& state) {
    if (srtpo::engine::detail::hmac_sha1_mb_usable()) return true;
    state.SkipWithError("this CPU lacks AVX-512 F/BW");
    return false;
}

/// AES-CM-128 keystream over each work packet's payload, one unchecked cipher burst.
void ctr_burst(IMB_MGR* m, const uint8_t* enc, std::byte* work, std::size_t payload, std::vector<IMB_JOB>& jobs,
               std::vector<std::array<uint8_t, 16>>& ivs) {
    const std::size_t burst = jobs.size();
    for (std::size_t k = 0; k < burst; ++k) {
        std::byte* p = work + k * rtp_pool::stride;
        ivs[k].fill(static_cast<uint8_t>(k));
        IMB_JOB& x = jobs[k];
        x.enc_keys = enc;
        x.dec_keys = enc;
        x.key_len_in_bytes = IMB_KEY_128_BYTES;
        x.src = reinterpret_cast<const uint8_t*>(p + 12);
        x.dst = reinterpret_cast<uint8_t*>(p + 12);
        x.cipher_start_src_offset_in_bytes = 0;
        x.msg_len_to_cipher_in_bytes = payload;
        x.iv = ivs[k].data();
        x.iv_len_in_bytes = 16;
    }
    // Unchecked bursts, as the engine's backend submits them: the floor is the crypto alone.
    if (payload) IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, jobs.data(), static_cast<uint32_t>(burst), IMB_CIPHER_CNTR,
                                                 IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES);
}

/// The crypto of one burst, after the packets were copied in. Not inlined, so that callgrind can
/// count it alone (bench/callgrind-per-packet.sh); the engine's cells count protect_rtp alone.
[[gnu::noinline]] void cm_hmac_burst(IMB_MGR* m, const uint8_t* enc, const uint8_t* ipad, const uint8_t* opad,
                                     std::byte* work, std::size_t payload, std::vector<IMB_JOB>& jobs,
                                     std::vector<std::array<uint8_t, 16>>& ivs, std::vector<std::array<uint8_t, 20>>& tags) {
    ctr_burst(m, enc, work, payload, jobs, ivs);
    for (std::size_t k = 0; k < jobs.size(); ++k) fill_hmac(jobs[k], work + k * rtp_pool::stride, payload, tags[k].data(), ipad, opad);
    IMB_SUBMIT_HASH_BURST_NOCHECK(m, jobs.data(), static_cast<uint32_t>(jobs.size()), IMB_AUTH_HMAC_SHA_1);
}

/// As cm_hmac_burst, with the HMAC on hmac_sha1_mb (the engine's choice for voice-sized bursts).
[[gnu::noinline]] void cm_own_hmac_burst(IMB_MGR* m, const uint8_t* enc, const uint8_t* ipad, const uint8_t* opad,
                                         std::byte* work, std::size_t payload, std::vector<IMB_JOB>& jobs,
                                         std::vector<std::array<uint8_t, 16>>& ivs, std::vector<std::array<uint8_t, 20>>& tags,
                                         std::vector<srtpo::engine::detail::hmac_sha1_msg>& msgs) {
    ctr_burst(m, enc, work, payload, jobs, ivs);
    for (std::size_t k = 0; k < jobs.size(); ++k)
        msgs[k] = {ipad, opad, work + k * rtp_pool::stride, static_cast<uint32_t>(12 + payload + 4),
                   reinterpret_cast<std::byte*>(tags[k].data())};
    srtpo::engine::detail::hmac_sha1_mb(msgs);
}

/// The same crypto as cm_hmac_burst, as chained jobs (AES-CTR then HMAC-SHA1 in one job each,
/// IMB_ORDER_CIPHER_HASH) through the generic burst API: whether IPsec-MB does the two better
/// together than as two homogeneous bursts. Returns the jobs completed (all of them).
[[gnu::noinline]] std::size_t cm_hmac_chained_burst(IMB_MGR* m, const uint8_t* enc, const uint8_t* ipad, const uint8_t* opad,
                                                    std::byte* work, std::size_t payload, std::size_t burst,
                                                    std::vector<std::array<uint8_t, 16>>& ivs,
                                                    std::vector<std::array<uint8_t, 20>>& tags) {
    std::array<IMB_JOB*, 64> jobs{};
    const uint32_t n = IMB_GET_NEXT_BURST(m, static_cast<uint32_t>(burst), jobs.data());
    for (uint32_t k = 0; k < n; ++k) {
        std::byte* p = work + k * rtp_pool::stride;
        ivs[k].fill(static_cast<uint8_t>(k));
        IMB_JOB& x = *jobs[k];
        x.cipher_mode = IMB_CIPHER_CNTR;
        x.cipher_direction = IMB_DIR_ENCRYPT;
        x.chain_order = IMB_ORDER_CIPHER_HASH;
        x.hash_alg = IMB_AUTH_HMAC_SHA_1;
        x.enc_keys = enc;
        x.dec_keys = enc;
        x.key_len_in_bytes = IMB_KEY_128_BYTES;
        fill_hmac(x, p, payload, tags[k].data(), ipad, opad); // sets src = the packet
        x.dst = reinterpret_cast<uint8_t*>(p + 12);
        x.cipher_start_src_offset_in_bytes = 12;
        x.msg_len_to_cipher_in_bytes = payload;
        x.iv = ivs[k].data();
        x.iv_len_in_bytes = 16;
    }
    uint32_t done = IMB_SUBMIT_BURST_NOCHECK(m, n, jobs.data());
    while (done < n) done += IMB_FLUSH_BURST(m, n - done, jobs.data());
    return done;
}

/// One GCM burst (direct API, one call per packet), after the copy; see cm_hmac_burst.
[[gnu::noinline]] void gcm_burst(IMB_MGR* m, const gcm_key_data& gk, std::byte* work, std::size_t payload, std::size_t burst) {
    static const uint8_t iv[12] = {9};
    for (std::size_t k = 0; k < burst; ++k) {
        auto* p = reinterpret_cast<uint8_t*>(work + k * rtp_pool::stride);
        struct gcm_context_data ctx;
        IMB_AES128_GCM_ENC(m, &gk, &ctx, p + 12, p + 12, payload, iv, p, 12, p + 12 + payload, 16);
    }
}

enum class cm_form { two_bursts, chained, own_hmac };

/// chained: cm_hmac_chained_burst instead of the two homogeneous bursts of cm_hmac_burst;
/// own_hmac: cm_own_hmac_burst.
void cm_hmac(benchmark::State& state, cm_form form) {
    if (form == cm_form::own_hmac && !own_hmac_runs(state)) return;
    const auto payload = static_cast<std::size_t>(state.range(0));
    const auto burst = static_cast<std::size_t>(state.range(1));
    std::unique_ptr<IMB_MGR, mgr_deleter> m{alloc_mb_mgr(0)};
    init_mb_mgr_auto(m.get(), nullptr);
    alignas(16) uint8_t key[16] = {1, 2, 3}, enc[16 * 15], dec[16 * 15];
    IMB_AES_KEYEXP_128(m.get(), key, enc, dec);
    const hmac_key hk(m.get());
    const uint8_t *ipad = hk.ipad, *opad = hk.opad;
    rtp_pool src(pool_packets, payload, ssrcs);
    std::vector<std::byte> work(burst * rtp_pool::stride);
    std::vector<IMB_JOB> jobs(burst);
    std::vector<std::array<uint8_t, 16>> ivs(burst);
    std::vector<std::array<uint8_t, 20>> tags(burst);
    std::vector<srtpo::engine::detail::hmac_sha1_msg> msgs(burst);
    std::size_t next = 0;
    uint64_t packets = 0;
    for (auto _ : state) {
        if (next + burst > pool_packets) next = 0;
        for (std::size_t k = 0; k < burst; ++k)
            std::memcpy(work.data() + k * rtp_pool::stride, src.at(next + k), src.len[next + k]);
        if (form == cm_form::chained) {
            packets += cm_hmac_chained_burst(m.get(), enc, ipad, opad, work.data(), payload, burst, ivs, tags);
        } else if (form == cm_form::own_hmac) {
            cm_own_hmac_burst(m.get(), enc, ipad, opad, work.data(), payload, jobs, ivs, tags, msgs);
            packets += burst;
        } else {
            cm_hmac_burst(m.get(), enc, ipad, opad, work.data(), payload, jobs, ivs, tags);
            packets += burst;
        }
        benchmark::DoNotOptimize(tags.data());
        next += burst;
    }
    state.counters["pkts"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

/// HMAC-SHA1 alone over header ‖ payload ‖ ROC, 12-octet tags: IPsec-MB's hash burst against
/// hmac_sha1_mb, for the per-message and per-block costs ADR 0022 rests on (docs/PERFORMANCE.md §3.2).
void hmac_only(benchmark::State& state, bool own) {
    if (own && !own_hmac_runs(state)) return;
    const auto payload = static_cast<std::size_t>(state.range(0));
    const auto burst = static_cast<std::size_t>(state.range(1));
    std::unique_ptr<IMB_MGR, mgr_deleter> m{alloc_mb_mgr(0)};
    init_mb_mgr_auto(m.get(), nullptr);
    const hmac_key hk(m.get());
    const uint8_t *ipad = hk.ipad, *opad = hk.opad;
    rtp_pool src(pool_packets, payload, ssrcs);
    std::vector<IMB_JOB> jobs(burst);
    std::vector<std::array<uint8_t, 20>> tags(burst);
    std::vector<srtpo::engine::detail::hmac_sha1_msg> msgs(burst);
    for (auto& x : jobs) {
        x.cipher_mode = IMB_CIPHER_NULL;
        x.cipher_direction = IMB_DIR_ENCRYPT;
        x.chain_order = IMB_ORDER_HASH_CIPHER;
        x.hash_alg = IMB_AUTH_HMAC_SHA_1;
    }
    std::size_t next = 0;
    uint64_t packets = 0;
    for (auto _ : state) {
        if (next + burst > pool_packets) next = 0;
        for (std::size_t k = 0; k < burst; ++k) {
            const std::byte* p = src.at(next + k);
            if (own) msgs[k] = {ipad, opad, p, static_cast<uint32_t>(12 + payload + 4), reinterpret_cast<std::byte*>(tags[k].data())};
            else fill_hmac(jobs[k], p, payload, tags[k].data(), ipad, opad);
        }
        if (own) srtpo::engine::detail::hmac_sha1_mb(msgs);
        else IMB_SUBMIT_HASH_BURST_NOCHECK(m.get(), jobs.data(), static_cast<uint32_t>(burst), IMB_AUTH_HMAC_SHA_1);
        benchmark::DoNotOptimize(tags.data());
        packets += burst;
        next += burst;
    }
    state.counters["pkts"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

void gcm(benchmark::State& state) {
    const auto payload = static_cast<std::size_t>(state.range(0));
    const auto burst = static_cast<std::size_t>(state.range(1));
    std::unique_ptr<IMB_MGR, mgr_deleter> m{alloc_mb_mgr(0)};
    init_mb_mgr_auto(m.get(), nullptr);
    alignas(16) uint8_t key[16] = {1, 2, 3};
    struct gcm_key_data gk;
    IMB_AES128_GCM_PRE(m.get(), key, &gk);
    rtp_pool src(pool_packets, payload, ssrcs);
    std::vector<std::byte> work(burst * rtp_pool::stride);
    std::size_t next = 0;
    uint64_t packets = 0;
    for (auto _ : state) {
        if (next + burst > pool_packets) next = 0;
        for (std::size_t k = 0; k < burst; ++k)
            std::memcpy(work.data() + k * rtp_pool::stride, src.at(next + k), src.len[next + k]);
        gcm_burst(m.get(), gk, work.data(), payload, burst);
        benchmark::DoNotOptimize(work.data());
        packets += burst;
        next += burst;
    }
    state.counters["pkts"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

void grid(benchmark::internal::Benchmark* b) {
    for (long payload : {20, 160, 1200})
        for (long burst : {1, 8, 32, 64}) b->Args({payload, burst});
    b->ArgNames({"payload", "burst"});
}

BENCHMARK_CAPTURE(cm_hmac, two_bursts, cm_form::two_bursts)->Name("raw_imb/AES_CM_128_HMAC_SHA1_80_protect")->Apply(grid);
BENCHMARK_CAPTURE(cm_hmac, own_hmac, cm_form::own_hmac)
    ->Name("raw_ctr_own_hmac/AES_CM_128_HMAC_SHA1_80_protect")
    ->Apply(grid);
// The chained form, kept as the measured answer to "would IPsec-MB do better with both in one job"
// (docs/PERFORMANCE.md §3: it does not); burst 32 only.
BENCHMARK_CAPTURE(cm_hmac, chained, cm_form::chained)
    ->Name("raw_imb/AES_CM_128_HMAC_SHA1_80_protect_chained")
    ->ArgsProduct({{20, 160, 1200}, {32}})
    ->ArgNames({"payload", "burst"});
BENCHMARK(gcm)->Name("raw_imb/AEAD_AES_128_GCM_protect")->Apply(grid);
BENCHMARK_CAPTURE(hmac_only, imb, false)->Name("raw_imb/HMAC_SHA1")->Apply(grid);
BENCHMARK_CAPTURE(hmac_only, own, true)->Name("raw_own/HMAC_SHA1")->Apply(grid);

} // namespace

BENCHMARK_MAIN();
