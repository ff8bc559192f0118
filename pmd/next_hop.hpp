#pragma once
// Ethernet addressing of fast-path frames (docs/adr/0018-l2-next-hop.md).
//
// A frame the pmd transmits after processing is a routed packet: it must leave with the tx
// port's own MAC as source and the next hop's MAC as destination, or a switch delivers it to
// nobody (it arrived addressed to us). The destination is, in order:
//   1. the flow's `next_hop_mac` (flows file);
//   2. the tx port's next hop (`--next-hop-mac [PORT=]MAC`, e.g. the default gateway);
//   3. when the frame leaves on the port it arrived on: the neighbour it came from (its source
//      MAC), which is right behind a router, the usual place of an SBC's media interface;
//   4. otherwise (another port, no next hop known) the L2 header is kept: a transparent
//      bump-in-the-wire between two ports.
// `--l2 keep` turns all of this off (captures replayed through the pmd keep their L2 header).
// Exception-path frames are never touched: the kernel built their L2 header itself.
// No DPDK here: parse/format are testable without the pmd.

#include <srtpo/engine/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace srtpo::pmd {

struct mac_address {
    std::array<std::byte, 6> b{};
    friend bool operator==(const mac_address&, const mac_address&) = default;
};

/// Parses "02:00:5e:10:00:01" (six hex pairs separated by ':' or '-'). Refuses the broadcast,
/// multicast (group bit) and all-zero addresses: a next hop is one unicast station.
engine::result<mac_address> parse_mac(std::string_view text);
std::string to_string(const mac_address& m);

/// What one tx queue does to the Ethernet header of a processed frame. Built once at start-up.
struct l2_out {
    bool route = false;       ///< rewrite at all (false: --l2 keep)
    bool reflect = false;     ///< rule 3 applies: the frame leaves on the port it arrived on
    bool has_next_hop = false;
    mac_address src;          ///< the tx port's MAC
    mac_address next_hop;     ///< rule 2
};

/// Rewrites bytes 0..11 of `frame` (destination, source) per the rules above. `flow_next_hop` is
/// the flow's own next hop or null. Thread-safe (touches only `frame`); noexcept, no allocation.
inline void rewrite_l2(std::byte* frame, const l2_out& o, const mac_address* flow_next_hop) noexcept {
    if (!o.route) return;
    const mac_address* dst = flow_next_hop ? flow_next_hop : o.has_next_hop ? &o.next_hop : nullptr;
    if (dst) std::memcpy(frame, dst->b.data(), 6);
    else if (o.reflect) std::memcpy(frame, frame + 6, 6);
    else return; // rule 4: transparent
    std::memcpy(frame + 6, o.src.b.data(), 6);
}

} // namespace srtpo::pmd
