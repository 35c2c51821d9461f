#include "vrrpd/edge/syslog_socket_linux.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace pgvrrpd {

SyslogSocket::SyslogSocket(std::string path, std::string tag)
    : path_(std::move(path)), tag_(std::move(tag)) {}

SyslogSocket::~SyslogSocket() {
  if (fd_ >= 0) close(fd_);
}

bool SyslogSocket::connect_now() {
  auto now = std::chrono::steady_clock::now();
  if (last_connect_ && now - *last_connect_ < std::chrono::seconds(1)) return false;
  last_connect_ = now;
  if (fd_ < 0) fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path_.data(), path_.size());
  // A Unix datagram connect() never waits.
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return true;
  close(fd_);
  fd_ = -1;
  return false;
}

bool SyslogSocket::send(int priority, std::string_view message) {
  if (fd_ < 0 && !connect_now()) return false;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b %e %T", &tm);
  auto datagram = fmt::format("<{}>{} {}[{}]: {}", priority, stamp, tag_, getpid(), message);
  if (::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL) >= 0) return true;
  // The syslog daemon went away (restarted): connect again, later.
  if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT) {
    close(fd_);
    fd_ = -1;
  }
  return false;  // EAGAIN: its queue is full; the line is dropped
}

}  // namespace pgvrrpd
