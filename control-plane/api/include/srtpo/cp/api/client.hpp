#pragma once
// A blocking client of srtpo-cp's control socket (keying-ctl, tests, the benchmark): sends one
// JSON request line, reads one response line.
//
// Thread-safety: one object per thread. Ownership: owns its socket; the request may hold keys
// (base64) and is wiped from the client's buffers after sending.

#include <srtpo/engine/result.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace srtpo::cp::api {

class client {
public:
    /// Connects to `socket_path`. Errors: io_error "cannot reach srtpo-cp at PATH: <strerror>".
    static engine::result<client> connect(const std::string& socket_path,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
    client(client&& o) noexcept;
    client& operator=(client&&) = delete;
    client(const client&) = delete;
    ~client();

    /// Sends `req` and returns the daemon's response object (which may say ok: false).
    /// Errors: io_error when the connection fails or times out, or the response is not JSON.
    engine::result<nlohmann::json> call(const nlohmann::json& req);

private:
    explicit client(int fd, std::chrono::milliseconds t) : _fd(fd), _timeout(t) {}
    int _fd = -1;
    std::chrono::milliseconds _timeout;
    std::string _buf;
};

} // namespace srtpo::cp::api
