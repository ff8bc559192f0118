#include "datagram_bio.hpp"

#include <algorithm>
#include <cstring>

namespace srtpo::cp::dtls {
namespace {

struct io {
    std::deque<std::vector<std::byte>>* out;
    std::span<const std::byte>* in;
};

int bio_write(BIO* b, const char* data, int len) {
    auto* p = static_cast<io*>(BIO_get_data(b));
    if (!p || len < 0) return -1;
    BIO_clear_retry_flags(b);
    const auto* d = reinterpret_cast<const std::byte*>(data);
    p->out->emplace_back(d, d + len);
    return len;
}

int bio_read(BIO* b, char* buf, int len) {
    auto* p = static_cast<io*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (!p || p->in->empty() || len <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    // A datagram larger than OpenSSL's buffer cannot hold a valid record: truncating makes
    // OpenSSL drop it as malformed, which is what a UDP socket with a short buffer does too.
    const auto n = std::min(p->in->size(), static_cast<std::size_t>(len));
    std::memcpy(buf, p->in->data(), n);
    *p->in = {};
    return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
    auto* p = static_cast<io*>(BIO_get_data(b));
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return p ? static_cast<long>(p->in->size()) : 0;
    case BIO_CTRL_WPENDING: return 0; // every write is already a whole datagram
    default: return 0; // MTU queries, peer address, timeouts: the endpoint handles them
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int bio_destroy(BIO* b) {
    delete static_cast<io*>(BIO_get_data(b));
    BIO_set_data(b, nullptr);
    return 1;
}

BIO_METHOD* method() {
    // Created once, never freed (reachable for the process lifetime); C++ guarantees
    // thread-safe initialisation of the static.
    static BIO_METHOD* m = [] {
        BIO_METHOD* mm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "srtpo datagram");
        if (mm) {
            BIO_meth_set_write(mm, bio_write);
            BIO_meth_set_read(mm, bio_read);
            BIO_meth_set_ctrl(mm, bio_ctrl);
            BIO_meth_set_create(mm, bio_create);
            BIO_meth_set_destroy(mm, bio_destroy);
        }
        return mm;
    }();
    return m;
}

} // namespace

BIO* make_datagram_bio(std::deque<std::vector<std::byte>>* out, std::span<const std::byte>* in) {
    BIO_METHOD* m = method();
    BIO* b = m ? BIO_new(m) : nullptr;
    if (!b) return nullptr;
    BIO_set_data(b, new io{out, in});
    return b;
}

} // namespace srtpo::cp::dtls
