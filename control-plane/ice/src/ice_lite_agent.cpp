#include <srtpo/cp/ice/ice_lite_agent.hpp>
#include <srtpo/cp/ice/stun_integrity.hpp>

#include <algorithm>

namespace srtpo::cp::ice {
namespace {

std::span<const std::byte> as_key(const std::string& pwd) {
    // Short-term credential key = the password (RFC 8489 §9.1.1). ice-chars are ASCII, which
    // OpaqueString (RFC 8265) leaves unchanged, so no SASLprep step is needed.
    return std::as_bytes(std::span<const char>(pwd.data(), pwd.size()));
}

bool known(uint16_t t) noexcept {
    switch (t) {
    case attr::mapped_address: case attr::username: case attr::message_integrity: case attr::error_code:
    case attr::unknown_attributes: case attr::realm: case attr::nonce: case attr::message_integrity_sha256:
    case attr::password_algorithm: case attr::userhash: case attr::xor_mapped_address: case attr::priority:
    case attr::use_candidate:
        return true;
    default:
        return false;
    }
}

uint64_t be64(std::span<const std::byte> v) noexcept {
    uint64_t x = 0;
    for (auto b : v) x = x << 8 | static_cast<uint8_t>(b);
    return x;
}

} // namespace

binding_result ice_lite_agent::error(const stun_message& req, uint16_t code, std::string reason, bool with_integrity,
                                     const std::vector<uint16_t>& unknown) const {
    binding_result r;
    r.k = binding_result::kind::error;
    r.error_code = code;
    stun_builder b(message_type(req.method(), stun_class::error_response), req.tid);
    b.add_error_code(code, reason);
    if (!unknown.empty()) {
        std::vector<std::byte> list;
        for (auto t : unknown) {
            list.push_back(static_cast<std::byte>(t >> 8));
            list.push_back(static_cast<std::byte>(t & 0xff));
        }
        b.add(attr::unknown_attributes, list);
    }
    // Responses to unauthenticated requests carry no MESSAGE-INTEGRITY (RFC 8489 §9.1.3).
    auto msg = with_integrity ? b.finish(as_key(_local.pwd), true) : b.finish(std::nullopt, true);
    if (msg) r.response = std::move(*msg);
    r.reason = std::move(reason);
    return r;
}

binding_result ice_lite_agent::handle(std::span<const std::byte> datagram, const transport_address& source) const {
    binding_result r;
    if (!looks_like_stun(datagram)) {
        r.reason = "not STUN";
        return r;
    }
    auto parsed = parse_stun(datagram);
    if (!parsed) {
        r.k = binding_result::kind::ignored;
        r.reason = parsed.err().message;
        return r;
    }
    const stun_message& m = *parsed;
    // A bad FINGERPRINT means the datagram is not STUN after all (RFC 8489 §7.3): drop silently.
    if (check_fingerprint(m) == integrity_status::mismatch) {
        r.k = binding_result::kind::ignored;
        r.reason = "bad FINGERPRINT";
        return r;
    }
    if (m.cls() != stun_class::request) {
        r.k = binding_result::kind::ignored;
        r.reason = m.cls() == stun_class::indication ? "indication (keepalive)" : "response: a lite agent sends no requests";
        return r;
    }
    if (m.method() != method_binding) return error(m, 400, "only Binding is supported", false);

    // RFC 8489 §9.1.3, short-term credentials.
    const auto* user = m.find(attr::username);
    const auto* mi = m.find(attr::message_integrity);
    if (!user || !mi) return error(m, 400, "Binding request without USERNAME and MESSAGE-INTEGRITY", false);
    const std::string_view username(reinterpret_cast<const char*>(user->value.data()), user->value.size());
    const auto colon = username.find(':');
    // RFC 8445 §7.2.2: USERNAME = <receiver's ufrag>:<sender's ufrag>
    if (colon == std::string_view::npos || username.substr(0, colon) != _local.ufrag || colon + 1 == username.size() ||
        (_remote && username.substr(colon + 1) != _remote->ufrag))
        return error(m, 401, "USERNAME does not name our ufrag and the peer's", false);
    if (check_message_integrity(m, as_key(_local.pwd)) != integrity_status::ok)
        return error(m, 401, "MESSAGE-INTEGRITY does not verify", false);

    // Authenticated from here on: error responses carry MESSAGE-INTEGRITY too.
    std::vector<uint16_t> unknown;
    for (const auto& a : m.attributes)
        if (attr::comprehension_required(a.type) && !known(a.type) &&
            std::find(unknown.begin(), unknown.end(), a.type) == unknown.end())
            unknown.push_back(a.type);
    if (!unknown.empty()) return error(m, 420, "unknown comprehension-required attribute", true, unknown);

    // RFC 8445 §7.3.1.1: we are controlled; a peer that also claims to be controlled loses
    // if its tie-breaker is not larger than ours.
    if (const auto* c = m.find(attr::ice_controlled); c && c->value.size() == 8 && _tie_breaker >= be64(c->value))
        return error(m, 487, "role conflict: both agents controlled", true);

    if (const auto* p = m.find(attr::priority); p && p->value.size() == 4) r.priority = static_cast<uint32_t>(be64(p->value));
    r.use_candidate = m.find(attr::use_candidate) != nullptr;

    stun_builder b(message_type(method_binding, stun_class::success_response), m.tid);
    b.add_xor_mapped_address(source);
    auto msg = b.finish(as_key(_local.pwd), true);
    if (!msg) {
        r.k = binding_result::kind::ignored;
        r.reason = msg.err().message;
        return r;
    }
    r.k = binding_result::kind::success;
    r.response = std::move(*msg);
    r.reason = "ok";
    return r;
}

} // namespace srtpo::cp::ice
