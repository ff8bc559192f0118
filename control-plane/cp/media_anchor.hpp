#pragma once
// The media anchor of a B2BUA call (RFC 3261 B2BUA; "media anchoring" of an SBC): each leg talks
// to srtp-offload's own media address, and the pmd moves packets from one leg to the other,
// re-keying them. Whatever keyed a leg (SDES, DTLS-SRTP, ZRTP, MIKEY, or nothing: plain RTP),
// the result is the same two flows:
//
//   leg A peer --SRTP(A.remote key)--> A.local ==pmd==> B.local --SRTP(B.local key)--> leg B peer
//   leg A peer <--SRTP(A.local key)--- A.local <==pmd== B.local <--SRTP(B.remote key)-- leg B peer
//
// flow 1 matches A.local: in = A's remote (peer's write) key, out = B's local (our write) key,
// sent from B.local to B's peer. flow 2 is the mirror. A leg without keys carries plain RTP, so
// RTP<->SRTP and SRTP<->SRTP with different suites come out of the same code.
//
// Thread-safety: pure functions.

#include <srtpo/cp/api/flow_spec.hpp>
#include <srtpo/cp/srtp_keying.hpp>
#include <srtpo/table/slot.hpp>

#include <array>
#include <optional>

namespace srtpo::cp {

/// One side of the call as the anchor sees it.
struct anchor_leg {
    table::endpoint local;               ///< srtp-offload's media address:port on this leg
    std::optional<table::endpoint> peer; ///< where this leg's media goes (from its SDP / first packet)
    const srtp_keying* keys = nullptr;   ///< null: plain RTP (RTP/AVP) on this leg
    bool rtcp_mux = false;               ///< RFC 5761 on this leg
    uint16_t replay_window = api::default_replay_window;
};

/// The two flows of an anchored call: [0] matches a.local, [1] matches b.local.
/// Keys are copied; the caller's srtp_keying may be wiped afterwards.
/// RTCP: a flow is rtcp_mux only when its arriving leg multiplexes (RFC 5761 §5.1.3: each side
/// decides for what it receives).
std::array<api::flow_spec, 2> anchor_flows(const anchor_leg& a, const anchor_leg& b);

/// Converts one master key of a keying result into a flow leg.
api::leg_spec to_leg(engine::suite s, const srtp_master& m, const srtp_params& p, uint16_t window);

} // namespace srtpo::cp
