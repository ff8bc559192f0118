#pragma once
// Replay protection: a sliding window of recently accepted indices (RFC 3711 §3.3.2).
//
// The API is check → commit (pion's CheckSeq/Accept): check() is read-only and runs before any
// crypto; commit() runs only after the tag verified. So a forged packet can neither shift the
// window nor mark an index as seen.
//
// The bitmap is circular (bit = index mod capacity), so accepting a packet costs O(1) words
// however wide the window is; the window itself (`size`) may be smaller than the capacity.
// Memory is caller-owned (a slice of the session's pool): the window never allocates.

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace srtpo::engine {

enum class replay_verdict : uint8_t { fresh, duplicate, too_old };

class replay_window {
public:
    replay_window() = default;
    /// bits: capacity words (64 bits each) owned by the caller, zeroed; size ≤ 64·bits.size().
    /// bits.size() must be a power of two, so that index → bit is a mask, not a division.
    replay_window(std::span<uint64_t> bits, uint32_t size) noexcept
        : _bits(bits.data()), _mask(static_cast<uint32_t>(bits.size() * 64 - 1)), _size(size) {
        assert(std::has_single_bit(bits.size()) && size <= bits.size() * 64 && bits.size() * 64 <= (uint64_t{1} << 31));
    }

    /// delta = candidate index − highest accepted index. Read-only.
    replay_verdict check(int64_t delta) const noexcept {
        if (delta > 0) return replay_verdict::fresh;
        if (-delta >= int64_t{_size}) return replay_verdict::too_old;
        return test(_highest + static_cast<uint64_t>(delta)) ? replay_verdict::duplicate : replay_verdict::fresh;
    }

    /// Marks `highest + delta` as accepted, sliding the window forward when delta > 0.
    void commit(int64_t delta) noexcept {
        if (delta > 0) {
            clear_range(_highest + 1, static_cast<uint64_t>(delta));
            _highest += static_cast<uint64_t>(delta);
            set(_highest);
        } else {
            set(_highest - static_cast<uint64_t>(-delta));
        }
    }

    /// Starts the window at `index` (the first accepted packet of a stream).
    void reset(uint64_t index) noexcept {
        for (auto& w : words()) w = 0;
        _highest = index;
        set(index);
    }

    /// Takes over `o`'s position and history (a rekey keeps the replay state, RFC 3711 §3.3.2).
    /// Indices inside this window but older than `o`'s window are marked as seen: `o` refused
    /// them as too old, so they must not become acceptable. No allocation; both windows keep
    /// their own memory.
    void assign(const replay_window& o) noexcept {
        for (auto& w : words()) w = 0;
        _highest = o._highest;
        for (uint64_t d = 0; d < _size && d <= _highest; ++d)
            if (d >= o._size || o.test(_highest - d)) set(_highest - d);
    }

    uint64_t highest() const noexcept { return _highest; }
    uint32_t size() const noexcept { return _size; }

private:
    std::size_t capacity() const noexcept { return std::size_t{_mask} + 1; }
    std::span<uint64_t> words() const noexcept { return {_bits, capacity() / 64}; }
    bool test(uint64_t i) const noexcept {
        auto b = i & _mask;
        return (_bits[b / 64] >> (b % 64)) & 1u;
    }
    void set(uint64_t i) noexcept {
        auto b = i & _mask;
        _bits[b / 64] |= uint64_t{1} << (b % 64);
    }
    void clear(uint64_t i) noexcept {
        auto b = i & _mask;
        _bits[b / 64] &= ~(uint64_t{1} << (b % 64));
    }
    void clear_range(uint64_t first, uint64_t n) noexcept {
        if (n == 1) { // in-order arrival: the common case
            clear(first);
            return;
        }
        if (n >= capacity()) {
            for (auto& w : words()) w = 0;
            return;
        }
        for (uint64_t k = 0; k < n;) {
            auto b = (first + k) & _mask;
            auto bit = b % 64;
            if (bit == 0 && n - k >= 64) {
                _bits[b / 64] = 0;
                k += 64;
            } else {
                _bits[b / 64] &= ~(uint64_t{1} << bit);
                ++k;
            }
        }
    }

    // 24 octets: the window sits in its stream's hot cache line (session_impl.hpp).
    uint64_t* _bits = nullptr;
    uint32_t _mask = 0; ///< capacity in bits − 1
    uint32_t _size = 0;
    uint64_t _highest = 0;
};

} // namespace srtpo::engine
