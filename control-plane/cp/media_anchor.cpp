#include "media_anchor.hpp"

namespace srtpo::cp {

api::leg_spec to_leg(engine::suite s, const srtp_master& m, const srtp_params& p, uint16_t window) {
    api::leg_spec l;
    l.suite = s;
    l.key_salt = m.key_salt;
    l.mki = m.mki;
    for (auto b : m.mki) l.mki_value = (l.mki_value << 8) | static_cast<uint8_t>(b);
    l.lifetime = m.lifetime;
    l.window = window;
    l.roc = p.initial_roc;
    l.unencrypted_srtp = p.unencrypted_srtp;
    l.unencrypted_srtcp = p.unencrypted_srtcp;
    l.unauthenticated_srtp = p.unauthenticated_srtp;
    return l;
}

namespace {
api::flow_spec one_way(const anchor_leg& from, const anchor_leg& to) {
    api::flow_spec f;
    f.match = from.local;
    f.rtcp_mux = from.rtcp_mux;
    if (from.keys) f.in = to_leg(from.keys->suite, from.keys->remote, from.keys->params, from.replay_window);
    if (to.keys) f.out = to_leg(to.keys->suite, to.keys->local, to.keys->params, api::default_replay_window);
    f.send_from = to.local;
    f.send_to = to.peer;
    return f;
}
} // namespace

std::array<api::flow_spec, 2> anchor_flows(const anchor_leg& a, const anchor_leg& b) {
    return {one_way(a, b), one_way(b, a)};
}

} // namespace srtpo::cp
