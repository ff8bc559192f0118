#pragma once
// The contract between call signalling (srtpo-cp's SIP B2BUA, or an external SIP proxy driving the
// control API's call.* operations, as Kamailio drives rtpengine) and the media side of a call
// (the call engine: ports, keying of each leg, flows in the session table).
//
// Signalling sees SDP bodies only: it passes each offer and answer through this interface and
// sends on the rewritten body. Which leg is keyed how is the call engine's job; the B2BUA never
// touches keys, ports or the table.
//
//   caller (leg a) --INVITE sdp1--> B2BUA --offer(call, a, sdp1, policy_b)--> engine -> sdp2 --INVITE--> callee (leg b)
//   caller <--200 sdp4-- B2BUA <--answer(call, b, sdp3)--> engine -> sdp4 <--200 sdp3-- callee
//
// A re-INVITE is another offer/answer on the same call id, from either side; the engine rekeys
// or moves media without disturbing the call's other streams.
//
// Thread-safety: implementations run on srtpo-cp's event loop thread; not thread-safe.
// Ownership: arguments are read during the call only; returned strings belong to the caller
// (they hold keys when a leg uses SDES or MIKEY: wipe them after sending, never log them).

#include <srtpo/cp/api/api_error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::call {

/// The two legs of a call: a = the side that sent the first offer (the caller), b = the other.
enum class side : uint8_t { a, b };
constexpr side other(side s) noexcept { return s == side::a ? side::b : side::a; }

/// How srtpo-cp keys the media of one leg on the SDP it generates for that leg.
/// (What the *peer* of a leg offers is read from its SDP: a=crypto, a=fingerprint, a=key-mgmt,
/// a=zrtp-hash or none.)
enum class keying_method : uint8_t {
    plain,     ///< RTP/AVP(F): no SRTP on this leg
    sdes,      ///< RTP/SAVP(F) with a=crypto (RFC 4568)
    dtls_srtp, ///< UDP/TLS/RTP/SAVP(F) with a=fingerprint, a=setup, ICE-lite (RFC 5763/5764, 8445 §2.5)
    zrtp,      ///< RTP/AVP with a=zrtp-hash; keys agreed on the media path (RFC 6189)
    mikey,     ///< RTP/SAVP with a=key-mgmt:mikey (RFC 4567, RFC 3830)
    same,      ///< whatever the other leg's peer offered (pass the method through, fresh keys)
};

/// Per-leg policy, from srtpo-cp's config (per next hop / per route) or an API request.
struct leg_policy {
    keying_method method = keying_method::same;
    /// SDES/MIKEY/DTLS suite preference by SDES names ("AES_CM_128_HMAC_SHA1_80", ...);
    /// empty = the daemon's configured default order.
    std::vector<std::string> suites;
    /// RFC 5761 on the SDP we generate for this leg: offer it (and accept it if answered).
    bool rtcp_mux = true;
    /// Media address srtp-offload advertises on this leg ("IP4 192.0.2.10"); empty = the
    /// daemon's configured media address.
    std::string media_address;
};

/// What an offer/answer produced.
struct sdp_rewrite {
    std::string sdp;              ///< the body to send to the other leg
    std::vector<std::string> notes; ///< non-fatal remarks for logs (never key material)
};

class media_handler {
public:
    virtual ~media_handler() = default;

    /// An SDP offer arrived from `from`'s peer; returns the offer to send to the other leg, keyed
    /// per `to_policy`. A first offer creates the call. Errors: api_errc::invalid_argument (bad
    /// SDP), unsupported (nothing acceptable: the B2BUA answers 488 with the message as Warning
    /// text), table_full / invalid_argument "media ports exhausted" (503).
    virtual api::api_result<sdp_rewrite> offer(std::string_view call_id, side from, std::string_view sdp,
                                               const leg_policy& to_policy) = 0;

    /// The SDP answer from `from`'s peer to the last offer sent to it; returns the answer to send
    /// to the other leg. Flows are installed (or, for DTLS/ZRTP legs, armed to be installed when
    /// the media-path handshake completes). Errors as offer(); not_found for an unknown call or
    /// no pending offer. On error the pending offer is discarded and the call keeps its previous
    /// media state (RFC 3264 §8: a failed re-offer changes nothing).
    virtual api::api_result<sdp_rewrite> answer(std::string_view call_id, side from, std::string_view sdp) = 0;

    /// The offer sent towards `to` was rejected (error response, CANCEL): forget it; for a first
    /// offer this releases the call's ports. Unknown call: ignored.
    virtual void reject_offer(std::string_view call_id, side to) = 0;

    /// The call ended (BYE, CANCEL, failure): removes its flows and releases its ports and
    /// keying state. Unknown call: ignored.
    virtual void remove(std::string_view call_id) = 0;
};

} // namespace srtpo::cp::call
