#pragma once
// Dialog state (RFC 3261 §12) and the requests a B2BUA leg builds inside or around it: ACK for a
// 2xx (§13.2.2.4), in-dialog requests such as BYE or re-INVITE (§12.2.1.1), CANCEL (§9.1) and the
// ACK of a non-2xx (§17.1.1.3).

#include <srtpo/cp/sip/message.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::sip {

/// One side's view of a dialog. Thread-safety: a value type.
struct dialog {
    std::string call_id;
    std::string local_tag;
    std::string remote_tag;
    std::string local_uri;    ///< From URI of our requests (name-addr form without tag)
    std::string remote_uri;   ///< To URI of our requests
    std::string remote_target; ///< the peer's Contact URI: Request-URI of in-dialog requests
    std::vector<std::string> route_set; ///< Route values, in the order we send them
    uint32_t local_cseq = 0;
    uint32_t remote_cseq = 0;
};

/// The dialog a UAC gets from a 2xx/101-199-with-tag to its INVITE (§12.1.2): route set = the
/// response's Record-Route reversed, remote target = its Contact. Errors: missing or malformed
/// From/To/Contact/CSeq, no To tag.
result<dialog> dialog_as_uac(const message& invite, const message& response);
/// The dialog a UAS gets when it answers `invite` with `local_tag` (§12.1.1): route set = the
/// request's Record-Route in order, remote target = its Contact.
result<dialog> dialog_as_uas(const message& invite, std::string_view local_tag);

/// A new in-dialog request (BYE, re-INVITE, OPTIONS...): increments local_cseq, Request-URI =
/// remote target, Route = route set, Via with `via_sent_by` ("host:port"), `transport` and
/// `branch`. Loose routing only (lr), as every RFC 3261 proxy does. Thread-safety: pure on `d`.
message make_in_dialog_request(dialog& d, std::string_view method, std::string_view transport,
                               std::string_view via_sent_by, std::string_view branch);

/// ACK for a 2xx to an INVITE (§13.2.2.4): its own transaction, CSeq number of the INVITE.
message make_ack_for_2xx(const dialog& d, uint32_t invite_cseq, std::string_view transport,
                         std::string_view via_sent_by, std::string_view branch);

/// CANCEL for a pending INVITE (§9.1): same Request-URI, Call-ID, From, To, CSeq number, top Via
/// (branch included) and Route. Errors: malformed CSeq or no Via.
result<message> make_cancel(const message& invite);

/// ACK for a 300-699 response to `invite` (§17.1.1.3): part of the INVITE transaction.
message make_ack_for_non2xx(const message& invite, const message& response);

/// A branch parameter value with the RFC 3261 magic cookie and 96 random bits (§8.1.1.7).
/// Errors: backend_failure when RAND_bytes fails. Thread-safety: OpenSSL RAND is thread-safe.
result<std::string> new_branch();
/// A random tag (§19.3: at least 32 bits of randomness; here 64).
result<std::string> new_tag();

} // namespace srtpo::cp::sip
