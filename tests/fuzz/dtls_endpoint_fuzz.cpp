// libFuzzer target for the DTLS-SRTP endpoint and its text parsers. The input is a sequence
// of datagrams (2-octet big-endian length, then the bytes) fed to a server endpoint and to a
// client endpoint that has sent its ClientHello; nothing may crash or leak, and no input may
// produce keys (the peer cannot know a certificate matching the fingerprint we expect). The
// same bytes also go through the a=fingerprint, a=setup, a=tls-id and use_srtp parsers. A second
// pair of endpoints lists NULL first, so that the same input also reaches the GnuTLS stack.

#include <srtpo/cp/dtls/endpoint.hpp>
#include <srtpo/cp/dtls/srtp_profile.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

namespace {

namespace cd = srtpo::cp::dtls;

const std::shared_ptr<const cd::context>& ctx() {
    static const auto c = cd::context::create(cd::certificate::generate().value()).value();
    return c;
}

const std::vector<cd::fingerprint>& remote() {
    // A fingerprint no peer certificate can match (a fresh key nobody else holds).
    static const std::vector<cd::fingerprint> fp{
        cd::parse_fingerprint(cd::certificate::generate().value().sdp_fingerprint()).value()};
    return fp;
}

void feed(cd::dtls_role role, std::span<const std::byte> d, bool with_null = false) {
    cd::endpoint_config cfg;
    cfg.role = role;
    // With NULL first, a ClientHello offering NULL (server) and every handshake (client: NULL
    // and no GCM) run on GnuTLS (ADR 0014), so the fuzzer drives that stack's glue too.
    if (with_null) cfg.profiles = {srtpo::engine::suite::null_hmac_sha1_80, srtpo::engine::suite::aes_cm_128_hmac_sha1_80};
    cfg.remote_fingerprints = remote();
    auto ep = cd::endpoint::create(ctx(), cfg).value();
    const auto now = std::chrono::steady_clock::now();
    if (!ep->start(now)) std::abort();
    while (d.size() >= 2) {
        const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(d[0]) << 8 | static_cast<std::size_t>(d[1]), d.size() - 2);
        ep->receive(d.subspan(2, n), now);
        d = d.subspan(2 + n);
        while (ep->poll_datagram()) {
        }
        while (auto e = ep->poll_event())
            if (std::holds_alternative<cd::handshake_done>(*e)) std::abort();
    }
    ep->on_timer(now + std::chrono::hours(1)); // handshake timeout path
    while (auto e = ep->poll_event())
        if (std::holds_alternative<cd::handshake_done>(*e)) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> d(reinterpret_cast<const std::byte*>(data), size);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto fp = cd::parse_fingerprint(text)) {
        if (fp->digest.size() != cd::digest_len(fp->hash)) std::abort();
        if (cd::parse_fingerprint(cd::format_fingerprint(*fp)).value() != *fp) std::abort();
    }
    (void)cd::parse_setup(text);
    (void)cd::tls_id_action(text, text);
    if (auto ext = cd::parse_use_srtp(d)) {
        if (ext->mki.size() > 255 || ext->profiles.empty()) std::abort();
        (void)cd::select_profiles(cd::default_profiles(), ext->profiles, cd::profile_selection::client_preference);
    }
    feed(cd::dtls_role::server, d);
    feed(cd::dtls_role::client, d);
    feed(cd::dtls_role::server, d, true);
    feed(cd::dtls_role::client, d, true);
    return 0;
}
