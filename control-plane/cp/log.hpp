#pragma once
// srtpo-cp's log: one line per event on stdout. Under systemd (JOURNAL_STREAM set) each line
// starts with the sd-daemon priority prefix "<N>" so journald records the level; otherwise with
// an ISO-8601 UTC time and the level name. Callers never pass key material.
// Thread-safety: one line is written with one write(2); callable from any thread.

#include <string_view>

namespace srtpo::cp {

enum class log_level : int { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

/// Parses "error", "warning", "notice", "info", "debug". Returns false for anything else.
bool parse_log_level(std::string_view s, log_level& out) noexcept;
void set_log_level(log_level l) noexcept;
void log(log_level l, std::string_view msg) noexcept;

inline void log_err(std::string_view m) noexcept { log(log_level::err, m); }
inline void log_warn(std::string_view m) noexcept { log(log_level::warning, m); }
inline void log_notice(std::string_view m) noexcept { log(log_level::notice, m); }
inline void log_info(std::string_view m) noexcept { log(log_level::info, m); }
inline void log_debug(std::string_view m) noexcept { log(log_level::debug, m); }

} // namespace srtpo::cp
