// RSA signing and certificate checks for MIKEY's signed modes, on OpenSSL 3 (EVP, X509).
#include <srtpo/cp/mikey/pki.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace srtpo::cp::mikey {

namespace {
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

engine::error bad(std::string m) { return engine::make_error(engine::errc::invalid_argument, std::move(m)); }

engine::result<std::string> read_file(const std::string& path, bool secret) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return engine::make_error(engine::errc::io_error, "cannot stat " + path);
    if (secret && (st.st_mode & 077) != 0)
        return engine::make_error(engine::errc::io_error, path + " is readable by group or others (must be 0600)");
    std::ifstream f(path, std::ios::binary);
    if (!f) return engine::make_error(engine::errc::io_error, "cannot read " + path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

bio_ptr mem_bio(const std::string& s) { return {BIO_new_mem_buf(s.data(), static_cast<int>(s.size())), BIO_free}; }

bool rsa_sha256(EVP_PKEY* k, bool sign, std::span<const uint8_t> data, bytes& sig) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> c(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pc = nullptr;
    if (!c) return false;
    if (sign) {
        std::size_t n = 0;
        if (EVP_DigestSignInit(c.get(), &pc, EVP_sha256(), nullptr, k) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1 ||
            EVP_DigestSign(c.get(), nullptr, &n, data.data(), data.size()) != 1)
            return false;
        sig.resize(n);
        if (EVP_DigestSign(c.get(), sig.data(), &n, data.data(), data.size()) != 1) return false;
        sig.resize(n);
        return true;
    }
    return EVP_DigestVerifyInit(c.get(), &pc, EVP_sha256(), nullptr, k) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
           EVP_DigestVerify(c.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}
} // namespace

struct signer::impl {
    pkey_ptr key{nullptr, EVP_PKEY_free};
};
signer::signer(std::unique_ptr<impl> p) : _p(std::move(p)) {}
signer::~signer() = default;

engine::result<std::shared_ptr<const signer>> signer::from_pem(const std::string& key_pem, const std::string& cert_pem) {
    auto kb = mem_bio(key_pem), cb = mem_bio(cert_pem);
    auto p = std::make_unique<impl>();
    p->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    x509_ptr cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
    if (!p->key) return bad("private key: not a PEM private key");
    if (!cert) return bad("certificate: not a PEM certificate");
    if (EVP_PKEY_get_base_id(p->key.get()) != EVP_PKEY_RSA) return bad("private key: not RSA (MIKEY SIGN S type 0 is RSA)");
    if (X509_check_private_key(cert.get(), p->key.get()) != 1) return bad("certificate does not match the private key");
    const int sz = EVP_PKEY_get_size(p->key.get());
    unsigned char* der = nullptr;
    const int n = i2d_X509(cert.get(), &der);
    if (n <= 0) return bad("certificate: DER encoding failed");
    auto s = std::make_shared<signer>(std::move(p));
    s->_cert_der.assign(der, der + n);
    OPENSSL_free(der);
    s->_sig_len = static_cast<std::size_t>(sz);
    return std::shared_ptr<const signer>(std::move(s));
}

engine::result<std::shared_ptr<const signer>> signer::from_pem_files(const std::string& key_path,
                                                                     const std::string& cert_path) {
    auto k = read_file(key_path, true);
    if (!k) return k.err();
    auto c = read_file(cert_path, false);
    if (!c) return c.err();
    auto r = from_pem(*k, *c);
    OPENSSL_cleanse(k->data(), k->size());
    return r;
}

engine::result<bytes> signer::sign(std::span<const uint8_t> data) const {
    bytes sig;
    if (!rsa_sha256(_p->key.get(), true, data, sig))
        return engine::make_error(engine::errc::backend_failure, "RSA signature failed");
    return sig;
}

engine::result<secret_bytes> signer::decrypt(std::span<const uint8_t> ct) const {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> c(EVP_PKEY_CTX_new_from_pkey(nullptr, _p->key.get(), nullptr),
                                                                  EVP_PKEY_CTX_free);
    std::size_t n = 0;
    if (!c || EVP_PKEY_decrypt_init(c.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(c.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_decrypt(c.get(), nullptr, &n, ct.data(), ct.size()) != 1)
        return bad("PKE does not decrypt");
    secret_bytes out(n);
    if (EVP_PKEY_decrypt(c.get(), out.mut().data(), &n, ct.data(), ct.size()) != 1) return bad("PKE does not decrypt");
    secret_bytes r(out.view().first(n));
    return r;
}

engine::result<bytes> rsa_encrypt_for(std::span<const uint8_t> cert_der, std::span<const uint8_t> plain) {
    const unsigned char* q = cert_der.data();
    x509_ptr cert(d2i_X509(nullptr, &q, static_cast<long>(cert_der.size())), X509_free);
    if (!cert || q != cert_der.data() + cert_der.size()) return bad("peer certificate: not one DER X.509 certificate");
    EVP_PKEY* k = X509_get0_pubkey(cert.get());
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) return bad("peer certificate: key is not RSA");
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> c(EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr),
                                                                  EVP_PKEY_CTX_free);
    std::size_t n = 0;
    if (!c || EVP_PKEY_encrypt_init(c.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(c.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_encrypt(c.get(), nullptr, &n, plain.data(), plain.size()) != 1)
        return engine::make_error(engine::errc::backend_failure, "PKE: RSA encryption failed");
    bytes out(n);
    if (EVP_PKEY_encrypt(c.get(), out.data(), &n, plain.data(), plain.size()) != 1)
        return engine::make_error(engine::errc::backend_failure, "PKE: RSA encryption failed");
    out.resize(n);
    return out;
}

engine::result<bytes> cert_der_from_pem(const std::string& pem) {
    auto b = mem_bio(pem);
    x509_ptr cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) return bad("certificate: not a PEM certificate");
    unsigned char* der = nullptr;
    const int n = i2d_X509(cert.get(), &der);
    if (n <= 0) return bad("certificate: DER encoding failed");
    bytes out(der, der + n);
    OPENSSL_free(der);
    return out;
}

bytes sha1_of(std::span<const uint8_t> data) {
    bytes out(20);
    unsigned n = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha1(), nullptr);
    return out;
}

engine::result<secret_bytes> load_psk_file(const std::string& path) {
    auto t = read_file(path, true);
    if (!t) return t.err();
    std::string digits;
    for (char ch : *t)
        if (!std::isspace(static_cast<unsigned char>(ch))) digits.push_back(ch);
    OPENSSL_cleanse(t->data(), t->size());
    auto nib = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
    const bool ok = !digits.empty() && digits.size() % 2 == 0 &&
                    std::all_of(digits.begin(), digits.end(), [&](char c) { return nib(c) >= 0; });
    secret_bytes out(ok ? digits.size() / 2 : 0);
    for (std::size_t i = 0; ok && i < out.size(); ++i)
        out.mut()[i] = static_cast<uint8_t>(nib(digits[2 * i]) << 4 | nib(digits[2 * i + 1]));
    OPENSSL_cleanse(digits.data(), digits.size());
    if (!ok) return bad(path + ": not an even number of hex digits");
    return out;
}

struct trust_store::impl {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store{X509_STORE_new(), X509_STORE_free};
};
trust_store::trust_store(std::unique_ptr<impl> p) : _p(std::move(p)) {}
trust_store::~trust_store() = default;

engine::result<std::shared_ptr<const trust_store>> trust_store::from_pem(const std::string& pem) {
    auto p = std::make_unique<impl>();
    auto b = mem_bio(pem);
    int n = 0;
    while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(p->store.get(), c);
        X509_free(c);
        ++n;
    }
    if (n == 0) return bad("trust store: no PEM certificate");
    return std::shared_ptr<const trust_store>(std::make_shared<trust_store>(std::move(p)));
}

engine::result<std::shared_ptr<const trust_store>> trust_store::from_pem_file(const std::string& path) {
    auto t = read_file(path, false);
    if (!t) return t.err();
    return from_pem(*t);
}

engine::result<void> trust_store::verify(std::span<const uint8_t> cert_der, std::span<const uint8_t> data,
                                         std::span<const uint8_t> sig) const {
    const unsigned char* q = cert_der.data();
    x509_ptr cert(d2i_X509(nullptr, &q, static_cast<long>(cert_der.size())), X509_free);
    if (!cert || q != cert_der.data() + cert_der.size()) return bad("certificate: not one DER X.509 certificate");
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> vc(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    if (!vc || X509_STORE_CTX_init(vc.get(), _p->store.get(), cert.get(), nullptr) != 1)
        return engine::make_error(engine::errc::backend_failure, "certificate: verification context");
    // Self-signed peer certificates pinned in the store are trust anchors as they are.
    X509_STORE_CTX_set_flags(vc.get(), X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(vc.get()) != 1)
        return bad(std::string("certificate: ") + X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc.get())));
    EVP_PKEY* k = X509_get0_pubkey(cert.get());
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) return bad("certificate: key is not RSA");
    bytes s(sig.begin(), sig.end());
    if (!rsa_sha256(k, false, data, s)) return bad("signature: does not verify");
    return {};
}

} // namespace srtpo::cp::mikey
