#include "slot_flow.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

net::ip_address to_net(const table::ip_address& a) noexcept {
    net::ip_address r;
    if (a.is_v4()) {
        r.family = net::ip_family::ipv4;
        for (std::size_t i = 0; i < 4; ++i) r.bytes[i] = std::byte{a.octets[12 + i]};
    } else {
        r.family = net::ip_family::ipv6;
        for (std::size_t i = 0; i < 16; ++i) r.bytes[i] = std::byte{a.octets[i]};
    }
    return r;
}

flow_key to_flow_key(const table::flow_key& k) noexcept { return make_flow_key(to_net(k.local), k.port); }

namespace {

std::optional<endpoint> endpoint_of(const table::endpoint& e) {
    if (e.port == 0 && e.addr.is_unspecified()) return std::nullopt;
    return endpoint{to_net(e.addr), e.port};
}

/// Derived keys of one master key of a leg, kept alive while make_session copies them.
struct leg_keys {
    engine::session_keys srtp, srtcp;
};

void add_key(const table::leg_crypto& l, const table::hdrext_leg* hx, leg_keys& k, engine::session_config& c) {
    table::load_keys(l.srtp, k.srtp);
    table::load_keys(l.srtcp, k.srtcp);
    if (hx) table::load_header_keys(*hx, k.srtp);
    engine::master_key_config m;
    m.mki = std::span(reinterpret_cast<const std::byte*>(l.mki.data()), l.mki_len);
    m.lifetime = l.lifetime;
    m.srtp_keys = &k.srtp;
    m.srtcp_keys = &k.srtcp;
    c.keys.push_back(m);
}

bool can_carry(const table::leg_crypto& now, const table::leg_crypto& prev) noexcept {
    return prev.suite == now.suite && prev.mki_len == now.mki_len && now.mki_len > 0 &&
           std::memcmp(prev.mki.data(), now.mki.data(), now.mki_len) != 0;
}

engine::result<engine::session_ptr> make_leg(const table::leg_crypto& l, const table::hdrext_leg* hx,
                                             engine::direction dir, const slot_build_options& o, bool& two_keys) {
    const char* which = dir == engine::direction::unprotect ? "in" : "out";
    engine::session_config c;
    c.s = static_cast<engine::suite>(l.suite);
    c.dir = dir;
    // The out leg has no replay window in the slot (0); the engine's protect side uses it only to
    // refuse reusing an index, so the default is fine.
    c.replay_window = l.replay_window ? l.replay_window : 128;
    c.unencrypted_srtp = (l.flags & table::leg_flag::unencrypted_srtp) != 0;
    c.unencrypted_srtcp = (l.flags & table::leg_flag::unencrypted_srtcp) != 0;
    c.unauthenticated_srtp = (l.flags & table::leg_flag::unauthenticated_srtp) != 0;
    c.cryptex = (l.flags & table::leg_flag::cryptex) != 0;
    c.max_streams = table_max_streams;
    c.initial_roc = l.initial_roc;
    c.initial_srtcp_index = l.initial_srtcp_index;
    if (hx && (l.flags & table::leg_flag::header_ext))
        for (unsigned id = 1; id < 256; ++id)
            if (hx->encrypted(static_cast<uint8_t>(id))) c.encrypted_extension_ids.push_back(static_cast<uint8_t>(id));
    if (o.resume) {
        const auto& p = dir == engine::direction::unprotect ? o.resume->in : o.resume->out;
        if (p.valid) c.initial_roc = p.roc;
        if (dir == engine::direction::protect && o.resume->srtcp.out_valid)
            c.initial_srtcp_index = (o.resume->srtcp.out_index + 1 + restart_index_skip) & 0x7fffffffu;
    }
    const table::hdrext_leg* leg_hx = (l.flags & table::leg_flag::header_ext) ? hx : nullptr;
    std::vector<leg_keys> keys(2);
    add_key(l, leg_hx, keys[0], c);
    two_keys = false;
    if (dir == engine::direction::unprotect && o.previous_in && can_carry(l, *o.previous_in)) {
        add_key(*o.previous_in, leg_hx, keys[1], c);
        two_keys = true;
    }
    auto s = engine::make_session(c);
    if (!s) return make_error(s.err().code, std::string(which) + ": " + s.err().message);
    return std::move(s.value());
}

} // namespace

engine::result<slot_flow> build_slot_flow(const table::slot_data& d, const table::hdrext_record* hx, const slot_build_options& o) {
    slot_flow f;
    f.proto = d.key.proto;
    f.key = to_flow_key(d.key);
    switch (d.action) {
    case table::leg_action::protect: f.act = action::protect; break;
    case table::leg_action::unprotect: f.act = action::unprotect; break;
    case table::leg_action::transcrypt: f.act = action::transcrypt; break;
    case table::leg_action::auth_only: f.act = action::authenticate; break;
    case table::leg_action::tap: f.act = action::forward; break;
    case table::leg_action::none: return make_error(errc::invalid_argument, "action: none");
    }
    if (table::in_leg_keyed(d.action)) {
        auto s = make_leg(d.in, hx ? &hx->in : nullptr, engine::direction::unprotect, o, f.two_in_keys);
        if (!s) return s.err();
        f.in = std::move(s.value());
    }
    if (table::out_leg_keyed(d.action)) {
        bool unused = false;
        auto s = make_leg(d.out, hx ? &hx->out : nullptr, engine::direction::protect, o, unused);
        if (!s) return s.err();
        f.out = std::move(s.value());
    }
    f.send_from = endpoint_of(d.out_local);
    f.send_to = endpoint_of(d.out_peer);
    const auto family = to_net(d.key.local).family;
    for (const auto* e : {&f.send_from, &f.send_to})
        if (*e && (*e)->addr.family != family)
            return make_error(errc::invalid_argument, "out_local/out_peer: address family differs from the flow key (no v4/v6 translation)");
    return f;
}

bool same_leg(const table::leg_crypto& a, const table::leg_crypto& b) noexcept {
    static_assert(std::has_unique_object_representations_v<table::leg_crypto>);
    return CRYPTO_memcmp(&a, &b, sizeof a) == 0;
}

} // namespace srtpo::pmd
