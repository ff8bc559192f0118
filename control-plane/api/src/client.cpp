#include <srtpo/cp/api/client.hpp>

#include <srtpo/engine/kdf.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace srtpo::cp::api {

using engine::errc;
using engine::make_error;

engine::result<client> client::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
    sockaddr_un a{};
    if (socket_path.empty() || socket_path.size() >= sizeof a.sun_path)
        return make_error(errc::invalid_argument, "socket path must have 1.." + std::to_string(sizeof a.sun_path - 1) + " characters");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(errc::io_error, std::string("socket: ") + std::strerror(errno));
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        return make_error(errc::io_error, "cannot reach srtpo-cp at " + socket_path + ": " + std::strerror(e));
    }
    return client(fd, timeout);
}

client::client(client&& o) noexcept : _fd(o._fd), _timeout(o._timeout), _buf(std::move(o._buf)) { o._fd = -1; }

client::~client() {
    if (_fd >= 0) ::close(_fd);
}

engine::result<nlohmann::json> client::call(const nlohmann::json& req) {
    std::string line = req.dump();
    line += '\n';
    std::size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::send(_fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            engine::secure_zero(line.data(), line.size());
            return make_error(errc::io_error, std::string("sending to srtpo-cp: ") + std::strerror(errno));
        }
        off += static_cast<std::size_t>(n);
    }
    engine::secure_zero(line.data(), line.size());
    const auto deadline = std::chrono::steady_clock::now() + _timeout;
    for (;;) {
        if (const auto nl = _buf.find('\n'); nl != std::string::npos) {
            auto j = nlohmann::json::parse(std::string_view(_buf).substr(0, nl), nullptr, false);
            engine::secure_zero(_buf.data(), nl); // a revealed key travels in a response
            _buf.erase(0, nl + 1);
            if (j.is_discarded() || !j.is_object()) return make_error(errc::io_error, "srtpo-cp sent a response that is not JSON");
            return j;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return make_error(errc::io_error, "srtpo-cp did not answer within " + std::to_string(_timeout.count()) + " ms");
        pollfd p{_fd, POLLIN, 0};
        const int pr = ::poll(&p, 1, static_cast<int>(left.count()));
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        char buf[65536];
        const ssize_t n = ::read(_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(errc::io_error, "srtpo-cp closed the connection");
        _buf.append(buf, static_cast<std::size_t>(n));
    }
}

} // namespace srtpo::cp::api
