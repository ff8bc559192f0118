#pragma once
// Shared by the tests that run a whole program over captures (srtpo-pcap, srtpo-pmd) and check
// its output with libsrtp 2.5 — an independent implementation — frame by frame.

#include <srtpo/engine/suite.hpp>

#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace srtpo::test {

/// A temporary directory removed with everything in it when the object dies.
struct tmpdir {
    std::filesystem::path p;
    explicit tmpdir(const char* prefix = "srtpo-test");
    ~tmpdir();
    std::string operator/(const char* name) const { return (p / name).string(); }
};

/// Calls srtp_init() once for the test program (a GoogleTest global environment).
void register_libsrtp_environment();

/// Sets libsrtp's RTP and RTCP crypto policies for a suite (the _32 suites keep an 80-bit SRTCP
/// tag). Supported: AES_CM_128_HMAC_SHA1_80/_32, AEAD_AES_128/256_GCM; others fail the test.
void libsrtp_set_policy(srtp_policy_t& pol, engine::suite s);

/// libsrtp protect (ssrc_any_outbound) or unprotect (ssrc_any_inbound, window 1024) of every
/// RTP/RTCP frame of a capture, with UDP/IP lengths and checksums fixed; frames libsrtp refuses
/// are left out. Supported suites: AES_CM_128_HMAC_SHA1_80/_32, AEAD_AES_128/256_GCM.
/// Returns how many packets libsrtp accepted.
std::size_t libsrtp_pass(const std::string& in, const std::string& out, engine::suite s, const std::vector<uint8_t>& key,
                         bool protect);

using frame_list = std::vector<std::vector<std::byte>>;
/// Every record of a capture, in order.
frame_list capture_frames(const std::string& path);

/// base64 of a key‖salt, as an SDES inline: parameter.
std::string sdes_inline(const std::vector<uint8_t>& key_salt);

struct command_result {
    int code = -1;      ///< exit status, or -1 when killed by a signal
    std::string out;    ///< stdout and stderr
};
/// Runs a shell command line and collects its output.
command_result run_command(const std::string& cmd);

} // namespace srtpo::test
