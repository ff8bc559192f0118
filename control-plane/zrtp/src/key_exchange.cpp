#include <srtpo/cp/zrtp/key_exchange.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

namespace {

bool is_ffdh(key_agreement k) { return k == key_agreement::dh3k || k == key_agreement::dh2k; }
bool is_ecdh(key_agreement k) { return k == key_agreement::ec25 || k == key_agreement::ec38; }
bool is_xdh(key_agreement k) { return k == key_agreement::x255 || k == key_agreement::x448; }

const char* group_name(key_agreement k) {
    switch (k) {
    case key_agreement::dh3k: return "modp_3072"; // RFC 3526 §4
    case key_agreement::dh2k: return "modp_2048"; // RFC 3526 §3
    case key_agreement::ec25: return "prime256v1";
    case key_agreement::ec38: return "secp384r1";
    default: return nullptr;
    }
}
const char* xdh_name(key_agreement k) { return k == key_agreement::x448 ? "X448" : "X25519"; }

struct ctx_free {
    void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, ctx_free>;
struct bn_free {
    void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

engine::error backend(const char* what) { return make_error(errc::backend_failure, std::string("zrtp key agreement: ") + what); }

// Our public value in ZRTP's wire format.
bool export_pv(key_agreement ka, EVP_PKEY* k, std::vector<uint8_t>& pv) {
    pv.assign(pv_length(ka), 0);
    if (is_xdh(ka)) {
        std::size_t n = pv.size();
        return EVP_PKEY_get_raw_public_key(k, pv.data(), &n) == 1 && n == pv.size();
    }
    if (is_ecdh(ka)) {
        uint8_t buf[1 + 96];
        std::size_t n = 0;
        if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf, &n) != 1) return false;
        if (n != 1 + pv.size() || buf[0] != 0x04) return false; // uncompressed point: 04 || x || y
        std::memcpy(pv.data(), buf + 1, pv.size());
        return true;
    }
    BIGNUM* pub = nullptr;
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &pub) != 1) return false;
    bn_ptr p(pub);
    return BN_bn2binpad(pub, pv.data(), static_cast<int>(pv.size())) == static_cast<int>(pv.size());
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    if (!params) return nullptr;
    ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* k = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &k, selection, params) != 1) k = nullptr;
    OSSL_PARAM_free(params);
    return k;
}

} // namespace

void key_exchange::pkey_free::operator()(evp_pkey_st* p) const noexcept { EVP_PKEY_free(p); }

key_exchange::key_exchange(key_agreement ka, evp_pkey_st* k) : _ka(ka), _key(k) {}

engine::result<key_exchange> key_exchange::generate(key_agreement ka) {
    EVP_PKEY* k = nullptr;
    if (is_xdh(ka)) {
        ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, xdh_name(ka), nullptr));
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &k) != 1) return backend("keygen");
    } else if (is_ecdh(ka) || is_ffdh(ka)) {
        ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, is_ffdh(ka) ? "DH" : "EC", nullptr));
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return backend("keygen init");
        char* g = const_cast<char*>(group_name(ka));
        // For named MODP groups OpenSSL draws a short private exponent of about twice the
        // group's security strength (SP 800-56A; RFC 3526 §8 says the same), which keeps DH3k
        // affordable: no override needed.
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, g, 0), OSSL_PARAM_construct_end()};
        if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 || EVP_PKEY_generate(ctx.get(), &k) != 1) return backend("keygen");
    } else {
        return make_error(errc::unsupported, "zrtp key agreement: Mult and Prsh have no key pair");
    }
    key_exchange kx(ka, k);
    if (!export_pv(ka, k, kx._pv)) return backend("public value export");
    return kx;
}

engine::result<key_exchange> key_exchange::from_private(key_agreement ka, std::span<const uint8_t> priv) {
    EVP_PKEY* k = nullptr;
    if (is_xdh(ka)) {
        k = EVP_PKEY_new_raw_private_key_ex(nullptr, xdh_name(ka), nullptr, priv.data(), priv.size());
    } else if (is_ecdh(ka)) {
        // Derive the public point with a scratch key: fromdata needs both for a usable pair.
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        bn_ptr d(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
        EC_GROUP* grp = EC_GROUP_new_by_curve_name(ka == key_agreement::ec25 ? NID_X9_62_prime256v1 : NID_secp384r1);
        EC_POINT* pt = grp ? EC_POINT_new(grp) : nullptr;
        uint8_t pub[1 + 96];
        std::size_t publen = 0;
        if (bld && d && pt && EC_POINT_mul(grp, pt, d.get(), nullptr, nullptr, nullptr) == 1)
            publen = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, nullptr);
        if (publen > 0 && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(ka), 0) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d.get()) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) == 1)
            k = from_params("EC", bld, EVP_PKEY_KEYPAIR);
        EC_POINT_free(pt);
        EC_GROUP_free(grp);
        OSSL_PARAM_BLD_free(bld);
    } else {
        return make_error(errc::unsupported, "zrtp key agreement: fixed private keys only for EC and X curves");
    }
    if (!k) return make_error(errc::invalid_argument, "zrtp key agreement: private key rejected");
    key_exchange kx(ka, k);
    if (!export_pv(ka, k, kx._pv)) return backend("public value export");
    return kx;
}

engine::result<secret> key_exchange::derive(std::span<const uint8_t> peer_pv) const {
    if (peer_pv.size() != pv_length(_ka))
        return make_error(errc::invalid_argument, "zrtp key agreement: peer public value has the wrong length");
    EVP_PKEY* peer = nullptr;
    if (is_xdh(_ka)) {
        peer = EVP_PKEY_new_raw_public_key_ex(nullptr, xdh_name(_ka), nullptr, peer_pv.data(), peer_pv.size());
    } else if (is_ecdh(_ka)) {
        std::vector<uint8_t> enc(1 + peer_pv.size());
        enc[0] = 0x04;
        std::memcpy(enc.data() + 1, peer_pv.data(), peer_pv.size());
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(_ka), 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc.data(), enc.size()) == 1)
            peer = from_params("EC", bld, EVP_PKEY_PUBLIC_KEY);
        OSSL_PARAM_BLD_free(bld);
    } else {
        // §4.4.1.4: reject pv = 0, 1 or p-1 (and anything >= p).
        BIGNUM* p = nullptr;
        if (EVP_PKEY_get_bn_param(_key.get(), OSSL_PKEY_PARAM_FFC_P, &p) != 1) return backend("group prime");
        bn_ptr prime(p);
        bn_ptr y(BN_bin2bn(peer_pv.data(), static_cast<int>(peer_pv.size()), nullptr));
        bn_ptr pm1(BN_dup(prime.get()));
        if (!y || !pm1 || BN_sub_word(pm1.get(), 1) != 1) return backend("bignum");
        if (BN_is_zero(y.get()) || BN_is_one(y.get()) || BN_cmp(y.get(), pm1.get()) >= 0)
            return make_error(errc::invalid_argument, "zrtp key agreement: DH public value is 0, 1 or >= p-1");
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(_ka), 0) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y.get()) == 1)
            peer = from_params("DH", bld, EVP_PKEY_PUBLIC_KEY);
        OSSL_PARAM_BLD_free(bld);
    }
    if (!peer) return make_error(errc::invalid_argument, "zrtp key agreement: peer public value rejected (not on the curve?)");
    std::unique_ptr<evp_pkey_st, pkey_free> peer_key(peer);
    ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, _key.get(), nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return backend("derive init");
    // DHResult is padded to the prime's length (§4.4.1.4 "big-endian, padded").
    if (is_ffdh(_ka) && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) return backend("dh pad");
    if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, is_ecdh(_ka) ? 1 : 0) != 1)
        return make_error(errc::invalid_argument, "zrtp key agreement: peer public value fails validation");
    std::size_t n = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &n) != 1) return backend("derive size");
    secret out(n);
    if (EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1)
        return make_error(errc::invalid_argument, "zrtp key agreement: derivation failed (low-order point?)");
    if (n != out.size()) out = secret(out.view().first(n));
    return out;
}

} // namespace srtpo::cp::zrtp
