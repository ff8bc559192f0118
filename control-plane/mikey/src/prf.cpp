// RFC 3830 §4.1.2 PRF and the §4.1.3 / §4.1.4 derivations, on OpenSSL's HMAC-SHA-1.
#include <srtpo/cp/mikey/prf.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace srtpo::cp::mikey {

namespace {
constexpr std::size_t sha1_len = 20;
constexpr std::size_t inkey_piece = 32; // 256 bits (§4.1.2)

bool hmac1(std::span<const uint8_t> key, std::span<const uint8_t> a, std::span<const uint8_t> b, uint8_t* out) {
    unsigned len = 0;
    // HMAC() takes one buffer; A_i || label is assembled in a scratch vector.
    std::vector<uint8_t> in(a.begin(), a.end());
    in.insert(in.end(), b.begin(), b.end());
    const bool ok = HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), in.data(), in.size(), out, &len) &&
                    len == sha1_len;
    OPENSSL_cleanse(in.data(), in.size());
    return ok;
}
} // namespace

bytes kdf_label(uint32_t constant, uint8_t cs_id, uint32_t csb_id, std::span<const uint8_t> rand) {
    bytes l;
    l.reserve(9 + rand.size());
    for (int s = 24; s >= 0; s -= 8) l.push_back(static_cast<uint8_t>(constant >> s));
    l.push_back(cs_id);
    for (int s = 24; s >= 0; s -= 8) l.push_back(static_cast<uint8_t>(csb_id >> s));
    l.insert(l.end(), rand.begin(), rand.end());
    return l;
}

engine::result<secret_bytes> prf(std::span<const uint8_t> inkey, std::span<const uint8_t> label, std::size_t outlen) {
    if (inkey.empty() || outlen == 0)
        return engine::make_error(engine::errc::invalid_argument, "MIKEY PRF: empty input key or output length");
    const std::size_t m = (outlen + sha1_len - 1) / sha1_len;
    secret_bytes out(m * sha1_len);
    secret_bytes block(m * sha1_len);
    uint8_t a[sha1_len];
    for (std::size_t off = 0; off < inkey.size(); off += inkey_piece) {
        const auto s = inkey.subspan(off, std::min(inkey_piece, inkey.size() - off));
        // P(s, label, m): A_1 = HMAC(s, label), then feed back.
        if (!hmac1(s, label, {}, a)) return engine::make_error(engine::errc::backend_failure, "MIKEY PRF: HMAC failed");
        for (std::size_t i = 0; i < m; ++i) {
            if (i > 0 && !hmac1(s, std::span<const uint8_t>(a, sha1_len), {}, a))
                return engine::make_error(engine::errc::backend_failure, "MIKEY PRF: HMAC failed");
            if (!hmac1(s, std::span<const uint8_t>(a, sha1_len), label, block.mut().data() + i * sha1_len))
                return engine::make_error(engine::errc::backend_failure, "MIKEY PRF: HMAC failed");
        }
        for (std::size_t i = 0; i < out.size(); ++i) out.mut()[i] ^= block.view()[i];
    }
    OPENSSL_cleanse(a, sizeof a);
    return secret_bytes(out.view().first(outlen));
}

engine::result<message_keys> derive_message_keys(std::span<const uint8_t> inkey, uint32_t csb_id,
                                                 std::span<const uint8_t> rand) {
    auto e = prf(inkey, kdf_label(label_msg_encr, cs_id_message, csb_id, rand), 16);
    if (!e) return e.err();
    auto s = prf(inkey, kdf_label(label_msg_salt, cs_id_message, csb_id, rand), 14);
    if (!s) return s.err();
    auto a = prf(inkey, kdf_label(label_msg_auth, cs_id_message, csb_id, rand), 20);
    if (!a) return a.err();
    return message_keys{std::move(*e), std::move(*s), std::move(*a)};
}

engine::result<tek_keys> derive_tek(std::span<const uint8_t> tgk, uint8_t cs_id, uint32_t csb_id,
                                    std::span<const uint8_t> rand, std::size_t tek_len, std::size_t salt_len) {
    auto k = prf(tgk, kdf_label(label_tek, cs_id, csb_id, rand), tek_len);
    if (!k) return k.err();
    auto s = prf(tgk, kdf_label(label_tek_salt, cs_id, csb_id, rand), salt_len);
    if (!s) return s.err();
    return tek_keys{std::move(*k), std::move(*s)};
}

} // namespace srtpo::cp::mikey
