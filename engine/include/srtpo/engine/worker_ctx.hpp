#pragma once
// worker_ctx: everything one thread needs to run bursts — per-backend state (the IPsec-MB manager,
// OpenSSL cipher contexts), the job array and scratch. Never shared between threads.

#include <srtpo/engine/result.hpp>

#include <cstddef>
#include <memory>

namespace srtpo::engine {

/// Largest group handed to a backend at once; longer spans are processed in chunks of this size.
inline constexpr std::size_t max_burst = 64;

class worker_ctx {
public:
    /// Creates state for every available backend. Allocates; call at thread start.
    static result<std::unique_ptr<worker_ctx>> create();
    ~worker_ctx();
    worker_ctx(const worker_ctx&) = delete;
    worker_ctx& operator=(const worker_ctx&) = delete;

    struct impl;
    impl& internals() noexcept { return *_impl; }

private:
    explicit worker_ctx(std::unique_ptr<impl> p);
    std::unique_ptr<impl> _impl;
};

} // namespace srtpo::engine
