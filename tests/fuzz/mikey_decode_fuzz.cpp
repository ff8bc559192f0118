// libFuzzer: the MIKEY decoder (RFC 3830 §6) on arbitrary bytes. Whatever decodes must encode,
// decode again to the same message, describe itself, and its KEMAC plaintext parser (and the
// RFC 4567 attribute parser on the same bytes as text) must fail cleanly.
#include <srtpo/cp/mikey/describe.hpp>
#include <srtpo/cp/mikey/key_mgmt.hpp>
#include <srtpo/cp/mikey/message.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

using namespace srtpo::cp::mikey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> in(data, size);
    (void)decode_kemac_plaintext(in, size > 0 && (data[0] & 1));
    (void)parse_key_mgmt(std::string_view(reinterpret_cast<const char*>(data), size));
    auto m = decode(in);
    if (!m) return 0;
    if (m->spans.size() != m->payloads.size()) __builtin_trap();
    for (const auto& s : m->spans)
        if (s.begin > s.end || s.end > size || s.auth_field > s.end) __builtin_trap();
    auto enc = encode(*m);
    if (!enc) __builtin_trap(); // a decoded message always fits the encoder's limits
    auto again = decode(*enc);
    if (!again || again->hdr != m->hdr || again->payloads.size() != m->payloads.size()) __builtin_trap();
    for (std::size_t i = 0; i < m->payloads.size(); ++i)
        if (!(again->payloads[i] == m->payloads[i])) __builtin_trap();
    (void)to_text(to_json(*m, true));
    (void)describe(base64_encode(in), describe_format::json);
    return 0;
}
