// Slot validation and key packing (control path).

#include <srtpo/table/slot.hpp>

#include <srtpo/engine/session.hpp> // replay window and lifetime bounds

#include <algorithm>
#include <cstdio>
#include <string>

namespace srtpo::table {
namespace {

using engine::errc;
using engine::make_error;

engine::error bad(std::string m) { return make_error(errc::invalid_argument, std::move(m)); }

std::string hex16(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%04x", v);
    return b;
}

template <class Array>
bool all_zero(const Array& a, std::size_t from = 0) noexcept {
    return std::all_of(a.begin() + static_cast<std::ptrdiff_t>(from), a.end(),
                       [](auto b) { return b == decltype(b){}; });
}

bool bytes_zero(const void* p, std::size_t n) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
}

/// Bytes beyond what the suite uses must be zero: a non-zero tail means the writer packed keys
/// for another suite (or garbage), which would otherwise be silently truncated.
engine::result<void> check_keys(const std::string& where, const key_material& k, const engine::suite_traits& t) {
    if (!all_zero(k.k_e, t.master_key_len))
        return bad(where + ".k_e has non-zero bytes beyond the " + std::to_string(t.master_key_len) +
                   " octets of " + std::string(t.name));
    if (!all_zero(k.k_a, t.auth_key_len))
        return bad(where + ".k_a has non-zero bytes beyond the " + std::to_string(t.auth_key_len) +
                   " octets of " + std::string(t.name));
    if (!all_zero(k.k_s, t.master_salt_len))
        return bad(where + ".k_s has non-zero bytes beyond the " + std::to_string(t.master_salt_len) +
                   " octets of " + std::string(t.name));
    return {};
}

engine::result<void> check_leg(const char* name, const leg_crypto& l, bool keyed, bool is_in, leg_action a,
                               bool table_has_hdrext) {
    const std::string n = name;
    if (!keyed) {
        if (l.suite != 0)
            return bad(n + ".suite is " + hex16(l.suite) + " but action " + std::string(to_string(a)) +
                       " does not use the " + n + " leg (suite must be 0)");
        if (!bytes_zero(&l, sizeof l))
            return bad(n + " leg is unused by action " + std::string(to_string(a)) + " and must be all zero");
        return {};
    }
    if (l.suite == 0)
        return bad(n + ".suite is 0 but action " + std::string(to_string(a)) + " needs keys on the " + n + " leg");
    const auto* t = engine::traits_of(static_cast<engine::suite>(l.suite));
    if (t == nullptr) return bad(n + ".suite " + hex16(l.suite) + " is not a known SRTP suite");
    if (is_in) {
        if (l.replay_window < engine::min_replay_window || l.replay_window > engine::max_replay_window)
            return bad(n + ".replay_window " + std::to_string(l.replay_window) + " is outside " +
                       std::to_string(engine::min_replay_window) + ".." + std::to_string(engine::max_replay_window) +
                       " (RFC 3711 §3.3.2)");
    } else if (l.replay_window != 0) {
        return bad(n + ".replay_window must be 0 (a protect leg has no replay window)");
    }
    if (l.lifetime > engine::srtp_max_lifetime)
        return bad(n + ".lifetime " + std::to_string(l.lifetime) + " exceeds the RFC 3711 §9.2 maximum of 2^48 packets");
    if (l.initial_srtcp_index > 0x7fffffffu)
        return bad(n + ".initial_srtcp_index " + std::to_string(l.initial_srtcp_index) +
                   " does not fit the 31-bit SRTCP index (RFC 3711 §3.4)");
    if (is_in && l.initial_srtcp_index != 0)
        return bad(n + ".initial_srtcp_index must be 0 (only a protect leg sends SRTCP indices)");
    if (l.mki_len > max_slot_mki_len)
        return bad(n + ".mki_len " + std::to_string(l.mki_len) + " exceeds " + std::to_string(max_slot_mki_len) +
                   " octets, the longest MKI a slot holds");
    if (!all_zero(l.mki, l.mki_len)) return bad(n + ".mki has non-zero bytes beyond mki_len");
    if ((l.flags & ~leg_flag::all) != 0)
        return bad(n + ".flags has unknown bits " + hex16(l.flags & ~leg_flag::all));
    if (t->aead() && (l.flags & leg_flag::unauthenticated_srtp) != 0)
        return bad(n + ": unauthenticated SRTP is not possible with AEAD suite " + std::string(t->name) +
                   " (RFC 7714 §8: the tag is part of the cipher)");
    if ((l.flags & leg_flag::header_ext) != 0 && !table_has_hdrext)
        return bad(n + ".flags has header_ext (RFC 6904) but this table was created without "
                       "header-extension records (sessions_options::header_ext_keys)");
    if (!all_zero(l.reserved)) return bad(n + ".reserved is not zero");
    if (auto r = check_keys(n + ".srtp", l.srtp, *t); !r) return r;
    if (auto r = check_keys(n + ".srtcp", l.srtcp, *t); !r) return r;
    return {};
}

engine::result<void> check_endpoint(const char* name, const endpoint& e) {
    if (e.port == 0 && !e.addr.is_unspecified())
        return bad(std::string(name) + " has an address but port 0");
    return {};
}

} // namespace

engine::result<void> validate(const slot_data& d, bool table_has_hdrext) {
    switch (d.state) {
    case slot_state::active:
    case slot_state::retiring: break;
    case slot_state::empty: return bad("state is empty: an installed slot is active or retiring");
    default: return bad("state " + std::to_string(static_cast<unsigned>(d.state)) + " is not a slot_state");
    }
    switch (d.action) {
    case leg_action::protect:
    case leg_action::unprotect:
    case leg_action::transcrypt:
    case leg_action::auth_only:
    case leg_action::tap: break;
    default: return bad("action " + std::to_string(static_cast<unsigned>(d.action)) + " is not a leg_action");
    }
    switch (d.key.proto) {
    case flow_proto::rtp:
    case flow_proto::rtcp:
    case flow_proto::mux: break;
    default:
        return bad("key.proto " + std::to_string(static_cast<unsigned>(d.key.proto)) +
                   " is not rtp (1), rtcp (2) or mux (3)");
    }
    if (d.key.port == 0) return bad("key.port is 0");
    if (d.key.reserved != 0 || d.reserved0 != 0 || d.reserved1 != 0) return bad("reserved bytes are not zero");
    if (auto r = check_endpoint("in_peer", d.in_peer); !r) return r;
    if (auto r = check_endpoint("out_local", d.out_local); !r) return r;
    if (auto r = check_endpoint("out_peer", d.out_peer); !r) return r;
    if (auto r = check_leg("in", d.in, in_leg_keyed(d.action), true, d.action, table_has_hdrext); !r) return r;
    if (auto r = check_leg("out", d.out, out_leg_keyed(d.action), false, d.action, table_has_hdrext); !r) return r;
    return {};
}

void store_keys(const engine::suite_traits& t, const engine::session_keys& in, key_material& out) noexcept {
    out = key_material{};
    std::copy_n(in.k_e.begin(), std::min<std::size_t>(t.master_key_len, out.k_e.size()), out.k_e.begin());
    std::copy_n(in.k_a.begin(), std::min<std::size_t>(t.auth_key_len, out.k_a.size()), out.k_a.begin());
    std::copy_n(in.k_s.begin(), std::min<std::size_t>(t.master_salt_len, out.k_s.size()), out.k_s.begin());
}

void load_keys(const key_material& in, engine::session_keys& out) noexcept {
    out.k_e = in.k_e;
    out.k_a = in.k_a;
    out.k_s = in.k_s;
}

void store_header_keys(const engine::suite_traits& t, const engine::session_keys& in, hdrext_leg& out) noexcept {
    out.k_he = {};
    out.k_hs = {};
    std::copy_n(in.k_he.begin(), std::min<std::size_t>(t.master_key_len, out.k_he.size()), out.k_he.begin());
    std::copy_n(in.k_hs.begin(), std::min<std::size_t>(t.master_salt_len, out.k_hs.size()), out.k_hs.begin());
}

void load_header_keys(const hdrext_leg& in, engine::session_keys& out) noexcept {
    out.k_he = in.k_he;
    out.k_hs = in.k_hs;
}

void wipe(slot_data& d) noexcept { engine::secure_zero(&d, sizeof d); }
void wipe(hdrext_record& r) noexcept { engine::secure_zero(&r, sizeof r); }

} // namespace srtpo::table
