#pragma once
// Keying that happens on the media path rather than in the SDP: DTLS-SRTP (RFC 5763/5764, with
// ICE-lite answering STUN on the same port, RFC 8445 §2.5) and ZRTP (RFC 6189). The call engine
// owns one media_path_keying per keyed leg that uses such a method; it sits on the leg's media
// port, a UDP socket on srtp-offload's media address:port (reached through srtpo-pmd's exception
// path in production, on loopback in tests), where RFC 7983 first-byte demux hands it
// STUN (0..3), ZRTP (16..19) and DTLS (20..63) datagrams. RTP/RTCP (128..191) arriving there is
// counted and dropped: the pmd carries media.
//
// Life cycle, driven by the call engine from the SDP exchange:
//   create(...)            when the leg gets its port (our SDP is being generated)
//   local_attributes()     added to the m= section we send (a=fingerprint, a=setup, a=tls-id,
//                          a=ice-ufrag, a=ice-pwd, a=candidate, a=zrtp-hash; session-level
//                          a=ice-lite goes through session_attributes())
//                          When we answer, call set_remote(offer, ..., true) first: our a=setup
//                          in an answer depends on the offer (RFC 5763 §5).
//   set_remote(...)        the peer's SDP for this leg arrived (offer or answer): fingerprints,
//                          setup role, ICE credentials, a=zrtp-hash; starts or restarts the
//                          handshake (a new a=tls-id or fingerprint on a re-offer rekeys, RFC 8842)
//   on_keyed(...)          fires on the event loop when keys are agreed, with the peer's media
//                          source address as learnt on the port; fires again on every rekey
//   on_failed(...)         fires when the handshake fails or times out; nothing is installed
//
// Thread-safety: event loop thread only. Ownership: owns its socket, protocol state and timers;
// keys leave only through on_keyed (the srtp_keying is the callee's to copy; it is wiped after).

#include <srtpo/cp/call/media_handler.hpp>
#include <srtpo/cp/srtp_keying.hpp>
#include <srtpo/engine/result.hpp>
#include <srtpo/table/slot.hpp>

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace srtpo::cp::sdp {
struct session_description;
}

namespace srtpo::cp::call {

struct media_path_events {
    /// Keys agreed (first time or rekey). `peer` = where the peer's media comes from.
    std::function<void(const srtp_keying&, const table::endpoint& peer)> on_keyed;
    /// Handshake failed; `why` names the reason (fingerprint mismatch, timeout, ...), no keys.
    std::function<void(const std::string& why)> on_failed;
};

class media_path_keying {
public:
    virtual ~media_path_keying() = default;
    virtual keying_method method() const noexcept = 0;
    /// a= lines (name, value) for our m= section on this leg.
    virtual std::vector<std::pair<std::string, std::string>> local_attributes() const = 0;
    /// Session-level a= lines (e.g. ice-lite); may be empty.
    virtual std::vector<std::pair<std::string, std::string>> session_attributes() const = 0;
    /// The peer's SDP for this leg, media section `m`. Errors: api_errc::invalid_argument or
    /// unsupported with a message fit for a SIP Warning (e.g. "no a=fingerprint").
    virtual api::api_status set_remote(const sdp::session_description& sd, std::size_t m, bool is_offer) = 0;
    /// Snapshot for `call show` / `zrtp show`: state, negotiated algorithms/profile, SAS,
    /// cache status, counters. Never keys.
    virtual nlohmann::json status() const = 0;
};

} // namespace srtpo::cp::call
