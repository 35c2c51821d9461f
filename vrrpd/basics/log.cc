#include "vrrpd/basics/log.h"

#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace pgvrrpd::log {
namespace {

Sink g_sink = Sink::stderr_;
bool g_debug = false;
SyslogWriter g_syslog_writer;
uint64_t g_dropped = 0;
uint64_t g_unreported = 0;  // dropped since the last line that got through

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "?";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug: return LOG_DEBUG;
    case Level::info: return LOG_INFO;
    case Level::warning: return LOG_WARNING;
    case Level::error: return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

void init(Sink sink) {
  g_sink = sink;
  if (sink == Sink::syslog) openlog("pgvrrpd", LOG_PID, LOG_DAEMON);
}

void set_syslog_writer(SyslogWriter writer) { g_syslog_writer = std::move(writer); }
uint64_t dropped_lines() { return g_dropped; }

bool debug_enabled() { return g_debug; }
void set_debug(bool enabled) { g_debug = enabled; }

namespace {

bool write_now(Level level, std::string_view message) {
  if (g_sink == Sink::syslog) {
    if (g_syslog_writer) return g_syslog_writer(LOG_DAEMON | syslog_priority(level), message);
    syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
    return true;
  }
  // Wall-clock milliseconds: tests and operators line the log up with
  // packet captures and other nodes' logs.
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  auto line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z pgvrrpd[{}]: {}: {}\n",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec, ms.count(), getpid(), level_name(level), message);
  // One write(2) per line so lines from hooks and the daemon never
  // interleave (a pipe takes up to PIPE_BUF bytes whole, or nothing).
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  return n == static_cast<ssize_t>(line.size());
}

}  // namespace

void write(Level level, std::string_view message) {
  if (!write_now(level, message)) {
    ++g_dropped;
    ++g_unreported;
    return;
  }
  if (g_unreported == 0) return;
  uint64_t lost = g_unreported;
  g_unreported = 0;
  write(Level::warning, fmt::format("{} log lines dropped: the log was not taking them ({} since "
                                    "start)",
                                    lost, g_dropped));
}

}  // namespace pgvrrpd::log
