#include <srtpo/cp/media/deadline_timer.hpp>

#include "event_loop.hpp"

namespace srtpo::cp::media {

void deadline_timer::arm(std::optional<time_point> when) {
    if (when && _when && *when == *_when && _id != 0) return;
    cancel();
    if (!when) return;
    _when = when;
    _id = _loop.at(*when, [this] {
        _id = 0;
        _when.reset();
        _fire();
    });
}

void deadline_timer::cancel() noexcept {
    if (_id != 0) _loop.cancel(_id);
    _id = 0;
    _when.reset();
}

} // namespace srtpo::cp::media
