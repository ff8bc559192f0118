// libFuzzer target for the ClientHello reader that picks the DTLS stack (ADR 0014): any datagram
// goes through parse_client_hello() and server_stack(); nothing may crash, read out of bounds or
// leak, and a parsed offer must be self-consistent (the stack is GnuTLS only for a NULL profile
// that both sides have). Seed: a real gnutls-cli ClientHello offering SRTP_NULL_HMAC_SHA1_80
// (tests/fuzz/seeds/dtls_client_hello_gnutls_null.bin).

#include <srtpo/cp/dtls/client_hello.hpp>
#include <srtpo/cp/dtls/stack_choice.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace cd = srtpo::cp::dtls;
using srtpo::engine::suite;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> d(reinterpret_cast<const std::byte*>(data), size);
    auto hello = cd::parse_client_hello(d);
    static constexpr suite ours[] = {suite::null_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_80, suite::null_hmac_sha1_32,
                                     suite::aead_aes_128_gcm};
    for (auto who : {cd::profile_selection::server_preference, cd::profile_selection::client_preference}) {
        const auto c = cd::server_stack(ours, who, hello ? std::optional<cd::client_hello>(*hello) : std::nullopt);
        if (c.stack == cd::dtls_stack::openssl) {
            if (c.profile) std::abort();
            continue;
        }
        // GnuTLS was chosen: the input parsed, offered the profile, and it is a NULL one of ours.
        if (!hello || !hello->use_srtp || !c.profile || !cd::is_null_profile(*c.profile)) std::abort();
        const auto& offer = hello->use_srtp->profiles;
        if (std::find(offer.begin(), offer.end(), static_cast<uint16_t>(*c.profile)) == offer.end()) std::abort();
    }
    return 0;
}
