#pragma once
// Running srtpo-pmd from a test: offline over a capture, or live over a FIFO the test feeds frame
// by frame while it changes the session table. Shared by the pmd test programs.

#include "../common/capture_oracle.hpp"

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace srtpo::test {

/// EAL's runtime directory for a --file-prefix (/var/run/dpdk/<prefix> as root).
std::string dpdk_runtime_dir(const std::string& prefix);

/// srtpo-pmd and the EAL arguments every test run uses (one lcore unless `lcores` says otherwise,
/// no hugepages, no PCI, a unique file prefix), ready for --vdev arguments.
std::string pmd_command_prefix(const std::string& file_prefix, const std::string& lcores = "-l 0");
/// A unique EAL file prefix for this process.
std::string unique_prefix(const char* what);

struct pmd_result {
    int code = -1;
    std::string out;
    nlohmann::json stats; ///< the --json line, or null
};

/// Runs srtpo-pmd over IN -> OUT on a net_pcap vdev with `args` after "--" (plus
/// --exit-after-idle 200 --json), with a 60 s timeout.
pmd_result run_pmd_args(const std::string& in, const std::string& out, const std::string& args, const std::string& eal_extra = "");

/// Runs srtpo-pmd with EAL arguments `eal` (vdevs, lcores) and `args` after "--" (plus
/// --exit-after-idle 200 --json), with a 60 s timeout.
pmd_result run_pmd_eal(const std::string& eal, const std::string& args, const std::string& lcores = "-l 0");

/// Writes frames as an Ethernet pcap, 1 µs apart.
void write_frames(const std::string& path, const frame_list& fs);

std::vector<uint8_t> random_key(std::size_t n, uint32_t seed);

/// srtpo-pmd reading its net_pcap rx from a FIFO: every fed frame is processed at once (the pmd
/// runs with --burst 1, so an rx burst never waits for a second frame). Closing the FIFO ends the
/// input; the pmd then stops after its idle timeout.
class live_pmd {
public:
    live_pmd() = default;
    ~live_pmd();
    live_pmd(const live_pmd&) = delete;
    live_pmd& operator=(const live_pmd&) = delete;

    /// Starts the pmd (args after "--", e.g. "--table NAME") and opens the FIFO. False (and a
    /// test failure) if the pmd did not open its end within 10 s.
    bool start(const std::string& dir, const std::string& out_pcap, const std::string& args);
    void feed(std::span<const std::byte> frame);
    /// Closes the input and waits (≤ 20 s) for the pmd to exit.
    pmd_result finish();
    /// kill -9, as a crash would.
    void kill9();
    pid_t pid() const { return _pid; }

private:
    void cleanup();
    std::string _fifo, _log, _prefix;
    pid_t _pid = -1;
    FILE* _w = nullptr;
    uint32_t _t = 0;
};

/// libsrtp sender (AES_CM_128_HMAC_SHA1_80) with two master keys under one-octet MKIs 1 and 2
/// (RFC 3711 §3.3): a capture can switch keys mid-stream the way a rekeyed sender does, with one
/// continuous ROC.
class mki_sender {
public:
    mki_sender(const std::vector<uint8_t>& key1, const std::vector<uint8_t>& key2);
    ~mki_sender();
    mki_sender(const mki_sender&) = delete;
    mki_sender& operator=(const mki_sender&) = delete;
    /// Protects the RTP payload of an Ethernet frame with key 0 (MKI 1) or 1 (MKI 2).
    std::vector<std::byte> protect(const std::vector<std::byte>& plain_frame, unsigned key_index);

private:
    srtp_t _ctx = nullptr;
    std::vector<uint8_t> _k1, _k2;
    uint8_t _id1 = 1, _id2 = 2;
};

} // namespace srtpo::test
