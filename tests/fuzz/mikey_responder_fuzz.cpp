// libFuzzer: the whole MIKEY responder path (header checks, decode, replay cache, policy, PSK /
// DHHMAC MAC, KEMAC decryption, DH, SIGN verification, key building, ERR replies) and the
// initiator's response handling, on arbitrary bytes. Nothing may crash, and any keys produced
// must have the length of their suite.
#include <srtpo/cp/mikey/exchange.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

using namespace srtpo::cp::mikey;

namespace {
const time_point now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));

struct state {
    replay_cache cache{std::chrono::seconds(60), 256};
    responder resp{make()};
    std::optional<initiator> psk, dhhmac;
    responder_config make() {
        responder_config c;
        c.cred.psk = secret_bytes(bytes(16, 1));
        c.replay = &cache;
        c.allow_null_encr = c.allow_null_mac = true;
        return c;
    }
    state() {
        for (auto m : {mode::psk, mode::dhhmac}) {
            initiator_config c;
            c.m = m;
            c.group = dh_group::oakley1;
            c.cred.psk = secret_bytes(bytes(16, 1));
            c.streams = {{1, 0}};
            auto i = initiator::start(c, now);
            if (!i) __builtin_trap();
            (m == mode::psk ? psk : dhhmac).emplace(std::move(*i));
        }
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static state s;
    const std::span<const uint8_t> in(data, size);
    // Run each input at the time its T payload claims, so that random messages get past the
    // timestamp window (RFC 3830 §5.4) into authentication and key handling.
    time_point at = now;
    if (auto m = decode(in))
        if (const auto* t = m->find<t_payload>(); t && t->type != ts_type::counter) at = time_from_ntp(t->value);
    auto r = s.resp.handle(in, at);
    if (r.ok()) {
        for (const auto& cs : r.sessions)
            if (cs.keying.local.key_salt.size() != srtpo::engine::traits(cs.keying.suite).key_salt_len()) __builtin_trap();
    } else if (!r.error) {
        __builtin_trap();
    }
    (void)s.psk->handle_response(in, now);
    (void)s.dhhmac->handle_response(in, now);
    return 0;
}
