// Logging to stderr (foreground, tests) or syslog (LOG_DAEMON, under systemd).
// Messages are fmt-formatted; the transition line format is a stable
// interface documented in pgvrrpd(8).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace pgvrrpd::log {

enum class Sink { stderr_, syslog };
enum class Level { debug, info, warning, error };

void init(Sink sink);
bool debug_enabled();
void set_debug(bool enabled);
void write(Level level, std::string_view message);

template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warning(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::warning, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::error, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (debug_enabled()) write(Level::debug, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace pgvrrpd::log
