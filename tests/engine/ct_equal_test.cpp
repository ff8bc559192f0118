// ct_equal (engine/src/ct_equal.hpp): the inline constant-time compare the burst code checks
// SRTP/SRTCP tags with. Every length a suite uses (and the ones around them), a difference in
// every octet and every bit position, and equal inputs.

#include "ct_equal.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>

namespace srtpo::engine::detail {
namespace {

TEST(CtEqual, EqualAndEveryOneBitDifference) {
    for (std::size_t n = 0; n <= 33; ++n) {
        std::array<unsigned char, 40> a{}, b{};
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = b[i] = static_cast<unsigned char>(i * 37 + 11);
        EXPECT_TRUE(ct_equal(a.data(), b.data(), n)) << n;
        for (std::size_t i = 0; i < n; ++i)
            for (int bit = 0; bit < 8; ++bit) {
                b[i] = static_cast<unsigned char>(b[i] ^ (1u << bit));
                EXPECT_FALSE(ct_equal(a.data(), b.data(), n)) << n << " " << i << " " << bit;
                b[i] = a[i];
            }
        // Octets beyond n are not compared.
        b[n] = static_cast<unsigned char>(~a[n]);
        EXPECT_TRUE(ct_equal(a.data(), b.data(), n)) << n;
    }
}

TEST(CtEqual, UnalignedInputs) {
    std::array<unsigned char, 48> a{}, b{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<unsigned char>(i);
    for (std::size_t off = 0; off < 8; ++off) {
        for (std::size_t i = 0; i < 16; ++i) b[off + 3 + i] = a[off + i];
        EXPECT_TRUE(ct_equal(a.data() + off, b.data() + off + 3, 16)) << off;
        b[off + 3 + 15] ^= 0x80;
        EXPECT_FALSE(ct_equal(a.data() + off, b.data() + off + 3, 16)) << off;
    }
}

} // namespace
} // namespace srtpo::engine::detail
