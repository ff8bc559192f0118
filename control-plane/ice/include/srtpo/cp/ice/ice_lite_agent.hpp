#pragma once
// The ICE-lite responder (RFC 8445 §2.5, §7.3): answers Binding requests on a media port with
// a success response carrying XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT, after
// checking USERNAME and MESSAGE-INTEGRITY against the short-term credentials exchanged in SDP
// (RFC 8489 §9.1.3). A lite agent never sends checks of its own and is always controlled.
// Sans I/O: the caller passes the datagram and its source address, and sends what comes back.

#include <srtpo/cp/ice/ice_sdp.hpp>
#include <srtpo/cp/ice/stun_message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace srtpo::cp::ice {

struct binding_result {
    enum class kind : uint8_t {
        not_stun,   ///< not a STUN message at all: hand it to someone else (RFC 7983)
        ignored,    ///< STUN, but nothing to answer: indication, response, bad FINGERPRINT
        success,    ///< authenticated Binding request answered with a success response
        error,      ///< answered with an error response (400, 401, 420, 487)
    };
    kind k = kind::not_stun;
    std::vector<std::byte> response; ///< to send back to the source; empty unless success/error
    uint16_t error_code = 0;         ///< for kind::error
    std::string reason;              ///< why (for logs and counters); never the password
    bool use_candidate = false;      ///< the controlling agent nominated this pair (RFC 8445 §7.3.1.5)
    uint32_t priority = 0;           ///< PRIORITY of the request (peer-reflexive priority)
};

/// Thread-safety: not thread-safe (one owner); handle() does not modify the agent, so a const
/// agent may be shared by readers. Ownership: holds both passwords.
class ice_lite_agent {
public:
    /// `remote`: the peer's credentials from its SDP, if known; when given, the RFRAG half of
    /// USERNAME must equal remote->ufrag. `tie_breaker`: for RFC 8445 §7.3.1.1 role conflicts.
    ice_lite_agent(ice_credentials local, std::optional<ice_credentials> remote, uint64_t tie_breaker)
        : _local(std::move(local)), _remote(std::move(remote)), _tie_breaker(tie_breaker) {}

    /// Processes one datagram that arrived from `source`. Never fails; every outcome is in the
    /// result. Thread-safe for concurrent calls on a const agent.
    binding_result handle(std::span<const std::byte> datagram, const transport_address& source) const;

    const ice_credentials& local() const noexcept { return _local; }
    /// New remote credentials after an ICE restart (RFC 8445 §9).
    void set_remote(std::optional<ice_credentials> remote) { _remote = std::move(remote); }

private:
    binding_result error(const stun_message& req, uint16_t code, std::string reason, bool with_integrity,
                         const std::vector<uint16_t>& unknown = {}) const;

    ice_credentials _local;
    std::optional<ice_credentials> _remote;
    uint64_t _tie_breaker;
};

} // namespace srtpo::cp::ice
