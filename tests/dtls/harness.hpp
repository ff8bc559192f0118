#pragma once
// Test harness for DTLS interop with real peers (private to tests/dtls): a temp dir, a child
// process run under `timeout` and stopped by PID, a UDP pump that drives a sans-I/O
// endpoint over a loopback socket, and parsers for what the peers print.

#include <srtpo/cp/dtls/endpoint.hpp>
#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/session.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/types.h>

namespace srtpo::test::dtls {

namespace cd = srtpo::cp::dtls;
using bytes = std::vector<std::byte>;

/// A fresh directory under $TMPDIR, removed with its files on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return _p; }
    std::filesystem::path operator/(const std::string& f) const { return _p / f; }

private:
    std::filesystem::path _p;
};

/// True if `prog` is an executable on PATH.
bool have_program(const std::string& prog);

/// Runs argv to completion (under `timeout 20`), returns stdout+stderr; exit status in *rc.
std::string run_capture(const std::vector<std::string>& argv, int* rc = nullptr);

/// A child process: argv is prefixed with `timeout <secs>`; stdout and stderr go to `log`.
/// stdin is /dev/null, or a pipe we hold open (keep_stdin) so servers do not see EOF.
/// Destruction stops it (SIGTERM to its PID, then SIGKILL) and reaps it.
class peer_process {
public:
    peer_process(std::vector<std::string> argv, std::filesystem::path log, int timeout_s, bool keep_stdin = false);
    ~peer_process();
    peer_process(const peer_process&) = delete;
    peer_process& operator=(const peer_process&) = delete;
    /// Waits up to `limit` for exit; the exit status, or nullopt if still running.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    /// Waits until the log contains `needle` (or the process exits / the limit passes).
    bool wait_for_output(const std::string& needle, std::chrono::milliseconds limit);
    void stop();
    std::string output() const;
    pid_t pid() const { return _pid; }

private:
    pid_t _pid = -1;
    int _stdin_fd = -1;
    std::optional<int> _status;
    std::filesystem::path _log;
};

/// A peer certificate made by the openssl CLI, and its a=fingerprint as the CLI prints it
/// (upper-case hex), so the fingerprint our code checks comes from a third party.
struct peer_cert {
    std::filesystem::path cert, key;
    std::string sdp_fingerprint; ///< "sha-256 AB:..." (hash name as the CLI's "SHA256" mapped)
};
peer_cert make_peer_cert(const temp_dir& dir, const std::string& name, const std::string& digest = "sha256");

/// What the pump saw.
struct pump_result {
    std::vector<cd::event> events;
    std::optional<cd::handshake_done> done;
    std::optional<cd::handshake_failed> failed;
    std::size_t datagrams_sent = 0;
    std::size_t largest_sent = 0;
    std::size_t datagrams_received = 0;
};

/// A loopback UDP socket around an endpoint.
class udp_pump {
public:
    /// Binds 127.0.0.1:local_port (0 = ephemeral). If remote_port is non-zero, sends there;
    /// otherwise learns the peer from the first datagram (server role).
    udp_pump(uint16_t local_port, uint16_t remote_port);
    ~udp_pump();
    udp_pump(const udp_pump&) = delete;
    udp_pump& operator=(const udp_pump&) = delete;

    /// Runs the endpoint until handshake_done or handshake_failed, or until `limit`. Non-DTLS
    /// datagrams that arrive meanwhile go to `other` if set. `drop_every`: drop every Nth
    /// datagram we would send (0 = none), to exercise retransmission against a real peer.
    pump_result run_handshake(cd::endpoint& ep, std::chrono::milliseconds limit,
                              const std::function<void(const bytes&)>& other = {}, unsigned drop_every = 0);
    /// After the handshake: keeps feeding DTLS to the endpoint (so it answers close_notify or a
    /// retransmitted flight) until the peer process exits or `limit` passes.
    void serve_until_exit(cd::endpoint& ep, peer_process& p, std::chrono::milliseconds limit);
    /// Sends whatever the endpoint queued (e.g. close_notify).
    void flush(cd::endpoint& ep);
    /// Receives one datagram within `limit`; empty if none.
    std::optional<bytes> receive(std::chrono::milliseconds limit);
    void send(const bytes& d);
    bool has_peer() const { return _have_peer; }
    int fd() const { return _fd; }

private:
    int _fd = -1;
    sockaddr_in _peer{};
    bool _have_peer = false;
};

/// The first "Keying material: HEX" (openssl) or "- Key material: hex" (gnutls-cli) or
/// "keying-material: hex" (our pion peer) in `out`, as bytes.
std::optional<bytes> parse_keying_material(const std::string& out);
/// The profile from "SRTP Extension negotiated, profile=NAME" (openssl); empty if none.
std::string parse_openssl_profile(const std::string& out);

/// Checks our keying against the peer's exported material split per RFC 5764 §4.2.
/// Returns an empty string on success, else what differs (no key bytes in the message).
std::string compare_keying(const cp::srtp_keying& k, const bytes& material, bool we_are_client);

/// Our context from a fresh certificate, with the certificate also written to dir/ours.crt
/// (for the peer's -CAfile).
std::shared_ptr<const cd::context> make_our_context(const temp_dir& dir);

std::vector<cd::fingerprint> fingerprints(const std::string& sdp_value);

/// n pseudo-random bytes.
bytes random_bytes(std::mt19937& rng, std::size_t n);

/// SRTP through our engine with the keys a handshake produced: `tx` protects with keying.local
/// (what we send), `rx` unprotects with keying.remote (what the peer sends).
struct srtp_pair {
    engine::session_ptr tx, rx;
    std::unique_ptr<engine::worker_ctx> worker;
};
srtp_pair make_srtp(const cp::srtp_keying& k);
/// An RTP packet (PT 0, 160-octet payload: octet j = (seq-1)*7 + j, the pattern the pion peer
/// checks) protected by pair.tx. Empty on failure.
bytes protect_rtp_packet(srtp_pair& p, uint16_t seq, uint32_t ssrc);
/// Unprotects with pair.rx and checks the payload pattern. False on any failure.
bool unprotect_and_check(srtp_pair& p, bytes pkt);

/// Runs `main`-style checks for a peer binary: returns 77 (meson's skip) with a message if
/// `program` is not executable, otherwise runs the gtest suite.
int run_if_present(int argc, char** argv, const std::vector<std::string>& programs);

} // namespace srtpo::test::dtls
