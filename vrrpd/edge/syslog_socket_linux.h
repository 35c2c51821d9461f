// A syslog client that never waits: one datagram per message to the local
// syslog socket (/dev/log, journald's or rsyslog's), sent non-blocking. When
// the syslog daemon stops reading and its queue fills, or it is restarting,
// send() says so at once and the message is dropped (log.cc counts it);
// syslog(3) would block the daemon, and with it every advert.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pgvrrpd {

class SyslogSocket {
 public:
  // `path`: the syslog socket; `tag`: the program name in each message.
  explicit SyslogSocket(std::string path = "/dev/log", std::string tag = "pgvrrpd");
  ~SyslogSocket();
  SyslogSocket(const SyslogSocket&) = delete;
  SyslogSocket& operator=(const SyslogSocket&) = delete;

  // Sends "<priority>Mmm dd hh:mm:ss tag[pid]: message" (RFC 3164, as
  // syslog(3) does). False when not sent: it would block, or no syslog
  // daemon listens (reconnecting is tried again at most once a second).
  bool send(int priority, std::string_view message);

 private:
  bool connect_now();

  std::string path_, tag_;
  int fd_ = -1;
  std::optional<std::chrono::steady_clock::time_point> last_connect_;
};

}  // namespace pgvrrpd
