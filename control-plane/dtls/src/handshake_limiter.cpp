#include <srtpo/cp/dtls/handshake_limiter.hpp>

namespace srtpo::cp::dtls {

bool handshake_limiter::try_acquire(std::string_view source) {
    if (_count >= _total) return false;
    auto& n = _by_source[std::string(source)];
    if (n >= _per_source) {
        if (n == 0) _by_source.erase(std::string(source));
        return false;
    }
    ++n;
    ++_count;
    return true;
}

void handshake_limiter::release(std::string_view source) {
    auto it = _by_source.find(std::string(source));
    if (it == _by_source.end() || it->second == 0) return;
    --_count;
    if (--it->second == 0) _by_source.erase(it);
}

std::size_t handshake_limiter::in_progress(std::string_view source) const {
    auto it = _by_source.find(std::string(source));
    return it == _by_source.end() ? 0 : it->second;
}

} // namespace srtpo::cp::dtls
