// libFuzzer: the TCP/TLS stream framer (RFC 3261 §18.3). The first byte picks a chunk size, the
// rest is fed in chunks of that size, as recv() would deliver it. Every frame returned must be a
// whole message whose header section and body respect the limits, and the bytes framed plus the
// bytes still buffered never exceed what was fed.
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/stream_framer.hpp>

#include <cstdlib>
#include <string_view>

using namespace srtpo::cp::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = std::size_t{data[0]} + 1;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    framer_limits lim{.max_header = 2048, .max_body = 1024, .max_buffered = 4096};
    stream_framer f(lim);
    std::size_t fed = 0, framed = 0;
    while (!in.empty()) {
        auto part = in.substr(0, chunk);
        in.remove_prefix(part.size());
        if (!f.feed(part)) return 0;
        fed += part.size();
        while (true) {
            auto fr = f.next();
            if (!fr) {
                if (!f.failed()) std::abort();
                return 0;
            }
            if (fr->what == frame::kind::none) break;
            if (fr->what == frame::kind::ping) {
                framed += 4;
                continue;
            }
            framed += fr->bytes.size();
            const auto hdr = fr->bytes.find("\r\n\r\n");
            if (hdr == std::string::npos || hdr + 4 > lim.max_header) std::abort();
            if (fr->bytes.size() - hdr - 4 > lim.max_body) std::abort();
            (void)parse_message(fr->bytes, transport_kind::stream);
        }
        if (framed + f.buffered() > fed) std::abort();
    }
    return 0;
}
