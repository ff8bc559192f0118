#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace srtpo::cp {

namespace {
std::atomic<int> g_level{static_cast<int>(log_level::info)};
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view name(log_level l) noexcept {
    switch (l) {
    case log_level::err: return "error";
    case log_level::warning: return "warning";
    case log_level::notice: return "notice";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
    }
    return "info";
}
} // namespace

bool parse_log_level(std::string_view s, log_level& out) noexcept {
    for (auto l : {log_level::err, log_level::warning, log_level::notice, log_level::info, log_level::debug})
        if (s == name(l)) {
            out = l;
            return true;
        }
    return false;
}

void set_log_level(log_level l) noexcept { g_level.store(static_cast<int>(l), std::memory_order_relaxed); }

void log(log_level l, std::string_view msg) noexcept {
    if (static_cast<int>(l) > g_level.load(std::memory_order_relaxed)) return;
    try {
        std::string line;
        if (g_journal) {
            line = "<" + std::to_string(static_cast<int>(l)) + ">";
        } else {
            timespec ts{};
            clock_gettime(CLOCK_REALTIME, &ts);
            tm t{};
            gmtime_r(&ts.tv_sec, &t);
            char buf[80];
            std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                          t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
            line = buf;
            line += name(l);
            line += ": ";
        }
        line += msg;
        line += '\n';
        (void)!::write(STDOUT_FILENO, line.data(), line.size());
    } catch (...) {
        // Out of memory while logging: drop the line rather than the daemon.
    }
}

} // namespace srtpo::cp
