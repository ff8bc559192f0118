// libFuzzer: the SIP message parser (RFC 3261 §7) on arbitrary bytes, as datagram and stream.
// Besides not crashing: anything accepted must serialize to bytes that parse again (stream
// framing) with the same start line, header count and body, since a B2BUA forwards what it
// parsed; and the typed views of the headers the B2BUA reads must not crash either.
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>

#include <cstdlib>
#include <string_view>

using namespace srtpo::cp::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (auto kind : {transport_kind::datagram, transport_kind::stream}) {
        auto m = parse_message(in, kind);
        if (!m) {
            if (m.err().message.empty()) std::abort();
            (void)make_error_response_for_unparseable(in, m.err(), "t");
            continue;
        }
        const std::string wire = serialize(*m);
        auto again = parse_message(wire, transport_kind::stream);
        if (!again) std::abort();
        if (again->method != m->method || again->request_uri != m->request_uri ||
            again->status_code != m->status_code || again->body != m->body)
            std::abort();
        for (const char* h : {"Via", "Route", "Record-Route", "Contact"})
            for (auto v : m->header_values(h)) {
                if (std::string_view(h) == "Via") {
                    auto via_v = parse_via(v);
                    if (via_v && !parse_via(to_string(*via_v))) std::abort();
                } else {
                    auto na = parse_name_addr(v);
                    if (na) (void)parse_sip_uri(na->uri);
                }
            }
        if (m->is_request()) (void)serialize(make_response(*m, 200, "tag"));
    }
    return 0;
}
