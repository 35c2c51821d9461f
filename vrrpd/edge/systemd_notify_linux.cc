#include "vrrpd/edge/systemd_notify_linux.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace pgvrrpd {
namespace {

std::optional<unsigned long long> number(const char* text) {
  if (text == nullptr) return std::nullopt;
  std::string_view s(text);
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<SystemdNotify> SystemdNotify::from_environment() {
  SystemdNotify notify;
  std::string socket_path = getenv("NOTIFY_SOCKET") ? getenv("NOTIFY_SOCKET") : "";
  auto usec = number(getenv("WATCHDOG_USEC"));
  auto pid = number(getenv("WATCHDOG_PID"));
  bool watchdog_set = getenv("WATCHDOG_USEC") != nullptr;
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  if (socket_path.empty()) return notify;

  sockaddr_un un{};
  // '@' names a socket in the abstract namespace (a leading NUL).
  if (socket_path[0] != '/' && socket_path[0] != '@')
    return Status::error(fmt::format("NOTIFY_SOCKET={}: neither a path nor @abstract",
                                     socket_path));
  if (socket_path.size() >= sizeof un.sun_path)
    return Status::error(fmt::format("NOTIFY_SOCKET={}: too long", socket_path));
  if (socket_path[0] == '@') socket_path[0] = '\0';
  if (watchdog_set) {
    if (!usec || *usec == 0)
      return Status::error("WATCHDOG_USEC must be a positive number of microseconds");
    // WATCHDOG_PID: the watchdog is for that process only (absent: ours).
    if (!pid || static_cast<pid_t>(*pid) == getpid())
      notify.watchdog_ = std::chrono::microseconds(*usec);
  }
  notify.fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (notify.fd_ < 0) return Status::from_errno("socket(AF_UNIX) for NOTIFY_SOCKET");
  notify.address_ = std::move(socket_path);
  return notify;
}

SystemdNotify::~SystemdNotify() {
  if (fd_ >= 0) close(fd_);
}

SystemdNotify::SystemdNotify(SystemdNotify&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(std::move(other.address_)),
      watchdog_(other.watchdog_) {}

SystemdNotify& SystemdNotify::operator=(SystemdNotify&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    watchdog_ = other.watchdog_;
  }
  return *this;
}

Status SystemdNotify::send(std::string_view message) const {
  if (fd_ < 0) return Status::success();
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, address_.data(), address_.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  ssize_t sent;
  do {
    sent = sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr*>(&un), length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return Status::from_errno("sendto NOTIFY_SOCKET");
  return Status::success();
}

}  // namespace pgvrrpd
