#pragma once
// STUN messages (RFC 8489 §5, §14; RFC 5389 before it): a bounds-checked parser that returns
// views into the datagram, and a builder that appends MESSAGE-INTEGRITY and FINGERPRINT. Only
// what an ICE-lite agent needs (RFC 8445 §2.5): Binding, short-term credentials, the ICE
// attributes of RFC 8445 §16.1.

#include <srtpo/engine/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::ice {

inline constexpr uint32_t magic_cookie = 0x2112A442;     ///< RFC 8489 §5
inline constexpr std::size_t header_len = 20;
inline constexpr std::size_t transaction_id_len = 12;
inline constexpr std::size_t max_attributes = 64;        ///< parse limit: bounds the work per datagram
inline constexpr uint32_t fingerprint_xor = 0x5354554e;  ///< "STUN", RFC 8489 §14.7

using transaction_id = std::array<std::byte, transaction_id_len>;

enum class stun_class : uint8_t { request = 0, indication = 1, success_response = 2, error_response = 3 };
inline constexpr uint16_t method_binding = 0x001;

/// Attribute types used here (RFC 8489 §18.3, RFC 8445 §16.1).
namespace attr {
inline constexpr uint16_t mapped_address = 0x0001;
inline constexpr uint16_t username = 0x0006;
inline constexpr uint16_t message_integrity = 0x0008;
inline constexpr uint16_t error_code = 0x0009;
inline constexpr uint16_t unknown_attributes = 0x000A;
inline constexpr uint16_t realm = 0x0014;
inline constexpr uint16_t nonce = 0x0015;
inline constexpr uint16_t message_integrity_sha256 = 0x001C;
inline constexpr uint16_t password_algorithm = 0x001D;
inline constexpr uint16_t userhash = 0x001E;
inline constexpr uint16_t xor_mapped_address = 0x0020;
inline constexpr uint16_t priority = 0x0024;
inline constexpr uint16_t use_candidate = 0x0025;
inline constexpr uint16_t software = 0x8022;
inline constexpr uint16_t fingerprint = 0x8028;
inline constexpr uint16_t ice_controlled = 0x8029;
inline constexpr uint16_t ice_controlling = 0x802A;
/// 0x0000..0x7FFF must be understood or the request is refused (RFC 8489 §15).
constexpr bool comprehension_required(uint16_t t) noexcept { return t < 0x8000; }
} // namespace attr

/// STUN message type = method and class interleaved (RFC 8489 §5, figure 3).
constexpr uint16_t message_type(uint16_t method, stun_class c) noexcept {
    const auto cl = static_cast<uint16_t>(c);
    return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                                 ((cl & 1) << 4) | ((cl & 2) << 7));
}
constexpr uint16_t method_of(uint16_t type) noexcept {
    return static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
constexpr stun_class class_of(uint16_t type) noexcept {
    return static_cast<stun_class>(((type >> 4) & 1) | ((type >> 7) & 2));
}

/// One attribute, viewing the datagram.
struct stun_attribute {
    uint16_t type = 0;
    std::span<const std::byte> value; ///< without padding
    std::size_t offset = 0;           ///< of the attribute header within the message
};

/// A parsed message. Views into the caller's buffer: valid while that buffer is.
struct stun_message {
    uint16_t type = 0;
    transaction_id tid{};
    std::vector<stun_attribute> attributes; ///< in order; those after MESSAGE-INTEGRITY other
                                            ///< than FINGERPRINT are dropped (RFC 8489 §14.5)
    std::span<const std::byte> raw;         ///< the whole message

    uint16_t method() const noexcept { return method_of(type); }
    stun_class cls() const noexcept { return class_of(type); }
    /// First attribute of a type, if any.
    const stun_attribute* find(uint16_t t) const noexcept;
};

/// True if the datagram looks like STUN: first two bits 0, length field = size - 20 and a
/// multiple of 4, magic cookie (RFC 8489 §6.3; the RFC 7983 first-byte test is weaker).
/// Thread-safe, pure.
bool looks_like_stun(std::span<const std::byte> d) noexcept;

/// Parses and bounds-checks a message. Errors (invalid_argument, message says which rule):
/// shorter than 20 octets, top bits set, bad length field, wrong magic cookie, an attribute
/// header or value (with padding) running past the end, more than max_attributes attributes,
/// an attribute after FINGERPRINT, a FINGERPRINT or MESSAGE-INTEGRITY of the wrong length.
/// Thread-safe, pure; never reads outside `d`.
engine::result<stun_message> parse_stun(std::span<const std::byte> d);

/// A transport address as carried in (XOR-)MAPPED-ADDRESS (RFC 8489 §14.1, §14.2).
struct transport_address {
    bool ipv6 = false;
    std::array<std::byte, 16> ip{}; ///< first 4 octets for IPv4, network order
    uint16_t port = 0;
    bool operator==(const transport_address&) const = default;
    /// From a textual IPv4/IPv6 literal. Errors: invalid_argument. Thread-safe.
    static engine::result<transport_address> from_string(std::string_view ip, uint16_t port);
    std::string ip_string() const;
};

/// Encodes the XOR-MAPPED-ADDRESS value (RFC 8489 §14.2): port xor the cookie's top 16 bits,
/// address xor the cookie (IPv4) or cookie || transaction id (IPv6). Thread-safe.
std::vector<std::byte> encode_xor_address(const transport_address& a, const transaction_id& tid);
/// Decodes it. Errors: invalid_argument for a bad family or length. Thread-safe, pure.
engine::result<transport_address> decode_xor_address(std::span<const std::byte> value, const transaction_id& tid);

/// Builds one message. Attributes are padded with zero octets to 4 (RFC 8489 §14).
/// Thread-safety: a value type; one owner.
class stun_builder {
public:
    stun_builder(uint16_t type, const transaction_id& tid);
    stun_builder& add(uint16_t type, std::span<const std::byte> value);
    stun_builder& add(uint16_t type, std::string_view value);
    stun_builder& add_u32(uint16_t type, uint32_t v);
    stun_builder& add_u64(uint16_t type, uint64_t v);
    stun_builder& add_xor_mapped_address(const transport_address& a);
    /// ERROR-CODE (RFC 8489 §14.8): code 300..699 and a reason phrase.
    stun_builder& add_error_code(uint16_t code, std::string_view reason);
    /// Appends MESSAGE-INTEGRITY with HMAC-SHA1 under `key` (short-term: the password, RFC
    /// 8489 §9.1.1) if given, then FINGERPRINT if asked, and returns the message.
    /// Errors: backend_failure if OpenSSL's HMAC fails.
    engine::result<std::vector<std::byte>> finish(std::optional<std::span<const std::byte>> integrity_key,
                                                  bool fingerprint);

private:
    std::vector<std::byte> _m;
};

} // namespace srtpo::cp::ice
