#pragma once
// Helpers of the end-to-end call tests that drive srtpo-cp with keying-ctl (tests/pmd/call_e2e,
// tests/bridge): environment paths, shm clean-up, SDP files and the SDES key in an SDP.
// Header-only, test code; thread-safety: single test thread.

#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sdp/session_description.hpp>
#include <srtpo/engine/suite.hpp>
#include <srtpo/table/mapping.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace srtpo::test::call {

/// $name, or `dflt` when unset (the binaries meson passes in: SRTPO_CP, SRTPO_KEYING_CTL, ...).
inline std::string env_or(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v ? v : dflt;
}

/// Unlinks a session table and its status region when the test ends.
struct shm_cleanup {
    std::string t;
    ~shm_cleanup() {
        (void)table::unlink_shm(t);
        (void)table::unlink_shm(t + ".status");
    }
};

inline void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

/// A file keying-ctl wrote an SDP to; run_command also sends stderr there (notes come first).
inline std::string read_sdp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::string s{std::istreambuf_iterator<char>(f), {}};
    const auto v = s.find("v=0");
    return v == std::string::npos ? s : s.substr(v);
}

/// The key (key||salt) and suite of the single a=crypto of the first m= line, and its port.
struct sdp_key {
    engine::suite suite{};
    std::vector<uint8_t> key;
    uint16_t port = 0;
};
inline sdp_key key_of(const std::string& body) {
    sdp_key k;
    auto sd = cp::sdp::parse(body);
    EXPECT_TRUE(sd) << body;
    if (!sd) return k;
    k.port = sd->media.at(0).port;
    auto a = cp::sdes::crypto_attributes(sd->media.at(0));
    EXPECT_TRUE(a && a->size() == 1) << body;
    if (!a || a->size() != 1) return k;
    k.suite = *a->front().suite;
    for (auto x : a->front().keys.at(0).key_salt.bytes()) k.key.push_back(static_cast<uint8_t>(x));
    return k;
}

} // namespace srtpo::test::call
