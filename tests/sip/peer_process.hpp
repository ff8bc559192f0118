#pragma once
// Minimal helpers for tests that run a real third-party peer (sipp, tshark) and talk to it over
// loopback TCP: spawn under `timeout`, stop by PID, bounded waits, a temporary directory.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace srtpo::cp::test {

/// A directory under $TMPDIR removed (recursively) on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

/// Starts argv[0] (searched in PATH) with stdout+stderr to `log`. Returns the PID or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
/// Waits up to `ms` for the child; on timeout kills it (SIGKILL, by PID) and returns -1,
/// otherwise its exit status (128+signal when killed by a signal).
int wait_exit(pid_t pid, int ms);
/// Stops a child by PID (SIGKILL after `grace_ms`) when it goes out of scope unless released:
/// a test that fails half-way never leaves its peer running.
struct child_guard {
    pid_t pid = -1;
    int grace_ms = 100;
    ~child_guard() {
        if (pid > 0) wait_exit(pid, grace_ms);
    }
    /// Waits for the child's exit status (see wait_exit) and disarms the guard.
    int finish(int ms) {
        const int rc = wait_exit(pid, ms);
        pid = -1;
        return rc;
    }
};
/// Runs a command to completion (bounded by `ms`) and returns its exit status and output.
int run(const std::vector<std::string>& argv, std::string& output, int ms);
/// True when `name` is an executable in PATH.
bool in_path(const std::string& name);

/// Loopback TCP helpers; every call is bounded by `ms`. Return -1 / false on failure.
int tcp_listen(uint16_t port);
int tcp_accept(int listen_fd, int ms);
int tcp_connect(uint16_t port, int ms); ///< retries until the peer listens
bool send_all(int fd, const std::string& bytes);
/// One recv() after waiting up to `ms` for data; nullopt on timeout, error or peer close.
std::optional<std::string> recv_some(int fd, int ms);
uint16_t local_port(int fd);

} // namespace srtpo::cp::test
