#pragma once
// Which TLS stack runs a DTLS-SRTP handshake (ADR 0014). OpenSSL 3.0 negotiates the AES-CM and
// AEAD-GCM profiles but not the NULL ones (RFC 5764 §4.1.2, 0x0005/0x0006); GnuTLS 3.7 negotiates
// AES-CM and NULL but not GCM (RFC 7714 §14.2). Each handshake runs on one of them:
//  - server role: the best common profile of the peer's ClientHello decides (NULL -> GnuTLS);
//  - client role: one ClientHello must carry every profile we offer, so a list with NULL and no
//    GCM runs on GnuTLS; any other list on OpenSSL, without its NULL entries.

#include <srtpo/cp/dtls/client_hello.hpp>
#include <srtpo/cp/dtls/srtp_profile.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace srtpo::cp::dtls {

enum class dtls_stack : uint8_t { openssl, gnutls };
std::string_view to_string(dtls_stack s) noexcept;

/// True for SRTP_NULL_HMAC_SHA1_80/_32 (no encryption, RFC 5764 §4.1.2). Thread-safe.
bool is_null_profile(engine::suite s) noexcept;

/// True if the stack can negotiate the profile. Thread-safe.
bool stack_supports(dtls_stack stack, engine::suite s) noexcept;

/// The entries of `profiles` the stack can negotiate, in order. Thread-safe, pure.
std::vector<engine::suite> profiles_for(dtls_stack stack, std::span<const engine::suite> profiles);

/// Client role: GnuTLS if the list has a NULL profile and no GCM one, else OpenSSL. Pure.
dtls_stack client_stack(std::span<const engine::suite> profiles) noexcept;

/// True if client_stack() drops entries of `profiles` (NULL ones next to GCM): srtpo-cp warns
/// once at configuration time. Pure.
bool client_role_drops_null(std::span<const engine::suite> profiles) noexcept;

/// Server role: the stack for this ClientHello and, for GnuTLS, the one profile it must select
/// (GnuTLS is then offered only that one, so its own pick cannot differ from our policy).
struct server_choice {
    dtls_stack stack = dtls_stack::openssl;
    std::optional<engine::suite> profile; ///< set when stack == gnutls
};
/// `hello` is parse_client_hello()'s result; nullopt (unparseable) goes to OpenSSL, which
/// answers it as before. Pure.
server_choice server_stack(std::span<const engine::suite> ours, profile_selection who_wins,
                           const std::optional<client_hello>& hello);

} // namespace srtpo::cp::dtls
