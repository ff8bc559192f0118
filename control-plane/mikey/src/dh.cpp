// MIKEY DH groups on OpenSSL 3 (EVP_PKEY "DH" from explicit p and g = 2).
#include <srtpo/cp/mikey/dh.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

namespace srtpo::cp::mikey {

namespace {
using bn_ptr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

engine::error fail(const char* what) { return engine::make_error(engine::errc::backend_failure, std::string("DH: ") + what); }

/// The group's prime, from OpenSSL's copies of the RFC 2409 / RFC 3526 constants.
bn_ptr prime_of(dh_group g) {
    switch (g) {
    case dh_group::oakley1: return {BN_get_rfc2409_prime_768(nullptr), BN_free};
    case dh_group::oakley2: return {BN_get_rfc2409_prime_1024(nullptr), BN_free};
    default: return {BN_get_rfc3526_prime_1536(nullptr), BN_free};
    }
}

/// An EVP_PKEY with the group's domain parameters and, if `pub` is given, that public value.
pkey_ptr make_key(dh_group g, const BIGNUM* pub) {
    pkey_ptr out(nullptr, EVP_PKEY_free);
    auto p = prime_of(g);
    bn_ptr gen(BN_new(), BN_free);
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> b(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!p || !gen || !b || !BN_set_word(gen.get(), 2) || !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_FFC_P, p.get()) ||
        !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_FFC_G, gen.get()) ||
        (pub && !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_PUB_KEY, pub)))
        return out;
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(b.get()), OSSL_PARAM_free);
    ctx_ptr c(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* k = nullptr;
    if (params && c && EVP_PKEY_fromdata_init(c.get()) == 1 &&
        EVP_PKEY_fromdata(c.get(), &k, pub ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS, params.get()) == 1)
        out.reset(k);
    return out;
}
} // namespace

void dh_keypair::key_free::operator()(void* p) const noexcept { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }

engine::result<dh_keypair> dh_keypair::generate(dh_group g) {
    auto params = make_key(g, nullptr);
    if (!params) return fail("domain parameters");
    ctx_ptr c(EVP_PKEY_CTX_new_from_pkey(nullptr, params.get(), nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* k = nullptr;
    if (!c || EVP_PKEY_keygen_init(c.get()) != 1 || EVP_PKEY_generate(c.get(), &k) != 1) return fail("key generation");
    dh_keypair kp;
    kp._g = g;
    kp._key.reset(k);
    BIGNUM* pub = nullptr;
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &pub) != 1) return fail("public value");
    kp._pub.assign(dh_value_len(g), 0);
    const int ok = BN_bn2binpad(pub, kp._pub.data(), static_cast<int>(kp._pub.size()));
    BN_free(pub);
    if (ok < 0) return fail("public value encoding");
    return kp;
}

engine::result<secret_bytes> dh_keypair::shared_secret(std::span<const uint8_t> peer) const {
    const std::size_t n = dh_value_len(_g);
    if (peer.size() != n) return engine::make_error(engine::errc::invalid_argument, "DH: peer value has the wrong length");
    bn_ptr y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr), BN_free);
    auto p = prime_of(_g);
    bn_ptr pm1(BN_new(), BN_free);
    if (!y || !p || !pm1 || !BN_sub(pm1.get(), p.get(), BN_value_one())) return fail("bignum");
    // 1 < y < p-1: rejects the values that force a known shared secret.
    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), pm1.get()) >= 0)
        return engine::make_error(engine::errc::invalid_argument, "DH: peer value outside 2..p-2");
    auto peer_key = make_key(_g, y.get());
    if (!peer_key) return fail("peer key");
    ctx_ptr c(EVP_PKEY_CTX_new_from_pkey(nullptr, static_cast<EVP_PKEY*>(_key.get()), nullptr), EVP_PKEY_CTX_free);
    secret_bytes out(n);
    std::size_t len = n;
    if (!c || EVP_PKEY_derive_init(c.get()) != 1 || EVP_PKEY_CTX_set_dh_pad(c.get(), 1) != 1 ||
        EVP_PKEY_derive_set_peer_ex(c.get(), peer_key.get(), 0) != 1 || EVP_PKEY_derive(c.get(), out.mut().data(), &len) != 1 ||
        len != n)
        return fail("derive");
    return out;
}

} // namespace srtpo::cp::mikey
