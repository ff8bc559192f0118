#include <srtpo/cp/dtls/certificate.hpp>

#include "ossl_ptr.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace srtpo::cp::dtls {

struct certificate::impl {
    ossl::x509_ptr x509;
    ossl::pkey_ptr pkey;
    std::vector<std::byte> der;
};

namespace {

using engine::errc;
using engine::make_error;

engine::error ossl_error(std::string what) {
    // Library error strings name the failing function and reason, never key bytes.
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        what += ": ";
        what += buf;
    }
    return make_error(errc::backend_failure, std::move(what));
}

engine::result<std::shared_ptr<const certificate::impl>> finish(ossl::x509_ptr x, ossl::pkey_ptr k) {
    auto p = std::make_shared<certificate::impl>();
    const int n = i2d_X509(x.get(), nullptr);
    if (n <= 0) return ossl_error("certificate: i2d_X509");
    p->der.resize(static_cast<std::size_t>(n));
    auto* out = reinterpret_cast<unsigned char*>(p->der.data());
    if (i2d_X509(x.get(), &out) != n) return ossl_error("certificate: i2d_X509");
    p->x509 = std::move(x);
    p->pkey = std::move(k);
    return std::shared_ptr<const certificate::impl>(std::move(p));
}

bool is_p256(EVP_PKEY* k) {
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) return false;
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) return false;
    return std::string_view(group, len) == "prime256v1" || std::string_view(group, len) == "P-256";
}

engine::result<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return make_error(errc::io_error, "certificate: cannot read " + p.string());
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

engine::result<void> write_0600(const std::filesystem::path& p, std::string_view data) {
    auto tmp = p;
    tmp += ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(errc::io_error, "certificate: create " + tmp.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(errc::io_error, "certificate: write " + tmp.string() + ": " + std::strerror(e));
        }
        done += static_cast<std::size_t>(w);
    }
    // The umask cannot widen 0600, but a pre-existing ACL default could: set it explicitly.
    if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return make_error(errc::io_error, "certificate: fsync " + tmp.string() + ": " + std::strerror(e));
    }
    ::close(fd);
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return make_error(errc::io_error, "certificate: rename to " + p.string() + ": " + std::strerror(e));
    }
    return {};
}

} // namespace

engine::result<certificate> certificate::generate(std::string_view common_name, std::chrono::days validity) {
    ERR_clear_error();
    ossl::pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) return ossl_error("certificate: EC P-256 key generation");
    ossl::x509_ptr x(X509_new());
    if (!x) return ossl_error("certificate: X509_new");
    // Random positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, unique per issuer).
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) return ossl_error("certificate: RAND_bytes");
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    const bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get())) != nullptr;
    BN_free(bn);
    if (!serial_ok) return ossl_error("certificate: serial");
    const long secs = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count());
    X509_NAME* name = X509_get_subject_name(x.get());
    if (X509_set_version(x.get(), 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x.get()), -86400) ||
        !X509_gmtime_adj(X509_getm_notAfter(x.get()), secs) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) != 1 ||
        X509_set_issuer_name(x.get(), name) != 1 || X509_set_pubkey(x.get(), key.get()) != 1 ||
        X509_sign(x.get(), key.get(), EVP_sha256()) <= 0)
        return ossl_error("certificate: building the self-signed certificate");
    auto p = finish(std::move(x), std::move(key));
    if (!p) return p.err();
    return certificate(std::move(*p));
}

engine::result<certificate> certificate::load(const std::filesystem::path& cert_file,
                                              const std::filesystem::path& key_file) {
    ERR_clear_error();
    struct stat st {};
    if (::stat(key_file.c_str(), &st) != 0)
        return make_error(errc::io_error, "certificate: " + key_file.string() + ": " + std::strerror(errno));
    if (st.st_mode & 077)
        return make_error(errc::invalid_argument,
                          "certificate: " + key_file.string() + " is readable by group or others; want mode 0600");
    auto key_pem = read_file(key_file);
    if (!key_pem) return key_pem.err();
    auto cert_pem = read_file(cert_file);
    if (!cert_pem) {
        OPENSSL_cleanse(key_pem->data(), key_pem->size());
        return cert_pem.err();
    }
    ossl::bio_ptr kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    ossl::pkey_ptr key(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr) : nullptr);
    kb.reset();
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    if (!key) return make_error(errc::invalid_argument, "certificate: " + key_file.string() + " holds no PEM private key");
    ossl::bio_ptr cb(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())));
    ossl::x509_ptr x(cb ? PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!x) return make_error(errc::invalid_argument, "certificate: " + cert_file.string() + " holds no PEM certificate");
    ERR_clear_error();
    if (!is_p256(key.get())) return make_error(errc::invalid_argument, "certificate: key is not EC P-256");
    if (X509_check_private_key(x.get(), key.get()) != 1) {
        ERR_clear_error();
        return make_error(errc::invalid_argument, "certificate: key does not match the certificate");
    }
    auto p = finish(std::move(x), std::move(key));
    if (!p) return p.err();
    return certificate(std::move(*p));
}

engine::result<certificate> certificate::load_or_create(const std::filesystem::path& cert_file,
                                                        const std::filesystem::path& key_file) {
    std::error_code ec;
    const bool have_cert = std::filesystem::exists(cert_file, ec);
    const bool have_key = std::filesystem::exists(key_file, ec);
    if (have_cert && have_key) return load(cert_file, key_file);
    if (have_cert != have_key)
        return make_error(errc::invalid_argument, "certificate: only one of " + cert_file.string() + " and " +
                                                      key_file.string() + " exists; refusing to replace it");
    auto c = generate();
    if (!c) return c;
    if (auto r = c->save(cert_file, key_file); !r) return r.err();
    return c;
}

engine::result<void> certificate::save(const std::filesystem::path& cert_file,
                                       const std::filesystem::path& key_file) const {
    ERR_clear_error();
    auto to_pem = [](auto&& write) -> engine::result<std::string> {
        ossl::bio_ptr b(BIO_new(BIO_s_mem()));
        if (!b || write(b.get()) != 1) return ossl_error("certificate: PEM encoding");
        char* data = nullptr;
        const long n = BIO_get_mem_data(b.get(), &data);
        std::string s(data, static_cast<std::size_t>(n));
        OPENSSL_cleanse(data, static_cast<std::size_t>(n));
        return s;
    };
    auto key_pem = to_pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, _p->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    if (!key_pem) return key_pem.err();
    auto r = write_0600(key_file, *key_pem);
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    if (!r) return r;
    auto cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, _p->x509.get()); });
    if (!cert_pem) return cert_pem.err();
    return write_0600(cert_file, *cert_pem);
}

std::span<const std::byte> certificate::der() const noexcept { return _p->der; }

std::string certificate::sdp_fingerprint(hash_func h) const {
    auto fp = compute_fingerprint(_p->der, h);
    return fp ? format_fingerprint(*fp) : std::string{};
}

void* certificate::native_x509() const noexcept { return _p->x509.get(); }
void* certificate::native_pkey() const noexcept { return _p->pkey.get(); }

} // namespace srtpo::cp::dtls
