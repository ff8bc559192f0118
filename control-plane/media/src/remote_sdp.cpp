#include <srtpo/cp/media/remote_sdp.hpp>

#include <srtpo/cp/media/address.hpp>
#include <srtpo/cp/sdp/session_description.hpp>

namespace srtpo::cp::media {

std::vector<std::string> attribute_values(const sdp::session_description& sd, std::size_t m, std::string_view name) {
    std::vector<std::string> out;
    if (m < sd.media.size())
        for (auto v : sd.media[m].attributes(name)) out.emplace_back(v);
    if (!out.empty()) return out;
    sdp::media_description session; // the session section's lines, read with the same helper
    session.lines = sd.session;
    for (auto v : session.attributes(name)) out.emplace_back(v);
    return out;
}

std::optional<std::string> attribute_value(const sdp::session_description& sd, std::size_t m, std::string_view name) {
    auto v = attribute_values(sd, m, name);
    if (v.empty()) return std::nullopt;
    return std::move(v.front());
}

std::optional<table::endpoint> signalled_address(const sdp::session_description& sd, std::size_t m) {
    if (m >= sd.media.size() || sd.media[m].port == 0) return std::nullopt;
    const auto c = sdp::effective_connection(sd, m);
    if (!c) return std::nullopt;
    auto e = parse_endpoint(c->address, sd.media[m].port);
    if (!e || e->addr.is_unspecified() || (e->addr.is_v4() && e->addr.octets[12] == 0 && e->addr.octets[13] == 0 &&
                                          e->addr.octets[14] == 0 && e->addr.octets[15] == 0))
        return std::nullopt;
    return *e;
}

api::api_status check_media_index(const sdp::session_description& sd, std::size_t m) {
    if (m >= sd.media.size())
        return api::make_api_error(api::api_errc::invalid_argument, "sdp",
                                   "media section " + std::to_string(m) + " does not exist (the SDP has " +
                                       std::to_string(sd.media.size()) + ")");
    return api::ok();
}

} // namespace srtpo::cp::media
