#include "slot_image.hpp"

#include <srtpo/engine/kdf.hpp>

#include <algorithm>

namespace srtpo::cp {

using api::api_errc;
using api::make_api_error;

namespace {

uint8_t flags_of(const api::leg_spec& l) noexcept {
    uint8_t f = 0;
    if (l.unencrypted_srtp) f |= table::leg_flag::unencrypted_srtp;
    if (l.unencrypted_srtcp) f |= table::leg_flag::unencrypted_srtcp;
    if (l.unauthenticated_srtp) f |= table::leg_flag::unauthenticated_srtp;
    return f;
}

api::api_status build_leg(const api::leg_spec& l, const table::leg_crypto* current, bool in_leg, const char* side,
                          table::leg_crypto& out) {
    const auto& t = engine::traits(l.suite);
    out = table::leg_crypto{};
    out.suite = static_cast<uint16_t>(l.suite);
    out.replay_window = in_leg ? l.window : 0;
    out.initial_roc = l.roc;
    out.lifetime = l.lifetime;
    out.flags = flags_of(l);
    if (l.key_salt.empty()) {
        // Keep the keys the table already has: same suite only (a suite change needs a new key).
        if (!current || current->suite != out.suite)
            return make_api_error(api_errc::invalid_argument, std::string(side) + ".key",
                                  "a leg with a new suite needs a key");
        out.mki_len = current->mki_len;
        out.mki = current->mki;
        out.srtp = current->srtp;
        out.srtcp = current->srtcp;
        out.lifetime = l.lifetime ? l.lifetime : current->lifetime;
        return api::ok();
    }
    out.mki_len = static_cast<uint8_t>(l.mki.size());
    std::transform(l.mki.begin(), l.mki.end(), out.mki.begin(), [](std::byte b) { return static_cast<uint8_t>(b); });
    const auto ks = l.key_salt.bytes();
    const auto key = ks.first(t.master_key_len);
    const auto salt = ks.subspan(t.master_key_len, t.master_salt_len);
    engine::session_keys sk; // wipes itself
    for (bool srtcp : {false, true}) {
        if (auto r = engine::derive_session_keys(t, key, salt, srtcp, sk); !r)
            return make_api_error(api_errc::internal, std::string(side) + ".key", "key derivation failed: " + r.err().message);
        table::store_keys(t, sk, srtcp ? out.srtcp : out.srtp);
    }
    return api::ok();
}

} // namespace

api::api_status build_slot(const api::flow_spec& f, const table::slot_data* current, uint16_t grace_ms,
                           table::slot_data& out) {
    out = table::slot_data{};
    out.key.local = f.match.addr;
    out.key.port = f.match.port;
    out.key.proto = f.rtcp_mux ? table::flow_proto::mux : table::flow_proto::rtp;
    out.state = table::slot_state::active;
    out.action = api::action_of(f);
    out.rekey_grace_ms = grace_ms;
    if (f.send_from) out.out_local = *f.send_from;
    if (f.send_to) out.out_peer = *f.send_to;
    if (f.in)
        if (auto r = build_leg(*f.in, current ? &current->in : nullptr, true, "in", out.in); !r) return r;
    if (f.out)
        if (auto r = build_leg(*f.out, current ? &current->out : nullptr, false, "out", out.out); !r) return r;
    if (auto v = table::validate(out, false); !v)
        return make_api_error(api_errc::invalid_argument, "", "the flow does not fit the session table: " + v.err().message);
    return api::ok();
}

api::flow_spec spec_of(const table::slot_data& d) {
    api::flow_spec f;
    f.match = table::endpoint{d.key.local, d.key.port};
    f.rtcp_mux = d.key.proto == table::flow_proto::mux;
    f.authenticate_only = d.action == table::leg_action::auth_only;
    const auto leg = [](const table::leg_crypto& c) {
        api::leg_spec l;
        l.suite = static_cast<engine::suite>(c.suite);
        l.window = c.replay_window ? c.replay_window : api::default_replay_window;
        l.roc = c.initial_roc;
        l.lifetime = c.lifetime;
        l.mki.assign(reinterpret_cast<const std::byte*>(c.mki.data()), reinterpret_cast<const std::byte*>(c.mki.data()) + c.mki_len);
        for (auto b : l.mki) l.mki_value = (l.mki_value << 8) | static_cast<uint8_t>(b);
        l.unencrypted_srtp = c.flags & table::leg_flag::unencrypted_srtp;
        l.unencrypted_srtcp = c.flags & table::leg_flag::unencrypted_srtcp;
        l.unauthenticated_srtp = c.flags & table::leg_flag::unauthenticated_srtp;
        return l;
    };
    if (table::in_leg_keyed(d.action)) f.in = leg(d.in);
    if (table::out_leg_keyed(d.action)) f.out = leg(d.out);
    if (!d.out_local.addr.is_unspecified()) f.send_from = d.out_local;
    if (!d.out_peer.addr.is_unspecified()) f.send_to = d.out_peer;
    f.rekey_grace_ms = d.rekey_grace_ms;
    return f;
}

} // namespace srtpo::cp
