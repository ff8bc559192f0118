// RFC 3830 §5.4 replay cache: timestamp window plus the (ID, RAND) pairs seen within it.
#include <srtpo/cp/mikey/replay_cache.hpp>

namespace srtpo::cp::mikey {

std::string replay_cache::key_of(std::span<const uint8_t> peer, std::span<const uint8_t> rand) {
    std::string k;
    k.push_back(static_cast<char>(peer.size() >> 8));
    k.push_back(static_cast<char>(peer.size()));
    k.append(peer.begin(), peer.end());
    k.append(rand.begin(), rand.end());
    return k;
}

void replay_cache::expire(std::chrono::system_clock::time_point now) {
    for (auto it = _seen.begin(); it != _seen.end();) it = it->second < now ? _seen.erase(it) : std::next(it);
}

replay_cache::verdict replay_cache::check(const t_payload& t, std::span<const uint8_t> peer,
                                          std::span<const uint8_t> rand, std::chrono::system_clock::time_point now) const {
    if (t.type == ts_type::counter) {
        auto it = _counters.find(std::string(peer.begin(), peer.end()));
        if (it != _counters.end() && t.value <= it->second) return verdict::replay;
    } else {
        const auto ts = time_from_ntp(t.value);
        const auto skew = ts > now ? ts - now : now - ts;
        if (skew > _window) return verdict::stale;
    }
    auto it = _seen.find(key_of(peer, rand));
    if (it != _seen.end() && it->second >= now) return verdict::replay;
    if (_seen.size() >= _capacity) {
        // Full of live entries: refuse rather than forget (forgetting would admit replays).
        std::size_t live = 0;
        for (const auto& e : _seen) live += e.second >= now;
        if (live >= _capacity) return verdict::full;
    }
    return verdict::fresh;
}

void replay_cache::commit(const t_payload& t, std::span<const uint8_t> peer, std::span<const uint8_t> rand,
                          std::chrono::system_clock::time_point now) {
    expire(now);
    if (t.type == ts_type::counter) _counters[std::string(peer.begin(), peer.end())] = t.value;
    // An entry must outlive every timestamp that could still pass the window: 2 x window.
    _seen[key_of(peer, rand)] = now + 2 * _window;
}

} // namespace srtpo::cp::mikey
