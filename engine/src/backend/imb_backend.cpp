// Intel IPsec-MB multi-buffer backend: AES-CM (128/192/256), HMAC-SHA1 and AES-GCM (128/256).
// The ONLY file that includes <intel-ipsec-mb.h> (ARCHITECTURE.md, model-codebases.md §7.2).
//
// Data path, per homogeneous group (one suite, many sessions, per-job keys):
//   - keystream_xor: one IMB_SUBMIT_CIPHER_BURST(IMB_CIPHER_CNTR) over the worker's contiguous
//     IMB_JOB array (sync burst API, IPsec-MB 1.3);
//   - hmac_sha1: one IMB_SUBMIT_HASH_BURST(IMB_AUTH_HMAC_SHA_1) with precomputed ipad/opad;
//   - gcm: the direct IMB_AES{128,256}_GCM_{ENC,DEC} functions, one call per packet. IPsec-MB 1.3
//     has no GCM in the sync cipher burst; measured against the job API (GET_NEXT/SUBMIT/FLUSH)
//     on this machine (AVX-512 + VAES, 64-packet bursts) the direct calls were faster at every
//     size: 15 vs 34 ns (0 B), 34 vs 53 ns (160 B), 109 vs 119 ns (1200 B) per packet, AES-128.
//     The job API's queue bookkeeping costs more than it saves for single-buffer GCM.
//
// Everything key-dependent is computed at install (expand) into the session's 64-byte aligned
// block: AES encryption schedules for k_e and k_he, HMAC-SHA1 ipad/opad states, GCM key data.
// The worker keeps no key copies: IMB jobs point into the session's block. What the library
// leaves behind (lane state in the manager, the GCM context) is wiped: the GCM context after
// every call, the manager (which lives in memory we own) when the worker goes away.

#include "crypto_backend.hpp"
#include "hmac_sha1_mb.hpp"
#include "../ct_equal.hpp"
#include "../load_line.hpp"

#include <intel-ipsec-mb.h>

#include <srtpo/engine/worker_ctx.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace srtpo::engine {
namespace detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Expanded key layout (per key_block), hot lines first (ADR 0017): for AES-CM suites line 0
// holds the HMAC-SHA1 pads and the AES schedule of k_e follows from line 1; for AES-GCM the
// block starts with IPsec-MB's gcm_key_data. The RFC 6904 header-key schedule (k_he), which only
// sessions with encrypted header extensions read, comes last. Which layout a block holds, and
// for which key length, is in the key_block (`layout`, `layout_key_len`; ADR 0017, amendment 3).
// The burst code runs RFC 6904 through keystream_xor with AES-CM traits even for AEAD sessions
// (header_cipher_traits), so k_he is found through the layout.

inline constexpr std::size_t aes_sched_len = 16 * 15; // enough round keys for AES-256
inline constexpr uint8_t layout_cm = 1;
inline constexpr uint8_t layout_gcm = 2;

struct alignas(64) cm_layout {
    alignas(16) uint8_t ipad[24];           ///< SHA-1 state after (k_a ⊕ 0x36…), 20 octets used
    alignas(16) uint8_t opad[24];           ///< SHA-1 state after (k_a ⊕ 0x5c…)
    alignas(64) uint8_t k_e[aes_sched_len]; ///< AES encryption schedule of k_e
    alignas(16) uint8_t k_he[aes_sched_len]; ///< AES encryption schedule of k_he (RFC 6904)
};

struct alignas(64) gcm_layout {
    gcm_key_data gk; ///< AES schedule of k_e + GHASH key powers
    alignas(16) uint8_t k_he[aes_sched_len];
};

static_assert(offsetof(cm_layout, k_e) == 64 && offsetof(gcm_layout, gk) == 0);
static_assert(sizeof(cm_layout) % 64 == 0 && sizeof(gcm_layout) % 64 == 0);
static_assert(alignof(gcm_key_data) <= 64);

uint8_t kind_of(const key_block& kb) noexcept { return kb.layout; }
uint8_t key_len_of(const key_block& kb) noexcept { return kb.layout_key_len; }
const cm_layout& cm_of(const key_block& kb) noexcept { return *reinterpret_cast<const cm_layout*>(kb.expanded); }
const gcm_layout& gcm_of(const key_block& kb) noexcept { return *reinterpret_cast<const gcm_layout*>(kb.expanded); }

/// IPsec-MB 1.3 accepts HMAC-SHA1 tags of 12..20 octets only (it refuses 10): compute 12 and
/// let the burst code take the 4 or 10 it needs (jobs' tag buffers hold at least 20).
inline constexpr uint64_t hmac_out_len = 12;
inline constexpr uint64_t gcm_tag_len = 16; // RFC 7714 §5: 16-octet tags only

/// Which HMACs hmac_sha1_mb computes rather than IPsec-MB (measured, docs/PERFORMANCE.md §3.2):
/// messages of at most 4 inner SHA-1 blocks (247 octets: voice packets), when at least 6 of
/// them are in a run. IPsec-MB's manager adds ~35 ns per message to its rounds; hmac_sha1_mb
/// adds less per message but costs more per block, and a pass pays for all of its lanes.
inline constexpr uint32_t own_hmac_max_blocks = 4;
inline constexpr std::size_t own_hmac_min_msgs = 6;

/// Runs of fewer HMACs than this that stay on IPsec-MB go to its SSE manager, whose HMAC-SHA1
/// uses the SHA-NI instructions two messages at a time, rather than to the AVX-512 manager,
/// whose sixteen lanes a few messages leave mostly idle (measured, docs/PERFORMANCE.md §3.2:
/// one 176-octet message 140 against 464 ns, four 1216-octet ones 433 against 594 ns each;
/// at eight the AVX-512 manager wins for long messages).
inline constexpr std::size_t sha_ni_max_msgs = 7;

const char* arch_name(IMB_ARCH a) noexcept {
    switch (a) {
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
    }
}

using init_fn = void (*)(IMB_MGR*);

init_fn init_for(IMB_ARCH a) noexcept {
    switch (a) {
    case IMB_ARCH_SSE: return init_mb_mgr_sse;
    case IMB_ARCH_AVX: return init_mb_mgr_avx;
    case IMB_ARCH_AVX2: return init_mb_mgr_avx2;
    case IMB_ARCH_AVX512: return init_mb_mgr_avx512;
    default: return nullptr;
    }
}

/// An IMB_MGR in memory we own, so that it can be wiped before it is freed (lane state of the
/// multi-buffer HMAC and the job queue hold key-dependent data). Not thread-safe: one per thread.
class owned_mgr {
public:
    owned_mgr() = default;
    owned_mgr(const owned_mgr&) = delete;
    owned_mgr& operator=(const owned_mgr&) = delete;
    ~owned_mgr() {
        if (!_mem) return;
        imb_clear_mem(_mem, _size);
        ::operator delete(_mem, std::align_val_t{64});
    }

    /// Allocates and initializes for `arch`, or with init_mb_mgr_auto when arch is NONE (the
    /// chosen arch is written back). False if the library refuses.
    bool init(IMB_ARCH& arch) {
        _size = imb_get_mb_mgr_size();
        _mem = ::operator new(_size, std::align_val_t{64});
        std::memset(_mem, 0, _size);
        _mgr = imb_set_pointers_mb_mgr(_mem, 0, 1);
        if (!_mgr) return false;
        if (arch == IMB_ARCH_NONE) {
            init_mb_mgr_auto(_mgr, &arch);
        } else {
            init_fn f = init_for(arch);
            if (!f) return false;
            f(_mgr);
        }
        return imb_get_errno(_mgr) == 0 && arch >= IMB_ARCH_SSE && arch < IMB_ARCH_NUM;
    }
    IMB_MGR* get() const noexcept { return _mgr; }

private:
    void* _mem = nullptr;
    std::size_t _size = 0;
    IMB_MGR* _mgr = nullptr;
};

/// AES encryption key schedule. IPsec-MB writes the decryption schedule too; we need it never
/// (CTR and GCM only encrypt), so it goes to scratch that is wiped.
bool aes_keyexp(IMB_MGR* m, const std::byte* key, std::size_t len, uint8_t* enc) noexcept {
    alignas(16) uint8_t dec[aes_sched_len];
    bool ok = true;
    switch (len) {
    case 16: IMB_AES_KEYEXP_128(m, key, enc, dec); break;
    case 24: IMB_AES_KEYEXP_192(m, key, enc, dec); break;
    case 32: IMB_AES_KEYEXP_256(m, key, enc, dec); break;
    default: ok = false;
    }
    imb_clear_mem(dec, sizeof dec);
    return ok;
}

/// HMAC-SHA1 inner and outer states (RFC 2104): SHA-1 of one block (K ‖ 0…) ⊕ 0x36…/0x5c….
void hmac_pads(IMB_MGR* m, const std::byte* k_a, std::size_t len, uint8_t* ipad, uint8_t* opad) noexcept {
    alignas(16) uint8_t block[64];
    for (std::size_t i = 0; i < 64; ++i) block[i] = static_cast<uint8_t>((i < len ? static_cast<uint8_t>(k_a[i]) : 0u) ^ 0x36u);
    IMB_SHA1_ONE_BLOCK(m, block, ipad);
    for (std::size_t i = 0; i < 64; ++i) block[i] = static_cast<uint8_t>((i < len ? static_cast<uint8_t>(k_a[i]) : 0u) ^ 0x5cu);
    IMB_SHA1_ONE_BLOCK(m, block, opad);
    imb_clear_mem(block, sizeof block);
}

IMB_KEY_SIZE_BYTES key_size_of(std::size_t len) noexcept {
    return len == 24 ? IMB_KEY_192_BYTES : len == 32 ? IMB_KEY_256_BYTES : IMB_KEY_128_BYTES;
}

// ---------------------------------------------------------------------------------------------
// The key lines a burst's jobs read, loaded before the first job runs (ADR 0017, amendment 3;
// load_line.hpp says why loads and not prefetches). With thousands of sessions the key blocks
// are cold; loaded job by job, as the cipher reached them, each miss was waited for in turn.

/// Cache lines of an AES schedule of Nr + 1 round keys (FIPS 197 §5.1) for a key of len octets.
constexpr unsigned schedule_lines(std::size_t key_len) noexcept {
    const unsigned rounds = key_len == 16 ? 11 : key_len == 24 ? 13 : 15;
    return (16 * rounds + 63) / 64;
}

/// Calls load(expanded, job) once for each run of jobs sharing a key block of the given layout
/// (a session's packets in a row) and keeps the loads' results. Blocks of another layout are
/// skipped: their jobs will be refused, and their blocks may be smaller.
template <class Job, class Load>
void load_key_blocks(std::span<const Job> jobs, uint8_t layout, Load load) noexcept {
    const key_block* prev = nullptr;
    uint32_t sink = 0;
    for (const auto& j : jobs) {
        const key_block* kb = j.keys;
        if (kb == prev || !kb || !kb->expanded) continue;
        prev = kb;
        if (kind_of(*kb) == layout) sink += load(kb->expanded, j);
    }
    keep(sink);
}

/// AES-CM + HMAC-SHA1 (cm_layout): line 0 (HMAC pads), then the k_e schedule of the suite's key
/// length.
void load_cm_lines(std::span<const cm_hmac_job> jobs, std::size_t key_len) noexcept {
    const unsigned sched = schedule_lines(key_len);
    load_key_blocks(jobs, layout_cm, [sched](const std::byte* e, const cm_hmac_job&) noexcept {
        uint32_t sink = load_line(e);
        for (unsigned l = 0; l < sched; ++l) sink += load_line(e + offsetof(cm_layout, k_e) + 64 * l);
        return sink;
    });
}

/// AES-GCM (gcm_layout): the round keys at the start of gcm_key_data, and the GHASH key powers a
/// message of n 16-octet blocks (AAD and payload) reads. Where they are depends on IPsec-MB's
/// code path: the VAES code keeps HashKey^48 ... HashKey^1 with HashKey^1 last (IPsec-MB's
/// gcm_keys_vaes_avx512.asm: HashKey^n at octet 16·(63 − n)) and hashes n blocks with
/// HashKey^n ... HashKey^1 — measured here by flush and reload: 160 octets of payload and 12 of
/// AAD read the last three lines, 192 the last four, 1200 all. The other code paths keep
/// HashKey^8 ... HashKey^1 right after the 15-round-key area (three lines).
void load_gcm_lines(std::span<const crypto_job> jobs, std::size_t key_len, bool vaes) noexcept {
    constexpr std::size_t last = (sizeof(gcm_key_data) - 1) / 64; // VAES: the line of HashKey^1
    static_assert(sizeof(gcm_key_data) >= 16 * 63, "HashKey^1 at octet 992 (VAES layout)");
    constexpr std::size_t first = (16 * 15) / 64;                 // others: HashKey^8 at octet 240
    const unsigned sched = schedule_lines(key_len);
    load_key_blocks(jobs, layout_gcm, [sched, vaes](const std::byte* e, const crypto_job& j) noexcept {
        const std::byte* gk = e + offsetof(gcm_layout, gk);
        uint32_t sink = 0;
        for (unsigned l = 0; l < sched; ++l) sink += load_line(gk + 64 * l);
        if (vaes) {
            const std::size_t blocks = (j.auth_len + 15) / 16 + (j.data_len + 15) / 16;
            const std::size_t lines = std::min<std::size_t>(blocks / 4 + 1, last - 3); // the powers end where the schedule does
            for (std::size_t l = 0; l < lines; ++l) sink += load_line(gk + 64 * (last - l));
        } else {
            for (std::size_t l = first; l < first + 3; ++l) sink += load_line(gk + 64 * l);
        }
        return sink;
    });
}

// ---------------------------------------------------------------------------------------------

class imb_worker final : public backend_worker {
public:
    /// own_hmac: HMAC-SHA1 on hmac_sha1_mb (ADR 0022) where it is faster; sha_ni_small: small
    /// runs on the SSE manager's SHA-NI code. Otherwise every HMAC on the `arch` manager.
    /// vaes_gcm: GCM runs IPsec-MB's VAES code, with its layout of the GHASH keys.
    imb_worker(IMB_ARCH arch, bool own_hmac, bool sha_ni_small, bool vaes_gcm)
        : _arch(arch), _own_hmac(own_hmac), _sha_ni_small(sha_ni_small), _vaes_gcm(vaes_gcm) {
        // The fields every job of a burst shares are set once here, not per packet: the burst
        // functions write only a job's status, so they stay (docs/PERFORMANCE.md §3, "constant
        // job fields"). Per packet the loops below write keys, pointers, lengths and status.
        for (auto& x : _cjobs) {
            x.cipher_start_src_offset_in_bytes = 0;
            // RFC 3711 §4.1.1: the 16-octet IV is the whole initial counter block. With
            // iv_len 16 IPsec-MB takes it as such (with 12 it would append 0x00000001).
            x.iv_len_in_bytes = 16;
            x.cipher_mode = IMB_CIPHER_CNTR;
            x.cipher_direction = IMB_DIR_ENCRYPT;
            x.hash_alg = IMB_AUTH_NULL;
            x.chain_order = IMB_ORDER_CIPHER_HASH;
        }
        for (auto& x : _hjobs) {
            x.hash_start_src_offset_in_bytes = 0;
            x.auth_tag_output_len_in_bytes = hmac_out_len;
            x.key_len_in_bytes = 0;
            x.cipher_mode = IMB_CIPHER_NULL;
            x.cipher_direction = IMB_DIR_ENCRYPT;
            x.hash_alg = IMB_AUTH_HMAC_SHA_1;
            x.chain_order = IMB_ORDER_HASH_CIPHER;
        }
    }
    ~imb_worker() override { wipe_scratch(); }

    bool init() {
        if (!_mgr.init(_arch)) return false;
        if (!_sha_ni_small) return true;
        IMB_ARCH sse = IMB_ARCH_SSE;
        return _sha_ni.init(sse);
    }

    void keystream_xor(const suite_traits& t, std::span<crypto_job> jobs) noexcept override {
        if (t.cipher != cipher_kind::aes_cm) { // F8/NULL/GCM never reach here (supports())
            for (auto& j : jobs) j.failed = true;
            return;
        }
        const IMB_KEY_SIZE_BYTES ks = key_size_of(t.master_key_len);
        std::size_t n = 0;
        for (auto& j : jobs) {
            j.failed = false;
            // IPsec-MB refuses zero-length CTR jobs; there is nothing to XOR anyway.
            if (j.data_len == 0) continue;
            const uint8_t* sched = ctr_schedule(j, t.master_key_len);
            if (!sched || !j.data) { j.failed = true; continue; }
            ctr_job(_cjobs[n], sched, ks, j.data, j.data_len, j.iv.data());
            _owner[n] = &j;
            if (++n == _cjobs.size()) {
                if (!run_cipher_burst(n, ks)) cipher_results(n);
                n = 0;
            }
        }
        if (n && !run_cipher_burst(n, ks)) cipher_results(n);
    }

    void hmac_sha1(const suite_traits&, std::span<crypto_job> jobs) noexcept override {
        std::size_t n = 0;
        for (auto& j : jobs) {
            j.failed = false;
            const key_block* kb = j.keys;
            // IPsec-MB refuses an empty message; SRTP/SRTCP always authenticate a header.
            if (!kb || !kb->expanded || kind_of(*kb) != layout_cm || !j.auth || !j.tag || j.auth_len == 0) {
                j.failed = true;
                continue;
            }
            hmac_entry(n, cm_of(*kb), j.auth, j.auth_len, j.tag);
            _owner[n] = &j;
            if (++n == _hjobs.size()) {
                if (!run_hmac(n)) hash_results(n);
                n = 0;
            }
        }
        if (n && !run_hmac(n)) hash_results(n);
    }

    /// One pass from the prepared packets to IPsec-MB's jobs (ADR 0019): the CTR job and its IV
    /// and the HMAC job of a packet are built together, straight from what the burst code knows.
    void srtp_cm_hmac(const suite_traits& t, std::span<cm_hmac_job> jobs) noexcept override {
        const IMB_KEY_SIZE_BYTES ks = key_size_of(t.master_key_len);
        const bool suite_ok = t.cipher == cipher_kind::aes_cm; // once per group, not per packet
        for (std::size_t b = 0; b < jobs.size(); b += max_burst) {
            const auto part = jobs.subspan(b, std::min(max_burst, jobs.size() - b));
            load_cm_lines(part, t.master_key_len);
            std::size_t nc = 0, nh = 0;
            for (auto& j : part) {
                const key_block* kb = j.keys;
                // The same refusals as keystream_xor and hmac_sha1 (the bursts run unchecked).
                j.failed = !suite_ok || !kb || !kb->expanded || kind_of(*kb) != layout_cm ||
                           key_len_of(*kb) != t.master_key_len || !j.pkt || (j.auth_len && !j.tag);
                if (j.failed) continue;
                const cm_layout& l = cm_of(*kb);
                if (j.cipher_len) { // IPsec-MB refuses zero-length CTR jobs; nothing to XOR anyway
                    aes_cm_iv(_iv[nc], kb->salt.data(), 14, j.ssrc, j.index);
                    ctr_job(_cjobs[nc], l.k_e, ks, j.pkt + j.cipher_off, j.cipher_len, _iv[nc].data());
                    _cm_c[nc++] = &j;
                }
                if (j.auth_len) {
                    hmac_entry(nh, l, j.pkt, j.auth_len, j.tag);
                    _cm_h[nh++] = &j;
                }
            }
            // Encrypt, then MAC (RFC 3711 §3.3): the hash burst reads the ciphertext.
            if (nc && !run_cipher_burst(nc, ks))
                for (std::size_t k = 0; k < nc; ++k) _cm_c[k]->failed = _cjobs[k].status != IMB_STATUS_COMPLETED;
            // A packet whose keystream failed keeps its failure.
            if (nh && !run_hmac(nh))
                for (std::size_t k = 0; k < nh; ++k) _cm_h[k]->failed |= _hmac_failed[k];
        }
    }

    void gcm(const suite_traits& t, bool encrypt, std::span<crypto_job> jobs) noexcept override {
        IMB_MGR* m = _mgr.get();
        const bool aes256 = t.master_key_len == 32;
        // The direct GCM functions report errors only through the process-wide imb_errno, which
        // other threads write too; so everything they could refuse is checked here: the suite
        // once per group, the rest per job.
        const bool suite_ok = t.cipher == cipher_kind::aes_gcm && (t.master_key_len == 16 || t.master_key_len == 32);
        load_gcm_lines(jobs, t.master_key_len, _vaes_gcm);
        for (auto& j : jobs) {
            j.failed = false;
            j.auth_ok = false;
            const key_block* kb = j.keys;
            if (!suite_ok || !kb || !kb->expanded || kind_of(*kb) != layout_gcm || key_len_of(*kb) != t.master_key_len ||
                !j.tag || (j.data_len && !j.data) || (j.auth_len && !j.auth)) {
                j.failed = true;
                continue;
            }
            const gcm_key_data* gk = &gcm_of(*kb).gk;
            auto* data = reinterpret_cast<uint8_t*>(j.data);
            const auto* aad = reinterpret_cast<const uint8_t*>(j.auth);
            const uint8_t* iv = j.iv.data(); // RFC 7714 §8.1/§9.1: 12-octet nonce
            if (encrypt) {
                auto* tag = reinterpret_cast<uint8_t*>(j.tag);
                if (aes256) IMB_AES256_GCM_ENC(m, gk, &_gctx, data, data, j.data_len, iv, aad, j.auth_len, tag, gcm_tag_len);
                else IMB_AES128_GCM_ENC(m, gk, &_gctx, data, data, j.data_len, iv, aad, j.auth_len, tag, gcm_tag_len);
            } else {
                // Decrypts in place (as OpenSSL does before its Final): the burst code knows a
                // failed open leaves garbled plaintext and restores it when it must retry.
                uint8_t* tag = _tag.data();
                if (aes256) IMB_AES256_GCM_DEC(m, gk, &_gctx, data, data, j.data_len, iv, aad, j.auth_len, tag, gcm_tag_len);
                else IMB_AES128_GCM_DEC(m, gk, &_gctx, data, data, j.data_len, iv, aad, j.auth_len, tag, gcm_tag_len);
                // RFC 7714 §5.2.2 / RFC 3711 §9.5: no timing oracle on the tag comparison.
                j.auth_ok = ct_equal(_tag.data(), j.tag, gcm_tag_len);
            }
        }
        wipe_scratch();
    }

private:
    /// The per-packet fields of a CTR job, in place over `data` (the shared ones are set once, in
    /// the constructor).
    static void ctr_job(IMB_JOB& x, const uint8_t* sched, IMB_KEY_SIZE_BYTES ks, std::byte* data, uint32_t len,
                        const uint8_t* iv) noexcept {
        x.enc_keys = sched;
        x.key_len_in_bytes = ks;
        x.src = reinterpret_cast<const uint8_t*>(data);
        x.dst = reinterpret_cast<uint8_t*>(data);
        x.msg_len_to_cipher_in_bytes = len;
        x.iv = iv;
        x.status = IMB_STATUS_BEING_PROCESSED;
    }

    /// The per-packet fields of an HMAC-SHA1 job (precomputed ipad/opad from the key block).
    static void hmac_job(IMB_JOB& x, const hmac_sha1_msg& m) noexcept {
        x.src = reinterpret_cast<const uint8_t*>(m.data);
        x.msg_len_to_hash_in_bytes = m.len;
        x.auth_tag_output = reinterpret_cast<uint8_t*>(m.tag);
        x.u.HMAC._hashed_auth_key_xor_ipad = m.ipad;
        x.u.HMAC._hashed_auth_key_xor_opad = m.opad;
        x.status = IMB_STATUS_BEING_PROCESSED;
    }

    /// HMAC k of the next run_hmac().
    void hmac_entry(std::size_t k, const cm_layout& l, const std::byte* msg, uint32_t len, std::byte* tag) noexcept {
        _hmsgs[k] = {l.ipad, l.opad, msg, len, tag};
    }

    /// Runs the n HMACs hmac_entry() set up. The short messages go to hmac_sha1_mb when there
    /// are enough of them to fill its lanes, the rest to IPsec-MB's manager, which hashes long
    /// messages faster and a few messages no slower (ADR 0022, docs/PERFORMANCE.md §3.2). True
    /// when every HMAC completed; otherwise _hmac_failed[k] tells which did not.
    bool run_hmac(std::size_t n) noexcept {
        std::size_t n_short = 0;
        if (_own_hmac)
            for (std::size_t k = 0; k < n; ++k) n_short += hmac_sha1_mb_blocks(_hmsgs[k].len) <= own_hmac_max_blocks;
        if (n_short < own_hmac_min_msgs) n_short = 0;
        std::size_t nj = 0;
        if (n_short == n) {
            hmac_sha1_mb({_hmsgs.data(), n});
            return true;
        }
        for (std::size_t k = 0, m = 0; k < n; ++k) {
            if (n_short && hmac_sha1_mb_blocks(_hmsgs[k].len) <= own_hmac_max_blocks) {
                _hshort[m++] = _hmsgs[k];
                continue;
            }
            hmac_job(_hjobs[nj], _hmsgs[k]);
            _hjob_of[nj++] = static_cast<uint16_t>(k);
        }
        if (n_short) hmac_sha1_mb({_hshort.data(), n_short});
        if (run_hash_burst(nj)) return true;
        std::fill_n(_hmac_failed.begin(), n, false);
        for (std::size_t j = 0; j < nj; ++j) _hmac_failed[_hjob_of[j]] = _hjobs[j].status != IMB_STATUS_COMPLETED;
        return false;
    }

    /// The CTR schedule a job asks for, or nullptr if its key block does not fit the traits.
    static const uint8_t* ctr_schedule(const crypto_job& j, std::size_t key_len) noexcept {
        const key_block* kb = j.keys;
        if (!kb || !kb->expanded) return nullptr;
        if (key_len_of(*kb) != key_len) return nullptr;
        const uint8_t kind = kind_of(*kb);
        if (j.header_keys) { // RFC 6904 §4.1: AES-CM under k_he, any suite
            if (kind == layout_cm) return cm_of(*kb).k_he;
            return kind == layout_gcm ? gcm_of(*kb).k_he : nullptr;
        }
        if (kind != layout_cm) return nullptr;
        return cm_of(*kb).k_e;
    }

    void cipher_results(std::size_t n) noexcept {
        for (std::size_t k = 0; k < n; ++k) _owner[k]->failed = _cjobs[k].status != IMB_STATUS_COMPLETED;
    }
    void hash_results(std::size_t n) noexcept {
        for (std::size_t k = 0; k < n; ++k) _owner[k]->failed = _hmac_failed[k];
    }

    /// True when IPsec-MB completed all n jobs (the common case: the jobs' `failed`, cleared when
    /// they were built, stand); false after the fallback below, when each job's status tells.
    bool run_cipher_burst(std::size_t n, IMB_KEY_SIZE_BYTES ks) noexcept {
        // The unchecked burst: keystream_xor() has already refused every job IPsec-MB's own check
        // would (no schedule, no data, empty message; the key size, IV length and mode are
        // constants here), and the check cost ~35 instructions per job (docs/PERFORMANCE.md §3),
        // as in DPDK's aesni_mb PMD, which submits unchecked outside debug builds.
        const uint32_t done = IMB_SUBMIT_CIPHER_BURST_NOCHECK(_mgr.get(), _cjobs.data(), static_cast<uint32_t>(n),
                                                              IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, ks);
        if (done != n) {
            // Should a job not complete all the same, run the rest one by one through the checked
            // burst (which, on a bad job, processes none), so only the bad job fails. The check
            // wants a decryption schedule too; CTR never reads it.
            for (std::size_t k = 0; k < n; ++k)
                if (_cjobs[k].status != IMB_STATUS_COMPLETED) {
                    _cjobs[k].dec_keys = _cjobs[k].enc_keys;
                    (void)IMB_SUBMIT_CIPHER_BURST(_mgr.get(), &_cjobs[k], 1, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, ks);
                }
        }
        return done == n;
    }

    /// As run_cipher_burst.
    bool run_hash_burst(std::size_t n) noexcept {
        // A few messages: the SHA-NI code of the SSE manager, where the worker has one.
        IMB_MGR* m = n <= sha_ni_max_msgs && _sha_ni.get() ? _sha_ni.get() : _mgr.get();
        // Unchecked, as for the cipher burst: hmac_sha1() refused what the check would.
        const uint32_t done = IMB_SUBMIT_HASH_BURST_NOCHECK(m, _hjobs.data(), static_cast<uint32_t>(n), IMB_AUTH_HMAC_SHA_1);
        if (done != n) {
            for (std::size_t k = 0; k < n; ++k)
                if (_hjobs[k].status != IMB_STATUS_COMPLETED)
                    (void)IMB_SUBMIT_HASH_BURST(m, &_hjobs[k], 1, IMB_AUTH_HMAC_SHA_1);
        }
        return done == n;
    }

    void wipe_scratch() noexcept {
        imb_clear_mem(&_gctx, sizeof _gctx);
        imb_clear_mem(_tag.data(), _tag.size());
    }

    IMB_ARCH _arch;
    bool _own_hmac;
    bool _sha_ni_small;
    bool _vaes_gcm;
    owned_mgr _mgr;
    owned_mgr _sha_ni; ///< an SSE manager for small HMAC runs (own_hmac, CPU with SHA-NI), or none
    std::array<IMB_JOB, max_burst> _cjobs{};        ///< CTR jobs, contiguous for the sync burst API
    std::array<IMB_JOB, max_burst> _hjobs{};        ///< HMAC-SHA1 jobs, likewise
    std::array<hmac_sha1_msg, max_burst> _hmsgs{};  ///< the HMACs of the next run_hmac()
    std::array<hmac_sha1_msg, max_burst> _hshort{}; ///< run_hmac: those for hmac_sha1_mb
    std::array<uint16_t, max_burst> _hjob_of{};     ///< run_hmac: _hjobs[j] computes _hmsgs[_hjob_of[j]]
    std::array<bool, max_burst> _hmac_failed{};     ///< run_hmac: _hmsgs[k] did not complete
    std::array<crypto_job*, max_burst> _owner{};    ///< _cjobs[k] or _hjobs[k] works for *_owner[k]
    std::array<cm_hmac_job*, max_burst> _cm_c{};    ///< srtp_cm_hmac: _cjobs[k] works for *_cm_c[k]
    std::array<cm_hmac_job*, max_burst> _cm_h{};    ///< srtp_cm_hmac: _hjobs[k] works for *_cm_h[k]
    std::array<std::array<uint8_t, 16>, max_burst> _iv{}; ///< srtp_cm_hmac: counter blocks
    gcm_context_data _gctx{};
    alignas(16) std::array<uint8_t, 16> _tag{};     ///< GCM tag computed on open
};

// ---------------------------------------------------------------------------------------------

class imb_backend_impl final : public crypto_backend {
public:
    /// Probes the CPU and the library once; ok() tells whether the backend can be offered.
    imb_backend_impl() {
        const uint64_t need = IMB_FEATURE_AESNI | IMB_FEATURE_PCLMULQDQ;
        if ((imb_get_feature_flags() & need) != need) {
            _why = "CPU lacks AES-NI/PCLMULQDQ";
            return;
        }
        IMB_ARCH a = IMB_ARCH_NONE;
        if (!_mgr.init(a)) {
            _why = "manager initialisation failed";
            return;
        }
        _arch = a;
        // The AVX-512 manager runs GCM on VAES + VPCLMULQDQ code where the CPU has them, with
        // its own layout of the GHASH keys (hot_tail).
        const uint64_t vaes = IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
        _vaes_gcm = a == IMB_ARCH_AVX512 && (_mgr.get()->features & vaes) == vaes;
        if (!choose_hmac()) return;
        if (!self_test()) {
            _why = "known-answer self-test failed";
            return;
        }
        _ok = true;
    }

    bool ok() const noexcept { return _ok; }
    IMB_ARCH arch() const noexcept { return _arch; }
    bool own_hmac() const noexcept { return _own_hmac; }
    bool sha_ni_small() const noexcept { return _sha_ni_small; }
    const char* why() const noexcept { return _why; }

    backend_kind kind() const noexcept override { return backend_kind::ipsec_mb; }

    bool supports(const suite_traits& t) const noexcept override {
        switch (t.cipher) {
        case cipher_kind::aes_cm: return t.master_key_len == 16 || t.master_key_len == 24 || t.master_key_len == 32;
        case cipher_kind::aes_gcm: return t.master_key_len == 16 || t.master_key_len == 32;
        case cipher_kind::aes_f8: // no f8 mode in IPsec-MB: OpenSSL runs these
        case cipher_kind::null: return false;
        }
        return false;
    }

    std::size_t expanded_size(const suite_traits& t) const noexcept override {
        if (!supports(t)) return 0;
        return t.aead() ? sizeof(gcm_layout) : sizeof(cm_layout);
    }

    /// The lines load_cm_lines and load_gcm_lines load for a 160-octet payload: the HMAC pads
    /// and the k_e schedule; the GCM schedule and (VAES) the last three lines of GHASH powers.
    std::array<line_run, 2> hot_runs(const suite_traits& t) const noexcept override {
        if (!supports(t)) return {};
        const auto sched = static_cast<uint8_t>(schedule_lines(t.master_key_len));
        if (!t.aead()) return {{{0, static_cast<uint8_t>(1 + sched)}, {}}};
        constexpr auto last = static_cast<uint16_t>((sizeof(gcm_key_data) - 1) / 64);
        if (_vaes_gcm) return {{{0, sched}, {static_cast<uint16_t>(last - 2), 3}}};
        return {{{0, sched}, {(16 * 15) / 64, 3}}};
    }

    /// Control path. Thread-safe: the shared manager is used only for its stateless key
    /// expansion, one-block SHA-1 and GCM precompute functions.
    result<void> expand(const suite_traits& t, key_block& kb) const override {
        if (!supports(t)) return make_error(errc::unsupported, "ipsec-mb: suite " + std::string(t.name) + " is not supported");
        if (!kb.expanded || reinterpret_cast<std::uintptr_t>(kb.expanded) % 64 != 0)
            return make_error(errc::backend_failure, "ipsec-mb: expanded key block missing or misaligned");
        IMB_MGR* m = _mgr.get();
        const std::size_t kl = t.master_key_len;
        // RFC 6904 §4.3: k_he has the length of k_e; SRTCP blocks carry a zero k_he, harmless.
        if (t.aead()) {
            auto* l = new (kb.expanded) gcm_layout{};
            if (kl == 16) IMB_AES128_GCM_PRE(m, kb.raw.k_e.data(), &l->gk);
            else IMB_AES256_GCM_PRE(m, kb.raw.k_e.data(), &l->gk);
            if (!aes_keyexp(m, kb.raw.k_he.data(), kl, l->k_he))
                return make_error(errc::backend_failure, "ipsec-mb: AES key expansion failed");
            kb.layout = layout_gcm;
            kb.layout_key_len = static_cast<uint8_t>(kl);
        } else {
            auto* l = new (kb.expanded) cm_layout{};
            if (!aes_keyexp(m, kb.raw.k_e.data(), kl, l->k_e) || !aes_keyexp(m, kb.raw.k_he.data(), kl, l->k_he))
                return make_error(errc::backend_failure, "ipsec-mb: AES key expansion failed");
            hmac_pads(m, kb.raw.k_a.data(), kb.raw.k_a.size(), l->ipad, l->opad);
            kb.layout = layout_cm;
            kb.layout_key_len = static_cast<uint8_t>(kl);
        }
        return {};
    }

    result<std::unique_ptr<backend_worker>> make_worker() const override {
        auto w = std::make_unique<imb_worker>(_arch, _own_hmac, _sha_ni_small, _vaes_gcm);
        if (!w->init())
            return make_error(errc::backend_failure, std::string("ipsec-mb: cannot initialise a manager for ") + arch_name(_arch));
        return std::unique_ptr<backend_worker>{std::move(w)};
    }

private:
    /// HMAC-SHA1 on hmac_sha1_mb where the CPU runs it (ADR 0022: faster than IPsec-MB's
    /// manager at burst sizes), with small runs on the SSE manager's SHA-NI code where the CPU
    /// has it, unless SRTPO_HMAC_SHA1=ipsec-mb asks for the worker's IPsec-MB manager alone (for
    /// comparison, and to test that path on any machine). False, with the reason, for a value
    /// that cannot be honoured.
    bool choose_hmac() noexcept {
        const char* want = std::getenv("SRTPO_HMAC_SHA1");
        const std::string_view w = want ? want : "";
        if (w.empty() || w == "avx512") {
            _own_hmac = hmac_sha1_mb_usable();
            _sha_ni_small = _own_hmac && _arch != IMB_ARCH_SSE && (imb_get_feature_flags() & IMB_FEATURE_SHANI) != 0;
            if (w == "avx512" && !_own_hmac) {
                _why = "SRTPO_HMAC_SHA1=avx512, but the CPU lacks AVX-512 F/BW";
                return false;
            }
            return true;
        }
        if (w == "ipsec-mb") return true;
        _why = "SRTPO_HMAC_SHA1 must be avx512 or ipsec-mb";
        return false;
    }

    /// RFC 3711 App. B.2 (AES-CM keystream, whole 16-octet counter block as IV) and RFC 2202 §3
    /// case 1 (HMAC-SHA1 via our ipad/opad), through the same burst calls as the data path.
    bool self_test() noexcept {
        imb_worker w(_arch, _own_hmac, _sha_ni_small, _vaes_gcm);
        if (!w.init()) return false;
        static constexpr uint8_t b2_key[16] = {0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
                                               0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C};
        static constexpr uint8_t b2_iv[16] = {0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7,
                                              0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0x00, 0x00};
        static constexpr uint8_t b2_ks[32] = {0xE0, 0x3E, 0xAD, 0x09, 0x35, 0xC9, 0x5E, 0x80, 0xE1, 0x66, 0xB1,
                                              0x6D, 0xD9, 0x2B, 0x4E, 0xB4, 0xD2, 0x35, 0x13, 0x16, 0x2B, 0x02,
                                              0xD0, 0xF7, 0x2A, 0x43, 0xA2, 0xFE, 0x4A, 0x5F, 0x97, 0xAB};
        static constexpr uint8_t hmac_tag[20] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                                 0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
        const suite_traits& t = traits(suite::aes_cm_128_hmac_sha1_80);
        auto* mem = static_cast<std::byte*>(::operator new(sizeof(cm_layout), std::align_val_t{64}));
        key_block kb;
        kb.expanded = mem;
        std::memcpy(kb.raw.k_e.data(), b2_key, 16);
        kb.raw.k_a.fill(std::byte{0x0b});
        bool ok = static_cast<bool>(expand(t, kb));
        std::array<std::byte, 32> buf{};
        std::array<std::byte, 20> tag{};
        crypto_job j;
        j.keys = &kb;
        j.data = buf.data();
        j.data_len = 32;
        std::memcpy(j.iv.data(), b2_iv, 16);
        if (ok) w.keystream_xor(t, {&j, 1});
        ok = ok && !j.failed && std::memcmp(buf.data(), b2_ks, 32) == 0;
        static constexpr char msg[] = "Hi There";
        crypto_job h;
        h.keys = &kb;
        h.auth = reinterpret_cast<const std::byte*>(msg);
        h.auth_len = 8;
        h.tag = tag.data();
        if (ok) w.hmac_sha1(t, {&h, 1});
        ok = ok && !h.failed && std::memcmp(tag.data(), hmac_tag, hmac_out_len) == 0;
        imb_clear_mem(mem, sizeof(cm_layout));
        ::operator delete(mem, std::align_val_t{64});
        return ok;
    }

    owned_mgr _mgr;
    IMB_ARCH _arch = IMB_ARCH_NONE;
    bool _vaes_gcm = false; ///< GCM runs the VAES code, with the VAES layout of gcm_key_data
    bool _own_hmac = false; ///< HMAC-SHA1 on hmac_sha1_mb, not on IPsec-MB's manager (ADR 0022)
    bool _sha_ni_small = false; ///< and small runs on the SSE manager's SHA-NI code
    bool _ok = false;
    const char* _why = "";
};

const imb_backend_impl& instance() {
    static const imb_backend_impl b;
    return b;
}

} // namespace

const crypto_backend* imb_backend() noexcept {
    const auto& b = instance();
    return b.ok() ? &b : nullptr;
}

} // namespace detail

std::string_view imb_description() noexcept {
    static const std::string d = [] {
        const auto& b = detail::instance();
        std::string s = std::string("ipsec-mb ") + imb_get_version_str();
        if (!b.ok()) return s + " (unavailable: " + b.why() + ")";
        s += std::string(" (") + detail::arch_name(b.arch()) + "; HMAC-SHA1 " + (b.own_hmac() ? "avx512 x16" : "ipsec-mb");
        if (b.sha_ni_small()) s += ", small runs SHA-NI";
        return s + ")";
    }();
    return d;
}

} // namespace srtpo::engine
