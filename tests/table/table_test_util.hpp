#pragma once
// Helpers shared by the table tests: unique shm names that are always unlinked, and slot images
// whose every word is derived from one 64-bit stamp (so a torn copy is detectable).

#include <srtpo/table/mapping.hpp>
#include <srtpo/table/slot.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace srtpo::table::test {

/// A name unique to this process and call; the shm file is unlinked when the guard dies, even
/// when the test failed half-way.
struct shm_name {
    std::string name;
    explicit shm_name(const std::string& tag) {
        static std::atomic<unsigned> counter{0};
        name = "/srtpo-test-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
        shm_unlink(name.c_str());
    }
    ~shm_name() { shm_unlink(name.c_str()); }
    shm_name(const shm_name&) = delete;
    shm_name& operator=(const shm_name&) = delete;
    operator const std::string&() const noexcept { return name; }
    operator std::string_view() const noexcept { return name; }
    const char* c_str() const noexcept { return name.c_str(); }
};

constexpr uint64_t mix(uint64_t x) noexcept { // splitmix64 finalizer
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

inline uint8_t pattern_byte(uint64_t stamp, uint64_t i) noexcept {
    return static_cast<uint8_t>(mix(stamp * 1024 + i) >> 17);
}

/// A valid transcrypt slot (AES-256-CM-HMAC-SHA1-80 on both legs, so every key byte is used)
/// whose fields all follow from `stamp`. `generation` is set to `stamp` too.
inline slot_data pattern_slot(uint64_t stamp) noexcept {
    slot_data d{};
    d.generation = stamp;
    uint64_t i = 0;
    auto fill = [&](auto& arr) {
        for (auto& b : arr) b = static_cast<std::remove_reference_t<decltype(b)>>(pattern_byte(stamp, i++));
    };
    fill(d.key.local.octets); // IPv6: all 16 octets vary (a v4-mapped prefix would be constant)
    d.key.port = static_cast<uint16_t>(1 + stamp % 65535);
    d.key.proto = static_cast<flow_proto>(1 + stamp % 3);
    d.state = (stamp & 1) ? slot_state::active : slot_state::retiring;
    d.action = leg_action::transcrypt;
    d.rekey_grace_ms = static_cast<uint16_t>(stamp * 7);
    fill(d.in_peer.addr.octets);
    d.in_peer.port = static_cast<uint16_t>(1 + (stamp >> 16) % 65535);
    fill(d.out_local.addr.octets);
    d.out_local.port = static_cast<uint16_t>(1 + (stamp >> 8) % 65535);
    fill(d.out_peer.addr.octets);
    d.out_peer.port = static_cast<uint16_t>(1 + (stamp >> 24) % 65535);
    for (leg_crypto* l : {&d.in, &d.out}) {
        const bool in = l == &d.in;
        l->suite = static_cast<uint16_t>(engine::suite::aes_256_cm_hmac_sha1_80);
        l->replay_window = in ? static_cast<uint16_t>(64 + stamp % 32000) : 0;
        l->initial_roc = static_cast<uint32_t>(mix(stamp + (in ? 1 : 2)));
        l->lifetime = mix(stamp + (in ? 3 : 4)) % (uint64_t{1} << 48);
        l->initial_srtcp_index = in ? 0 : static_cast<uint32_t>(mix(stamp + 5) & 0x7fffffff);
        l->mki_len = static_cast<uint8_t>(stamp % 17);
        for (std::size_t k = 0; k < l->mki_len; ++k) l->mki[k] = pattern_byte(stamp, i++);
        l->flags = static_cast<uint8_t>(stamp % 4); // unencrypted_srtp/srtcp combinations
        fill(l->srtp.k_e);
        fill(l->srtp.k_a);
        fill(l->srtp.k_s);
        fill(l->srtcp.k_e);
        fill(l->srtcp.k_a);
        fill(l->srtcp.k_s);
    }
    return d;
}

/// True when `d` is exactly pattern_slot(d.generation): no word from another generation.
inline bool is_pattern(const slot_data& d) noexcept {
    const slot_data want = pattern_slot(d.generation);
    return std::memcmp(&want, &d, sizeof d) == 0;
}

} // namespace srtpo::table::test
