// libFuzzer: unprotect (SRTP and SRTCP) of arbitrary bytes, for sessions of several suites with
// and without MKI, RFC 6904 and cryptex; the input's first byte picks the session. Besides not
// crashing: nothing may be accepted (the fuzzer cannot forge a tag), and a rejected packet's
// stream table must stay empty.
#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace srtpo::engine;

namespace {
struct fixture {
    std::unique_ptr<worker_ctx> w;
    std::vector<session_ptr> sessions;
    fixture() {
        w = std::move(worker_ctx::create().value());
        std::array<std::byte, 32> key{};
        std::array<std::byte, 14> salt{};
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = std::byte(i * 7 + 1);
        for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = std::byte(i * 3 + 2);
        const std::byte mki[2] = {std::byte{0}, std::byte{1}};
        for (auto s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32, suite::aead_aes_128_gcm,
                       suite::aead_aes_256_gcm, suite::f8_128_hmac_sha1_80, suite::null_hmac_sha1_32})
            for (int variant = 0; variant < 4; ++variant) {
                const auto& t = traits(s);
                session_config c;
                c.s = s;
                c.dir = direction::unprotect;
                c.max_streams = 4;
                master_key_config k{std::span{key}.first(t.master_key_len), std::span{salt}.first(t.master_salt_len), {}, 0};
                if (variant == 1) k.mki = mki;
                // Header encryption needs a payload cipher: AES-CM or AEAD (the engine refuses others).
                const bool hdr_crypto = t.cipher == cipher_kind::aes_cm || t.cipher == cipher_kind::aes_gcm;
                if (variant == 2 && hdr_crypto) c.encrypted_extension_ids = {1, 2, 3};
                if (variant == 3 && hdr_crypto) c.cryptex = true;
                c.keys.push_back(k);
                auto r = make_session(c);
                if (!r) {
                    std::fprintf(stderr, "unprotect_fuzz: make_session: %s\n", r.err().message.c_str());
                    std::abort();
                }
                sessions.push_back(std::move(r.value()));
            }
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fixture f;
    if (size < 1 || size > 4000) return 0;
    session_rt* s = f.sessions[data[0] % f.sessions.size()].get();
    std::vector<std::byte> buf(size - 1 + 64);
    std::memcpy(buf.data(), data + 1, size - 1);
    // Two copies in one burst: the same bytes twice must not both pass, and must not crash.
    std::vector<std::byte> buf2 = buf;
    op ops[2] = {{s, {buf.data(), static_cast<uint16_t>(size - 1), static_cast<uint16_t>(buf.size())}, status::ok},
                 {s, {buf2.data(), static_cast<uint16_t>(size - 1), static_cast<uint16_t>(buf2.size())}, status::ok}};
    const bool rtcp = data[0] & 0x80;
    const auto ok = rtcp ? unprotect_rtcp(*f.w, ops) : unprotect_rtp(*f.w, ops);
    if (ok != 0) __builtin_trap();              // a random packet authenticated: impossible
    if (session_stream_count(*s) != 0) __builtin_trap(); // failures left state behind
    return 0;
}
