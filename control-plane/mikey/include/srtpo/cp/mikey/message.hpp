#pragma once
// A MIKEY message: HDR followed by a chain of payloads (RFC 3830 §6), and its codec. Decoding
// is strict: every length is checked against what is left, every enumerated value against the
// registry, and nothing may follow the last payload (or SIGN, which is always last).

#include <srtpo/cp/mikey/freshness.hpp>
#include <srtpo/cp/mikey/header.hpp>
#include <srtpo/cp/mikey/identity.hpp>
#include <srtpo/cp/mikey/key_transport.hpp>
#include <srtpo/cp/mikey/misc_payloads.hpp>
#include <srtpo/cp/mikey/policy.hpp>
#include <srtpo/engine/result.hpp>

#include <cstddef>
#include <span>
#include <variant>
#include <vector>

namespace srtpo::cp::mikey {

using payload = std::variant<kemac_payload, pke_payload, dh_payload, sign_payload, t_payload,
                             id_payload, idr_payload, cert_payload, chash_payload, v_payload,
                             sp_payload, rand_payload, err_payload, general_ext_payload>;

/// The payload type code of a payload value. Thread-safe, pure.
payload_type type_of(const payload& p) noexcept;

/// Where a decoded payload sits in the raw message; auth_field is the offset of its MAC,
/// Ver data or Signature field (KEMAC, V, SIGN), otherwise equal to end.
struct payload_span {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t auth_field = 0;
};

/// Upper bound of a message the decoder accepts (a MIKEY message rides in SDP or one UDP datagram).
inline constexpr std::size_t max_message_len = 65535;
/// Upper bound of payloads in one message, against a chain of empty payloads.
inline constexpr std::size_t max_payloads = 64;

struct message {
    header hdr;
    std::vector<payload> payloads;
    /// Filled by decode(): one entry per payload, same order. Empty for built messages.
    std::vector<payload_span> spans;

    /// First payload of type P, or nullptr. All payloads of P: all<P>().
    template <class P> const P* find() const noexcept {
        for (const auto& p : payloads)
            if (auto* x = std::get_if<P>(&p)) return x;
        return nullptr;
    }
    template <class P> std::vector<const P*> all() const {
        std::vector<const P*> r;
        for (const auto& p : payloads)
            if (auto* x = std::get_if<P>(&p)) r.push_back(x);
        return r;
    }
    /// Index of the first payload of type P, or payloads.size().
    template <class P> std::size_t index_of() const noexcept {
        for (std::size_t i = 0; i < payloads.size(); ++i)
            if (std::holds_alternative<P>(payloads[i])) return i;
        return payloads.size();
    }
};

/// Decodes one message. Thread-safe, pure; the result owns copies of everything.
/// Errors: errc::invalid_argument with a message naming the payload and field (truncated
/// field, length past the end, unknown data type / payload type / PRF / map type / algorithm,
/// RAND shorter than 128 bits, a MAC or DH value of the wrong length, trailing octets, more
/// than max_payloads); errc::unsupported for a version other than 1.
engine::result<message> decode(std::span<const uint8_t> in);

/// Encodes a message; next-payload fields follow the order of `payloads`. SIGN, if present,
/// must be last. Thread-safe, pure.
/// Errors (invalid_argument): a length that does not fit its field, a MAC / DH value whose
/// length does not match its algorithm / group, more than 255 crypto sessions.
engine::result<bytes> encode(const message& m);

} // namespace srtpo::cp::mikey
