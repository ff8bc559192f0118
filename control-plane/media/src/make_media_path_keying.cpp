#include <srtpo/cp/media/make_media_path_keying.hpp>

#include <srtpo/cp/media/dtls_srtp_keying.hpp>
#include <srtpo/cp/media/zrtp_keying.hpp>

namespace srtpo::cp::media {

api::api_result<std::unique_ptr<call::media_path_keying>>
make_media_path_keying(event_loop& loop, media_runtime& rt, call::keying_method method, const table::endpoint& local,
                       call::media_path_events events, std::string_view zrtp_stream_group) {
    switch (method) {
    case call::keying_method::dtls_srtp: {
        auto k = dtls_srtp_keying::create(loop, rt, local, std::move(events));
        if (!k) return k.err();
        return std::unique_ptr<call::media_path_keying>(std::move(*k));
    }
    case call::keying_method::zrtp: {
        auto k = zrtp_keying::create(loop, rt, local, std::move(events), zrtp_stream_group);
        if (!k) return k.err();
        return std::unique_ptr<call::media_path_keying>(std::move(*k));
    }
    default: break;
    }
    return api::make_api_error(api::api_errc::unsupported, "method",
                               "media-path keying is DTLS-SRTP or ZRTP; this method is keyed in the SDP");
}

} // namespace srtpo::cp::media
