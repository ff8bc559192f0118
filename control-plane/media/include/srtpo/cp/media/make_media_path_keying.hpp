#pragma once
// The call engine's hook: one media_path_keying for a leg whose method is keyed on the media
// path (DTLS-SRTP or ZRTP), on a media port bound to `local`.

#include <srtpo/cp/call/media_path_keying.hpp>

#include <memory>
#include <string_view>

namespace srtpo::cp {
class event_loop;
}

namespace srtpo::cp::media {

class media_runtime;

/// Makes a dtls_srtp_keying (keying_method::dtls_srtp) or a zrtp_keying (keying_method::zrtp)
/// bound to `local`. `zrtp_stream_group` (ZRTP only) names the streams of one leg of one call,
/// e.g. "<call-id>/a", so that its further streams use Multistream mode.
/// Errors: api_errc::unsupported for another method; those of the keyers' create().
/// Thread-safety: event loop thread. Ownership: the caller owns the keyer; `loop` and `rt` must
/// outlive it.
api::api_result<std::unique_ptr<call::media_path_keying>>
make_media_path_keying(event_loop& loop, media_runtime& rt, call::keying_method method, const table::endpoint& local,
                       call::media_path_events events, std::string_view zrtp_stream_group = {});

} // namespace srtpo::cp::media
