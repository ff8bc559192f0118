#include <srtpo/net/checksum.hpp>

#include "byte_order.hpp"

#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace srtpo::net {

namespace {

constexpr uint8_t proto_udp = 17;
constexpr std::size_t udp_checksum_at = 6;  // offset of the checksum in the UDP header
constexpr std::size_t ipv4_checksum_at = 10; // offset of the checksum in the IPv4 header

/// The UDP datagram of a parsed frame, or an empty span when `f` does not describe `frame`.
std::span<const std::byte> udp_datagram(std::span<const std::byte> frame, const udp_frame& f) noexcept {
    if (!f.ok() || f.payload_offset < f.l4_offset + 8) return {};
    const std::size_t end = std::size_t{f.payload_offset} + f.payload_len;
    if (end > frame.size()) return {};
    return frame.subspan(f.l4_offset, end - f.l4_offset);
}

/// Sum of the pseudo-header for the frame's family plus the whole UDP datagram as stored.
uint64_t frame_sum(const udp_frame& f, std::span<const std::byte> udp) noexcept {
    uint64_t acc = 0;
    if (f.ip_version == 4) {
        acc = pseudo_header_sum_ipv4(std::span<const std::byte, 4>(f.src.bytes.data(), 4),
                                     std::span<const std::byte, 4>(f.dst.bytes.data(), 4),
                                     static_cast<uint16_t>(udp.size()));
    } else {
        acc = pseudo_header_sum_ipv6(f.src.bytes, f.dst.bytes, static_cast<uint32_t>(udp.size()));
    }
    return checksum_add(udp, acc);
}

/// Pseudo-header sum + UDP datagram with its checksum field taken as zero, complemented.
uint16_t udp_checksum_from(uint64_t pseudo, std::span<const std::byte> udp) noexcept {
    if (udp.size() < 8) return 0;
    // One pass over the datagram, the stored checksum field subtracted by adding its complement
    // (RFC 1624 §3); the pseudo-header's protocol word keeps the sum non-zero, so this equals a
    // sum that skips the field.
    const uint16_t stored = detail::load_be16(udp, udp_checksum_at);
    const auto c = static_cast<uint16_t>(~checksum_fold(checksum_add(udp, pseudo + static_cast<uint16_t>(~stored))));
    // RFC 768: "If the computed checksum is zero, it is transmitted as all ones" (0 and 0xffff
    // are the same value in one's complement arithmetic).
    return c == 0 ? uint16_t{0xffff} : c;
}

constexpr std::size_t ipv4_basic_header_len = 20; // IHL 5: no options

uint32_t load32(const std::byte* p) noexcept {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

/// Folded sum, in network order, of a 20-octet IPv4 header (no options), the common case: five
/// native 32-bit words added in 64 bits cannot carry out (RFC 1071 §2(B), §2(C)), so the sum is
/// five loads and four adds instead of a call of checksum_add with its tails.
uint16_t basic_header_sum(const std::byte* h) noexcept {
    const uint64_t acc = uint64_t{load32(h)} + load32(h + 4) + load32(h + 8) + load32(h + 12) + load32(h + 16);
    const uint16_t folded = checksum_fold(acc);
    return static_cast<uint16_t>(folded << 8 | folded >> 8);
}

#if defined(__x86_64__)
unsigned long long load64(const std::byte* p) noexcept {
    unsigned long long w;
    std::memcpy(&w, p, sizeof w);
    return w;
}
#endif

} // namespace

uint64_t checksum_add(std::span<const std::byte> data, uint64_t acc) noexcept {
    // RFC 1071 §2(B), byte-order independence: summing the data as native little-endian words and
    // swapping the two octets of the folded result gives the big-endian sum. §2(C), parallel
    // summation: 64-bit words with the end-around carry added back at once (2^64 ≡ 1 modulo
    // 2^16 - 1), eight octets per add instead of two.
    static_assert(std::endian::native == std::endian::little, "the native-order sum assumes little-endian");
    const std::byte* p = data.data();
    std::size_t n = data.size();
    uint64_t sum = 0;
    const auto add = [&sum](uint64_t v) noexcept {
        sum += v;
        sum += sum < v ? 1u : 0u;
    };
    // Adds the next word of type W (native order) and steps past it.
    const auto take = [&](auto word) noexcept {
        std::memcpy(&word, p, sizeof word);
        add(word);
        p += sizeof word;
        n -= sizeof word;
    };
#if defined(__x86_64__)
    // 32 octets per step as one add-with-carry chain (x86 ADC): four words and the running sum in
    // five instructions, the chain's last carry counted apart so that no flag crosses the loop's
    // own compare. A UDP datagram of a voice packet (190 octets) takes 5 steps; the portable loop
    // below took 24 (about 210 instructions per packet against about 80, under callgrind).
    uint64_t carries = 0;
    while (n >= 32) {
        unsigned long long a = 0, t = 0;
        unsigned char c = _addcarry_u64(0, load64(p), load64(p + 8), &a);
        c = _addcarry_u64(c, a, load64(p + 16), &a);
        c = _addcarry_u64(c, a, load64(p + 24), &a);
        c = _addcarry_u64(c, a, sum, &t);
        sum = t;
        carries += c;
        p += 32;
        n -= 32;
    }
    add(carries);
#endif
    while (n >= 8) take(uint64_t{});
    if (n >= 4) take(uint32_t{});
    if (n >= 2) take(uint16_t{});
    if (n) add(std::to_integer<uint64_t>(*p)); // the low octet of a little-endian word: padded on the right
    const uint16_t folded = checksum_fold((sum & 0xffffffffu) + (sum >> 32));
    return acc + static_cast<uint16_t>(folded << 8 | folded >> 8);
}

uint16_t internet_checksum(std::span<const std::byte> data) noexcept {
    return static_cast<uint16_t>(~checksum_fold(checksum_add(data)));
}

uint16_t ipv4_header_checksum(std::span<const std::byte> h) noexcept {
    if (h.size() < ipv4_checksum_at + 2) return static_cast<uint16_t>(~checksum_fold(checksum_add(h)));
    // One pass over the whole header, then the stored checksum field taken back out: adding its
    // one's complement subtracts it (RFC 1624 §3). The header is never all zero (version
    // nibble), the one case where this and a sum that skips the field would differ (0 vs 0xffff).
    const uint16_t stored = detail::load_be16(h, ipv4_checksum_at);
    const uint64_t sum = h.size() == ipv4_basic_header_len ? basic_header_sum(h.data()) : checksum_add(h);
    return static_cast<uint16_t>(~checksum_fold(sum + static_cast<uint16_t>(~stored)));
}

bool ipv4_header_checksum_ok(std::span<const std::byte> h) noexcept {
    const uint64_t sum = h.size() == ipv4_basic_header_len ? basic_header_sum(h.data()) : checksum_add(h);
    return checksum_fold(sum) == 0xffff;
}

uint64_t pseudo_header_sum_ipv4(std::span<const std::byte, 4> src, std::span<const std::byte, 4> dst,
                                uint16_t udp_len) noexcept {
    // Four big-endian words, added directly: cheaper than two calls of checksum_add.
    const uint64_t acc = uint64_t{detail::load_be16(src, 0)} + detail::load_be16(src, 2) + detail::load_be16(dst, 0) +
                         detail::load_be16(dst, 2);
    return acc + proto_udp + udp_len; // zero byte + protocol form one word
}

uint64_t pseudo_header_sum_ipv6(std::span<const std::byte, 16> src, std::span<const std::byte, 16> dst,
                                uint32_t udp_len) noexcept {
    uint64_t acc = checksum_add(src);
    acc = checksum_add(dst, acc);
    // 32-bit upper-layer packet length, then three zero bytes and the next header (RFC 8200 §8.1).
    return acc + (udp_len >> 16) + (udp_len & 0xffff) + proto_udp;
}

uint16_t udp_checksum_ipv4(std::span<const std::byte, 4> src, std::span<const std::byte, 4> dst,
                           std::span<const std::byte> udp) noexcept {
    return udp_checksum_from(pseudo_header_sum_ipv4(src, dst, static_cast<uint16_t>(udp.size())), udp);
}

uint16_t udp_checksum_ipv6(std::span<const std::byte, 16> src, std::span<const std::byte, 16> dst,
                           std::span<const std::byte> udp) noexcept {
    return udp_checksum_from(pseudo_header_sum_ipv6(src, dst, static_cast<uint32_t>(udp.size())), udp);
}

uint16_t udp_checksum(std::span<const std::byte> frame, const udp_frame& f) noexcept {
    const auto udp = udp_datagram(frame, f);
    if (udp.empty()) return 0;
    if (f.ip_version == 4)
        return udp_checksum_ipv4(std::span<const std::byte, 4>(f.src.bytes.data(), 4),
                                 std::span<const std::byte, 4>(f.dst.bytes.data(), 4), udp);
    return udp_checksum_ipv6(f.src.bytes, f.dst.bytes, udp);
}

uint16_t udp_checksum_residue(std::span<const std::byte> frame, const udp_frame& f) noexcept {
    const auto udp = udp_datagram(frame, f);
    if (udp.empty()) return 0;
    return checksum_fold(frame_sum(f, udp));
}

bool udp_checksum_ok(std::span<const std::byte> frame, const udp_frame& f) noexcept {
    const auto udp = udp_datagram(frame, f);
    if (udp.empty()) return false;
    if (f.ip_version == 4 && detail::load_be16(udp, udp_checksum_at) == 0) return true;
    if (f.ip_version == 6 && detail::load_be16(udp, udp_checksum_at) == 0) return false;
    return checksum_fold(frame_sum(f, udp)) == 0xffff;
}

} // namespace srtpo::net
