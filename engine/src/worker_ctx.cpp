#include "worker_ctx_impl.hpp"

namespace srtpo::engine {

worker_ctx::worker_ctx(std::unique_ptr<impl> p) : _impl(std::move(p)) {}
worker_ctx::~worker_ctx() = default;

result<std::unique_ptr<worker_ctx>> worker_ctx::create() {
    auto p = std::make_unique<impl>();
    for (auto k : {backend_kind::openssl, backend_kind::ipsec_mb}) {
        const auto* be = detail::get_backend(k);
        if (!be) continue;
        auto w = be->make_worker();
        if (!w) return w.err();
        p->workers[static_cast<std::size_t>(k)] = std::move(w.value());
    }
    p->ext_keystream.resize(65536 + 16);
    return std::unique_ptr<worker_ctx>{new worker_ctx(std::move(p))};
}

} // namespace srtpo::engine
