#include "port_pool.hpp"

#include <string>

namespace srtpo::cp {

engine::result<port_pool> port_pool::create(uint16_t lo, uint16_t hi) {
    const unsigned first = lo + (lo & 1u), last = (hi & 1u) ? hi : hi - 1u; // [even, odd]
    if (lo == 0 || hi < lo || first >= last || last > 65535)
        return engine::make_error(engine::errc::invalid_argument,
                                  "media port range " + std::to_string(lo) + "-" + std::to_string(hi) + " holds no even/odd pair");
    port_pool p;
    p._lo = static_cast<uint16_t>(first);
    p._pairs = (last - first + 1) / 2;
    p._used.assign(p._pairs, false);
    for (std::size_t i = 0; i < p._pairs; ++i) p._free.push_back(static_cast<uint16_t>(first + 2 * i));
    return p;
}

engine::result<uint16_t> port_pool::allocate() {
    if (_free.empty())
        return engine::make_error(engine::errc::invalid_argument,
                                  "media ports exhausted (" + std::to_string(_pairs) + " pairs in use)");
    const uint16_t p = _free.front();
    _free.pop_front();
    _used[(p - _lo) / 2u] = true;
    return p;
}

void port_pool::release(uint16_t p) noexcept {
    if (p < _lo || (p - _lo) % 2 != 0 || static_cast<std::size_t>((p - _lo) / 2) >= _pairs || !_used[(p - _lo) / 2u]) {
        ++_bad_releases;
        return;
    }
    _used[(p - _lo) / 2u] = false;
    _free.push_back(p);
}

} // namespace srtpo::cp
