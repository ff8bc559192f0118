#include <srtpo/cp/zrtp/error_message.hpp>

#include "wire.hpp"

#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

std::string_view describe(error_code c) noexcept {
    switch (c) {
    case error_code::malformed_packet: return "malformed packet (CRC OK, but wrong structure)";
    case error_code::critical_software_error: return "critical software error";
    case error_code::unsupported_version: return "unsupported ZRTP version";
    case error_code::hello_components_mismatch: return "Hello components mismatch";
    case error_code::unsupported_hash: return "hash type not supported";
    case error_code::unsupported_cipher: return "cipher type not supported";
    case error_code::unsupported_key_exchange: return "public key exchange not supported";
    case error_code::unsupported_auth_tag: return "SRTP auth tag not supported";
    case error_code::unsupported_sas: return "SAS rendering scheme not supported";
    case error_code::no_shared_secret: return "no shared secret available, DH mode required";
    case error_code::dh_bad_pv: return "DH error: bad pvi or pvr (== 1, 0, or p-1)";
    case error_code::dh_hvi_mismatch: return "DH error: hvi != hashed data";
    case error_code::untrusted_mitm: return "received relayed SAS from untrusted MiTM";
    case error_code::bad_confirm_mac: return "auth error: bad Confirm message MAC";
    case error_code::nonce_reuse: return "nonce reuse";
    case error_code::equal_zids: return "equal ZIDs in Hello";
    case error_code::ssrc_collision: return "SSRC collision";
    case error_code::service_unavailable: return "service unavailable";
    case error_code::protocol_timeout: return "protocol timeout error";
    case error_code::goclear_not_allowed: return "GoClear message received, but not allowed";
    }
    return "unknown error code";
}

std::vector<uint8_t> build_error(uint32_t code) {
    std::vector<uint8_t> m;
    put_message_header(m, message_type::error, 16);
    wire::put32(m, code);
    return m;
}

engine::result<uint32_t> parse_error(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::error || msg.size() != 16) return make_error(errc::invalid_argument, "zrtp Error: not 4 words");
    return wire::get32(msg, 12);
}

std::vector<uint8_t> build_ping(const ping& p) {
    std::vector<uint8_t> m;
    put_message_header(m, message_type::ping, 24);
    wire::put(m, p.version.data(), 4);
    wire::put(m, p.endpoint_hash);
    return m;
}

engine::result<ping> parse_ping(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::ping || msg.size() != 24) return make_error(errc::invalid_argument, "zrtp Ping: not 6 words");
    ping p;
    std::memcpy(p.version.data(), msg.data() + 12, 4);
    std::memcpy(p.endpoint_hash.data(), msg.data() + 16, 8);
    return p;
}

std::vector<uint8_t> build_ping_ack(const ping_ack& p) {
    std::vector<uint8_t> m;
    put_message_header(m, message_type::ping_ack, 36);
    wire::put(m, p.version.data(), 4);
    wire::put(m, p.sender_endpoint_hash);
    wire::put(m, p.received_endpoint_hash);
    wire::put32(m, p.received_ssrc);
    return m;
}

engine::result<ping_ack> parse_ping_ack(std::span<const uint8_t> msg) {
    auto t = parse_message_header(msg);
    if (!t) return t.err();
    if (*t != message_type::ping_ack || msg.size() != 36) return make_error(errc::invalid_argument, "zrtp PingACK: not 9 words");
    ping_ack p;
    std::memcpy(p.version.data(), msg.data() + 12, 4);
    std::memcpy(p.sender_endpoint_hash.data(), msg.data() + 16, 8);
    std::memcpy(p.received_endpoint_hash.data(), msg.data() + 24, 8);
    p.received_ssrc = wire::get32(msg, 32);
    return p;
}

} // namespace srtpo::cp::zrtp
