// SystemdNotify against a real unix datagram socket standing in for
// systemd's NOTIFY_SOCKET.
#include "vrrpd/edge/systemd_notify_linux.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace pgvrrpd {
namespace {

// A datagram socket bound at `path` ('@' first: abstract namespace).
class Listener {
 public:
  explicit Listener(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path_.data(), path_.size());
    if (path_[0] == '@') un.sun_path[0] = '\0';
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&un), length) == 0);
    timeval wait{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  }
  ~Listener() {
    close(fd_);
    if (path_[0] == '/') unlink(path_.c_str());
  }
  std::string receive() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("(nothing)") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
};

void clear_environment() {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST_CASE("systemd notify: inactive without NOTIFY_SOCKET; sending does nothing") {
  clear_environment();
  auto notify = SystemdNotify::from_environment();
  REQUIRE(notify);
  CHECK_FALSE(notify->active());
  CHECK_FALSE(notify->watchdog());
  CHECK(notify->send("READY=1"));
}

TEST_CASE("systemd notify: a path socket gets the message; the variables are unset") {
  clear_environment();
  std::string path = "/tmp/pgvrrpd-notify-test-" + std::to_string(getpid());
  Listener listener(path);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  auto notify = SystemdNotify::from_environment();
  REQUIRE(notify);
  CHECK(notify->active());
  REQUIRE(notify->watchdog());
  CHECK(notify->watchdog()->count() == 3000000);
  // A hook must not be able to tell systemd anything for pgvrrpd.
  CHECK(getenv("NOTIFY_SOCKET") == nullptr);
  CHECK(getenv("WATCHDOG_USEC") == nullptr);
  CHECK(getenv("WATCHDOG_PID") == nullptr);
  REQUIRE(notify->send("READY=1\nSTATUS=pg MASTER"));
  CHECK(listener.receive() == "READY=1\nSTATUS=pg MASTER");
}

TEST_CASE("systemd notify: an abstract socket (@name) works too") {
  clear_environment();
  std::string name = "@pgvrrpd-notify-test-" + std::to_string(getpid());
  Listener listener(name);
  setenv("NOTIFY_SOCKET", name.c_str(), 1);
  auto notify = SystemdNotify::from_environment();
  REQUIRE(notify);
  REQUIRE(notify->send("WATCHDOG=1"));
  CHECK(listener.receive() == "WATCHDOG=1");
}

TEST_CASE("systemd notify: the watchdog of another pid is not ours") {
  clear_environment();
  setenv("NOTIFY_SOCKET", "/run/nowhere", 1);
  setenv("WATCHDOG_USEC", "1000000", 1);
  setenv("WATCHDOG_PID", "1", 1);
  auto notify = SystemdNotify::from_environment();
  REQUIRE(notify);
  CHECK_FALSE(notify->watchdog());
}

TEST_CASE("systemd notify: unusable values are errors, not silence") {
  // systemd would wait for a READY=1 that never comes, then kill us.
  for (auto [socket_value, usec] : {std::pair{"relative/path", "1000000"},
                                    std::pair{"/run/ok", "soon"},
                                    std::pair{"/run/ok", "0"}}) {
    clear_environment();
    setenv("NOTIFY_SOCKET", socket_value, 1);
    setenv("WATCHDOG_USEC", usec, 1);
    CAPTURE(socket_value);
    CAPTURE(usec);
    CHECK_FALSE(SystemdNotify::from_environment());
  }
  clear_environment();
  std::string long_path = "/" + std::string(200, 'x');
  setenv("NOTIFY_SOCKET", long_path.c_str(), 1);
  CHECK_FALSE(SystemdNotify::from_environment());
  clear_environment();
}

TEST_CASE("systemd notify: a socket nobody listens on is an error to report, not a hang") {
  clear_environment();
  setenv("NOTIFY_SOCKET", "/tmp/pgvrrpd-no-listener", 1);
  auto notify = SystemdNotify::from_environment();
  REQUIRE(notify);
  CHECK_FALSE(notify->send("READY=1"));
}

}  // namespace
}  // namespace pgvrrpd
