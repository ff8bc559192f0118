// libFuzzer: the SDP parser (RFC 8866) and the media-anchor rewrite. Accepted input must
// serialize to text that parses again and serializes identically (the B2BUA's output is
// stable), and anchoring every media section must leave a parseable SDP with no a=crypto line.
#include <srtpo/cp/sdp/media_rewrite.hpp>

#include <cstdlib>
#include <string_view>

using namespace srtpo::cp::sdp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto sd = parse(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!sd) return 0;
    const std::string out = serialize(*sd);
    auto again = parse(out);
    if (!again || serialize(*again) != out) std::abort();
    for (std::size_t i = 0; i < sd->media.size(); ++i) {
        (void)effective_connection(*sd, i);
        const anchor_endpoint ep{.addrtype = "IP4", .address = "192.0.2.1", .rtp_port = 40000,
                                 .rtcp_port = std::nullopt, .rtcp_mux = (i % 2) == 0};
        (void)anchor_media(*sd, i, ep, sd->media[i].is_rtp() ? profile::savp : profile::keep);
    }
    (void)anchor_session(*sd, "IP4", "192.0.2.1", 2);
    const std::string anchored = serialize(*sd);
    if (!parse(anchored) || anchored.find("\na=crypto:") != std::string::npos) std::abort();
    return 0;
}
