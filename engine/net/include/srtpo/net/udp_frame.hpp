#pragma once
// udp_frame: a bounds-checked parse of one captured frame down to its UDP payload.
//
// The parser reads hostile input (captures, rx bursts): every field is read only after checking
// that it lies inside the span, and every length field is checked against what was captured.
// It never allocates, never throws and never writes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace srtpo::net {

/// Link-layer header types. Values are the tcpdump.org LINKTYPE_* registry values (the ones
/// stored in pcap/pcapng files), not the platform-dependent DLT_* macros; pcap_file.hpp maps.
enum class link_type : uint16_t {
    ethernet = 1,     ///< LINKTYPE_ETHERNET: Ethernet II, with 0..2 802.1Q/802.1ad tags
    raw = 101,        ///< LINKTYPE_RAW: IPv4 or IPv6, told apart by the version nibble
    linux_sll = 113,  ///< LINKTYPE_LINUX_SLL: Linux "cooked" v1, 16-byte header
    ipv4 = 228,       ///< LINKTYPE_IPV4
    ipv6 = 229,       ///< LINKTYPE_IPV6
    linux_sll2 = 276, ///< LINKTYPE_LINUX_SLL2: Linux "cooked" v2, 20-byte header
};

/// Why a frame is not a complete, unfragmented UDP datagram. Every value has a name so that
/// callers can count drops per reason (ARCHITECTURE.md principle 7).
enum class parse_status : uint8_t {
    ok = 0,
    unsupported_link, ///< link_type value the parser does not know
    truncated_l2,     ///< capture ends inside the link-layer header or a VLAN tag
    too_many_vlans,   ///< more than two 802.1Q/802.1ad tags
    not_ip,           ///< EtherType / SLL protocol / version nibble is neither IPv4 nor IPv6
    truncated_l3,     ///< capture ends before the IP header, or before the datagram's length
    bad_ip_header,    ///< version nibble disagrees with the link layer, or IPv4 IHL < 5
    bad_ip_length,    ///< IPv4 total length < header length; IPv6 payload length 0 (jumbogram)
    bad_ext_header,   ///< IPv6 extension header runs past the datagram, or the chain is too long
    fragment,         ///< IPv4 MF or offset != 0; IPv6 Fragment header (not atomic, RFC 6946)
    not_udp,          ///< the upper-layer protocol is not UDP (17)
    truncated_udp,    ///< the datagram's L4 part is shorter than the 8-byte UDP header
    bad_udp_length,   ///< UDP length < 8 or larger than the L4 part of the IP datagram
    count_            ///< number of values; not a status
};

inline constexpr std::size_t parse_status_count = static_cast<std::size_t>(parse_status::count_);

inline constexpr std::array<std::string_view, parse_status_count> parse_status_names{
    "ok",           "unsupported_link", "truncated_l2",  "too_many_vlans", "not_ip",
    "truncated_l3", "bad_ip_header",    "bad_ip_length", "bad_ext_header", "fragment",
    "not_udp",      "truncated_udp",    "bad_udp_length",
};

/// Stable lower-case name, for counters and logs. Thread-safe.
constexpr std::string_view to_string(parse_status s) noexcept {
    auto i = static_cast<std::size_t>(s);
    return i < parse_status_count ? parse_status_names[i] : std::string_view{"invalid"};
}

enum class ip_family : uint8_t { none = 0, ipv4 = 4, ipv6 = 6 };

/// An IP address in network byte order. IPv4 uses bytes[0..3]; bytes[4..15] are zero.
struct ip_address {
    std::array<std::byte, 16> bytes{};
    ip_family family = ip_family::none;

    friend bool operator==(const ip_address&, const ip_address&) = default;
};

/// Result of parse_udp_frame(). Offsets are from the start of the frame. Fields are filled as
/// far as parsing got: on failure, those past the failing layer keep their zero defaults.
struct udp_frame {
    parse_status status = parse_status::ok;
    uint8_t ip_version = 0;          ///< 4 or 6 once the IP header was recognised
    uint8_t vlan_count = 0;          ///< 802.1Q/802.1ad tags walked (Ethernet and SLL)
    std::array<uint16_t, 2> vlan_tci{}; ///< TCI of each tag, outermost first
    uint32_t l3_offset = 0;          ///< first byte of the IP header
    uint32_t l4_offset = 0;          ///< first byte of the UDP header (after IPv4 options / IPv6 ext)
    uint32_t payload_offset = 0;     ///< first byte of the UDP payload (l4_offset + 8)
    uint32_t payload_len = 0;        ///< UDP length - 8; 0 is a valid, empty payload
    /// End of the IP datagram (l3_offset + IP length). Bytes beyond it (Ethernet padding, a
    /// captured FCS) are not part of the datagram and are dropped by udp_rewrite.
    uint32_t frame_len = 0;
    ip_address src{};
    ip_address dst{};
    uint16_t src_port = 0;
    uint16_t dst_port = 0;

    bool ok() const noexcept { return status == parse_status::ok; }
    friend bool operator==(const udp_frame&, const udp_frame&) = default;
};

/// Parses `frame` (captured bytes, link header first) as `link` down to the UDP payload.
/// Accepts Ethernet II with zero, one or two VLAN tags (0x8100, 0x88a8, 0x9100), raw IPv4/IPv6
/// and Linux cooked v1/v2 headers; IPv4 with options; IPv6 with hop-by-hop, routing,
/// destination-options and atomic-fragment headers (RFC 8200 §4, RFC 6946). Does not verify
/// checksums (see checksum.hpp).
/// Thread-safety: pure function, safe from any thread. Ownership: reads `frame` only during the
/// call and keeps no reference. Failures: reported in `status`; never reads past `frame`.
udp_frame parse_udp_frame(std::span<const std::byte> frame, link_type link) noexcept;

/// The same parse, written into `out` (every field): for a caller that keeps the result in a
/// structure of its own. Returned by value, the result was built in a temporary and copied with
/// wide loads of fields just written with narrow stores — loads that cannot take their data from
/// the store buffer and wait for the stores to reach the cache, on every packet.
void parse_udp_frame(std::span<const std::byte> frame, link_type link, udp_frame& out) noexcept;

namespace detail {
/// parse_udp_frame without its fast path for Ethernet/IPv4(IHL 5)/UDP frames: the reference the
/// tests and the fuzzer compare the fast path against. Same contract as parse_udp_frame.
udp_frame parse_udp_frame_general(std::span<const std::byte> frame, link_type link) noexcept;
} // namespace detail

} // namespace srtpo::net
