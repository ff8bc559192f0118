#pragma once
// Test fixture of the 'media' suite: a real srtpo-cp event_loop in the test process, a
// media_runtime whose certificate and ZID cache live in a temp dir, SDP bodies as a peer would
// send them, and a recorder of on_keyed / on_failed. The peers are real third-party processes
// (openssl, gnutls, pion, bzrtp, a Python STUN client) started by the tests. Ports 32000..32999.

#include <srtpo/cp/call/media_path_keying.hpp>
#include <srtpo/cp/media/media_runtime.hpp>
#include <srtpo/cp/sdp/session_description.hpp>

#include "event_loop.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace srtpo::test::media {

namespace cm = srtpo::cp::media;

/// What a keyer reported.
struct recorder {
    struct keyed {
        cp::srtp_keying keying;
        table::endpoint peer;
    };
    std::vector<keyed> keys;
    std::vector<std::string> failures;
    cp::call::media_path_events events() {
        return {[this](const cp::srtp_keying& k, const table::endpoint& p) { keys.push_back({k, p}); },
                [this](const std::string& why) { failures.push_back(why); }};
    }
};

/// Runs `loop` until `done()` or `limit`; returns done(). Checks every 5 ms.
bool run_until(cp::event_loop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit);

/// A loop with no signals, and a runtime with its files under `dir`.
cp::event_loop make_loop();
cm::media_config config_in(const std::filesystem::path& dir);
std::unique_ptr<cm::media_runtime> make_runtime(const cm::media_config& cfg);

/// 127.0.0.1:port.
table::endpoint loopback(uint16_t port);

/// A peer's SDP with one audio section at 127.0.0.1:`port` and the given media-level a= lines
/// ("fingerprint:sha-256 AB:..", "setup:active", ...). Parsed; throws on a bad body.
cp::sdp::session_description peer_sdp(uint16_t port, const std::vector<std::string>& attrs,
                                      const std::string& proto = "UDP/TLS/RTP/SAVP");

/// Value of the (first) local attribute `name`, or "" .
std::string local_attr(const cp::call::media_path_keying& k, const std::string& name);

/// Lower-case hex.
std::string hex(std::span<const std::byte> b);

} // namespace srtpo::test::media
