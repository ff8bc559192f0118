// libFuzzer target for the STUN parser and the ICE-lite responder: any input is parsed, its
// integrity and fingerprint checked, its XOR-MAPPED-ADDRESS decoded, and it is handed to an
// agent as a request. A success response must only ever come from a request that verifies.
// Each input is tried three ways so that the fuzzer reaches past the header checks: as is;
// with a valid header (top bits, length, magic cookie); and with a valid header plus a correct
// MESSAGE-INTEGRITY and FINGERPRINT appended, which exercises the authenticated paths.

#include <srtpo/cp/ice/ice_lite_agent.hpp>
#include <srtpo/cp/ice/stun_integrity.hpp>
#include <srtpo/cp/ice/stun_message.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace ci = srtpo::cp::ice;
static const std::string pwd = "VOkJxbRl1RmTxUk/WvJxBt";

static void one(std::span<const std::byte> d) {
    static const ci::ice_lite_agent agent({"evtj", pwd}, std::nullopt, 0);
    static const auto src = ci::transport_address::from_string("192.0.2.1", 32853).value();
    const std::size_t size = d.size();
    const auto key = std::as_bytes(std::span<const char>(pwd.data(), pwd.size()));

    auto m = ci::parse_stun(d);
    if (m) {
        for (const auto& a : m->attributes) {
            if (a.offset < ci::header_len || a.offset + 4 + a.value.size() > size) std::abort();
            if (a.value.data() < d.data() || a.value.data() + a.value.size() > d.data() + size) std::abort();
        }
        (void)ci::check_fingerprint(*m);
        (void)ci::check_message_integrity(*m, key);
        if (const auto* x = m->find(ci::attr::xor_mapped_address)) (void)ci::decode_xor_address(x->value, m->tid);
    }
    const auto r = agent.handle(d, src);
    if (r.k == ci::binding_result::kind::success) {
        if (!m || ci::check_message_integrity(*m, key) != ci::integrity_status::ok) std::abort();
        auto resp = ci::parse_stun(r.response);
        if (!resp || ci::check_fingerprint(*resp) != ci::integrity_status::ok) std::abort();
    }
    if ((r.k == ci::binding_result::kind::success || r.k == ci::binding_result::kind::error) && r.response.empty())
        std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> raw(reinterpret_cast<const std::byte*>(data), size);
    one(raw);
    if (size < ci::header_len) return 0;
    std::vector<std::byte> m(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(size - (size - ci::header_len) % 4));
    m[0] &= std::byte{0x01}; // request or indication class bits vary through the rest of the type
    const auto len = static_cast<uint16_t>(m.size() - ci::header_len);
    m[2] = static_cast<std::byte>(len >> 8);
    m[3] = static_cast<std::byte>(len & 0xff);
    for (int i = 0; i < 4; ++i) m[4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(ci::magic_cookie >> (24 - 8 * i));
    one(m);
    // Append MESSAGE-INTEGRITY and FINGERPRINT over the (possibly malformed) attributes.
    const std::size_t mi_at = m.size();
    m.resize(mi_at + 24 + 8);
    const auto total = static_cast<uint16_t>(m.size() - ci::header_len);
    const auto mi_len = static_cast<uint16_t>(mi_at + 24 - ci::header_len);
    m[2] = static_cast<std::byte>(mi_len >> 8);
    m[3] = static_cast<std::byte>(mi_len & 0xff);
    m[mi_at] = std::byte{0x00};
    m[mi_at + 1] = std::byte{0x08};
    m[mi_at + 2] = std::byte{0x00};
    m[mi_at + 3] = std::byte{20};
    const auto key = std::as_bytes(std::span<const char>(pwd.data(), pwd.size()));
    auto mac = ci::compute_message_integrity(m, mi_at, key);
    if (!mac) std::abort();
    std::copy(mac->begin(), mac->end(), m.begin() + static_cast<std::ptrdiff_t>(mi_at + 4));
    m[2] = static_cast<std::byte>(total >> 8);
    m[3] = static_cast<std::byte>(total & 0xff);
    const std::size_t fp_at = mi_at + 24;
    m[fp_at] = std::byte{0x80};
    m[fp_at + 1] = std::byte{0x28};
    m[fp_at + 2] = std::byte{0x00};
    m[fp_at + 3] = std::byte{4};
    const uint32_t crc = ci::crc32(std::span<const std::byte>(m.data(), fp_at)) ^ ci::fingerprint_xor;
    for (int i = 0; i < 4; ++i) m[fp_at + 4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(crc >> (24 - 8 * i));
    one(m);
    return 0;
}
