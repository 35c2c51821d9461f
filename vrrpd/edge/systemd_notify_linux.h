// systemd's service notification protocol (sd_notify(3)), the few lines of
// it pgvrrpd needs, without libsystemd: one datagram of "KEY=value" lines
// to the unix socket NOTIFY_SOCKET names. Type=notify units get READY=1,
// STOPPING=1, STATUS=... from it, and WATCHDOG=1 pings when WatchdogSec is
// set (WATCHDOG_USEC).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "vrrpd/basics/result.h"

namespace pgvrrpd {

class SystemdNotify {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, and unsets them:
  // no child (a hook) may talk to systemd for pgvrrpd. Inactive (every send
  // does nothing) without NOTIFY_SOCKET; an unusable value is an error, as
  // systemd would otherwise wait for a READY=1 that never comes.
  static Result<SystemdNotify> from_environment();
  SystemdNotify() = default;
  ~SystemdNotify();
  SystemdNotify(SystemdNotify&& other) noexcept;
  SystemdNotify& operator=(SystemdNotify&& other) noexcept;
  SystemdNotify(const SystemdNotify&) = delete;
  SystemdNotify& operator=(const SystemdNotify&) = delete;

  bool active() const { return fd_ >= 0; }
  // WATCHDOG_USEC, when the watchdog is on and meant for this process.
  std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }
  // Sends `message` ("READY=1\nSTATUS=..."): never blocks (a full socket
  // drops it with an error; systemd's is large).
  Status send(std::string_view message) const;

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un's sun_path, '\0' first when abstract
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace pgvrrpd
