// Media-anchor rewrite of an SDP (RFC 8866 §5.7, §5.14; RFC 3605; RFC 5761 §5.1; RFC 3264 §6).

#include <srtpo/cp/sdp/media_rewrite.hpp>

#include <algorithm>

namespace srtpo::cp::sdp {
namespace {

error bad(std::string msg) { return engine::make_error(errc::invalid_argument, std::move(msg)); }

// RTP/AVP <-> RTP/SAVP, RTP/AVPF <-> RTP/SAVPF. A DTLS-SRTP profile (UDP/TLS/RTP/SAVP[F],
// RFC 5764 §8) becomes the SDES or plain one: the anchor terminates that leg's keying.
std::string switch_profile(std::string_view proto, profile p) {
    const bool feedback = proto.ends_with("AVPF");
    if (p == profile::savp) return feedback ? "RTP/SAVPF" : "RTP/SAVP";
    return feedback ? "RTP/AVPF" : "RTP/AVP";
}

} // namespace

result<void> anchor_media(session_description& sd, std::size_t index, const anchor_endpoint& ep, profile p) {
    if (index >= sd.media.size()) return bad("media index out of range");
    if (ep.addrtype != "IP4" && ep.addrtype != "IP6") return bad("anchor address type is not IP4 or IP6");
    if (ep.address.empty()) return bad("anchor address is empty");
    auto& m = sd.media[index];
    if (p != profile::keep) {
        if (!m.is_rtp()) return bad("profile switch asked for a non-RTP media section");
        m.proto = switch_profile(m.proto, p);
    }
    // A key is never forwarded from one leg to the other (issue 6): the SDES layer adds this
    // leg's own a=crypto after the rewrite.
    m.remove_attributes("crypto");
    if (m.port != 0) m.port = ep.rtp_port; // port 0 = rejected/disabled stream (RFC 3264 §6), kept
    m.port_count.reset();

    const std::string c = "IN " + ep.addrtype + " " + ep.address;
    auto cit = std::find_if(m.lines.begin(), m.lines.end(), [](const line& l) { return l.type == 'c'; });
    if (cit != m.lines.end()) {
        cit->value = c;
        // Several c= lines (multicast layering) make no sense for an anchored unicast stream.
        m.lines.erase(std::remove_if(std::next(cit), m.lines.end(), [](const line& l) { return l.type == 'c'; }),
                      m.lines.end());
    } else {
        // RFC 8866 §5 order inside a media section: i= then c= then b=, k=, a=.
        auto at = std::find_if(m.lines.begin(), m.lines.end(), [](const line& l) { return l.type != 'i'; });
        m.lines.insert(at, line{'c', c});
    }

    // RFC 3605: a=rtcp names the RTCP port when it is not rtp+1; with mux it equals the RTP
    // port (RFC 5761 §5.1.3). Written only where the peer used it, so legacy peers see no change.
    const uint16_t rtcp = ep.rtcp_mux ? ep.rtp_port
                                      : ep.rtcp_port.value_or(static_cast<uint16_t>(ep.rtp_port + 1));
    for (auto& l : m.lines) {
        if (l.type != 'a' || !(l.value.starts_with("rtcp:"))) continue;
        const bool had_addr = l.value.find(' ') != std::string::npos;
        l.value = "rtcp:" + std::to_string(rtcp);
        if (had_addr) l.value += " " + c;
    }
    const bool has_mux = m.attribute("rtcp-mux").has_value();
    if (ep.rtcp_mux && !has_mux) m.add_attribute("rtcp-mux");
    if (!ep.rtcp_mux && has_mux) m.remove_attributes("rtcp-mux");
    return {};
}

result<void> anchor_session(session_description& sd, std::string_view addrtype, std::string_view address,
                            std::optional<uint64_t> sess_version) {
    if (addrtype != "IP4" && addrtype != "IP6") return bad("anchor address type is not IP4 or IP6");
    // a=crypto is media-level only (RFC 4568 §9.1), but a peer may still put one at session
    // level: it must not reach the other leg either (found by sdp_fuzz).
    std::erase_if(sd.session, [](const line& l) { return l.type == 'a' && l.value.starts_with("crypto:"); });
    for (auto& l : sd.session) {
        if (l.type == 'c') {
            l.value = "IN " + std::string(addrtype) + " " + std::string(address);
        } else if (l.type == 'o') {
            // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
            std::vector<std::string> f;
            std::size_t i = 0;
            while (i <= l.value.size()) {
                auto j = l.value.find(' ', i);
                if (j == std::string::npos) j = l.value.size();
                f.emplace_back(l.value.substr(i, j - i));
                i = j + 1;
            }
            if (f.size() != 6) return bad("o= does not have six fields");
            if (sess_version) f[2] = std::to_string(*sess_version);
            f[4] = std::string(addrtype);
            f[5] = std::string(address);
            l.value = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + f[4] + " " + f[5];
        }
    }
    return {};
}

} // namespace srtpo::cp::sdp
