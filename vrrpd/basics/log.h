// Logging to stderr (foreground, tests) or syslog (LOG_DAEMON, under systemd).
// Messages are fmt-formatted; the transition line format is a stable
// interface documented in pgvrrpd(8).
//
// The log never makes the daemon wait: a line that cannot be written at
// once (a full pipe to the journal, a syslog daemon that stopped reading) is
// dropped and counted, and the count is logged with the next line that gets
// through. The daemon's one thread sends adverts; a stuck log must not stop
// them. (stderr must be non-blocking for that, which main.cc sees to.)
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <string_view>

namespace pgvrrpd::log {

enum class Sink { stderr_, syslog };
enum class Level { debug, info, warning, error };

void init(Sink sink);
// Sends one message to syslog without waiting; false when it was not sent.
// Without one, the syslog sink uses syslog(3), which may block.
using SyslogWriter = std::function<bool(int priority, std::string_view message)>;
void set_syslog_writer(SyslogWriter writer);
// Lines dropped because the sink could not take them at once, since start.
uint64_t dropped_lines();
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
