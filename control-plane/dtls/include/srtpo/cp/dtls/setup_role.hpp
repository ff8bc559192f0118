#pragma once
// Who is the DTLS client: the SDP a=setup attribute (RFC 4145 §4, applied to DTLS by RFC 5763 §5)
// and the a=tls-id attribute that says whether a re-offer keeps the DTLS association (RFC 8842).

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srtpo::cp::dtls {

/// Our side of the DTLS handshake. active = client (sends the ClientHello), passive = server.
enum class dtls_role : uint8_t { client, server };

/// The a=setup values (RFC 4145 §4).
enum class setup_attr : uint8_t { active, passive, actpass, holdconn };

/// Parses "active" / "passive" / "actpass" / "holdconn" (case-insensitively: RFC 4566 §5.13
/// attribute values are case-sensitive in general, but real peers vary and the set is closed).
/// Errors: invalid_argument. Thread-safe, pure.
engine::result<setup_attr> parse_setup(std::string_view value);
/// The attribute value. Thread-safe.
std::string_view to_string(setup_attr s) noexcept;

/// What an offerer puts in its offer: RFC 5763 §5 says it MUST be actpass. Thread-safe.
constexpr setup_attr offer_setup() noexcept { return setup_attr::actpass; }

/// What the answerer answers to `offer` (RFC 5763 §5): actpass -> active (the RFC recommends
/// the answerer be the client, so the offerer learns its role before the first ClientHello),
/// active -> passive, passive -> active, holdconn -> holdconn. Thread-safe.
setup_attr answer_setup(setup_attr offer) noexcept;

/// Our DTLS role once both sides are known. `ours` is the value we sent (offerer: actpass),
/// `theirs` what the peer sent. Errors: invalid_argument for combinations RFC 4145 §4.1 does
/// not allow (both active, both passive, an answer of actpass) and for holdconn (no
/// connection is wanted). Thread-safe, pure.
engine::result<dtls_role> negotiate_role(setup_attr ours, setup_attr theirs);

// --- RFC 8842 a=tls-id -------------------------------------------------------------------

/// A fresh tls-id: 32 characters from the RFC 8842 §4 alphabet (ALPHA / DIGIT / "+" / "/" /
/// "-" / "_"), 192 bits from RAND_bytes — unique per association as §4 requires.
/// Errors: backend_failure if the RNG fails. Thread-safe.
engine::result<std::string> make_tls_id();

/// True if `id` is a syntactically valid tls-id: 20..255 characters of the alphabet above.
bool valid_tls_id(std::string_view id) noexcept;

/// What an offer or answer means for the existing association (RFC 8842 §5).
enum class association_action : uint8_t {
    keep,        ///< same tls-id as before: keep the DTLS association and its keys
    new_association, ///< no association yet, or the tls-id changed: run a new handshake (rekey)
};

/// Decides from the remote tls-id we saw last (`previous`, empty if none) and the one in the new
/// description (`current`). A missing tls-id in a re-offer (a pre-8842 peer) keeps the
/// association unless the fingerprint changed, which the caller checks (RFC 8842 §5.2 last
/// paragraph). Errors: invalid_argument if `current` is present but malformed. Thread-safe.
engine::result<association_action> tls_id_action(std::optional<std::string_view> previous,
                                                 std::optional<std::string_view> current);

} // namespace srtpo::cp::dtls
