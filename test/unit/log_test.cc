// The log never waits: lines a sink cannot take at once are dropped and
// counted, and the count is logged with the next line that gets through.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vrrpd/basics/log.h"
#include "vrrpd/edge/syslog_socket_linux.h"

using namespace pgvrrpd;

namespace {

// A syslog daemon that reads only when told to.
struct SlowSyslogDaemon {
  std::string path;
  int fd = -1;
  SlowSyslogDaemon() {
    char dir[] = "/tmp/pgvrrpd-syslog-XXXXXX";
    REQUIRE(mkdtemp(dir));
    path = std::string(dir) + "/log";
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~SlowSyslogDaemon() {
    close(fd);
    unlink(path.c_str());
    rmdir(path.substr(0, path.rfind('/')).c_str());
  }
  // Everything queued, one datagram per string.
  std::vector<std::string> read_all() {
    std::vector<std::string> out;
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) out.emplace_back(buffer, n);
    return out;
  }
};

}  // namespace

TEST_CASE("syslog socket: messages in syslog(3)'s format, and a full queue drops, never waits") {
  SlowSyslogDaemon syslogd;
  SyslogSocket socket(syslogd.path, "pgvrrpd");
  REQUIRE(socket.send(LOG_DAEMON | LOG_WARNING, "first"));
  auto got = syslogd.read_all();
  REQUIRE(got.size() == 1);
  CAPTURE(got[0]);
  CHECK(got[0].starts_with("<28>"));  // LOG_DAEMON (24) | LOG_WARNING (4)
  CHECK(got[0].ends_with(" pgvrrpd[" + std::to_string(getpid()) + "]: first"));

  // Nobody reads: the queue fills (net.unix.max_dgram_qlen), then send()
  // says so at once instead of blocking the daemon.
  int sent = 0, refused = 0;
  for (int i = 0; i < 5000; ++i) (socket.send(LOG_DAEMON | LOG_INFO, "flood") ? sent : refused)++;
  CHECK(sent > 0);
  CHECK(refused > 0);
  CHECK(syslogd.read_all().size() == static_cast<size_t>(sent));
  CHECK(socket.send(LOG_DAEMON | LOG_INFO, "after"));  // read: room again
}

TEST_CASE("syslog socket: no syslog daemon is a refusal, and it is found again once it listens") {
  std::string path;
  {
    SlowSyslogDaemon gone;
    path = gone.path;
  }
  SyslogSocket socket(path);
  CHECK_FALSE(socket.send(LOG_DAEMON | LOG_INFO, "nobody"));
  CHECK_FALSE(socket.send(LOG_DAEMON | LOG_INFO, "nobody again"));  // no retry within 1 s
}

TEST_CASE("log: lines a sink refuses are counted and reported with the next one that goes") {
  std::vector<std::string> delivered;
  bool accept = false;
  log::init(log::Sink::syslog);
  log::set_syslog_writer([&](int, std::string_view message) {
    if (accept) delivered.emplace_back(message);
    return accept;
  });
  auto before = log::dropped_lines();
  log::info("one");
  log::info("two");
  log::error("three");
  CHECK(log::dropped_lines() == before + 3);
  CHECK(delivered.empty());
  accept = true;
  log::info("four");
  log::set_syslog_writer(nullptr);
  log::init(log::Sink::stderr_);
  REQUIRE(delivered.size() == 2);
  CHECK(delivered[0] == "four");
  CHECK(delivered[1] == fmt::format("3 log lines dropped: the log was not taking them ({} since "
                                    "start)",
                                    before + 3));
}
