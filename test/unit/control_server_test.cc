// ControlServer on a real EventLoop and a real unix socket, with clients
// in this thread: one answer per request line, the limits, the socket's
// mode, and a second server on a live socket refused.
#include "vrrpd/wiring/control_server_linux.h"

#include "runtime_skip.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace pgvrrpd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Fixture {
  EventLoop loop;
  fs::path dir;
  std::string path;
  std::vector<std::string> requests;
  ControlServer server{loop, [this](std::string_view request) {
                         requests.emplace_back(request);
                         return "answer to " + std::string(request) + "\n";
                       }};

  Fixture() {
    REQUIRE(loop.open().is_ok());
    char tmpl[] = "/tmp/pgvrrpd-ctltest-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    chmod(dir.c_str(), 0755);
    path = (dir / "ctl.sock").string();
  }
  ~Fixture() { fs::remove_all(dir); }

  int connect_client() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
    return fd;
  }

  // Runs the loop until `fd` is closed by the server (EOF), collecting
  // what it sent.
  std::string answer_of(int fd, Duration limit = 3s) {
    std::string got;
    bool eof = false;
    TimePoint deadline = loop.now() + limit;
    Timer* self = nullptr;
    Timer poll(loop, [&] {
      char buf[1024];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
      if (n == 0) eof = true;
      if (eof || loop.now() >= deadline)
        loop.stop();
      else
        self->arm(loop.now() + 5ms);
    });
    self = &poll;
    poll.arm(loop.now());
    REQUIRE(loop.run().is_ok());
    close(fd);
    return eof ? got : got + "(no EOF)";
  }
};

TEST_CASE("control server: one request line, one answer, then the connection closes") {
  SKIP_UNLESS_ROOT("a socket directory owned by root");
  Fixture f;
  REQUIRE(f.server.bind(f.path).is_ok());
  REQUIRE(f.server.start().is_ok());
  struct stat st {};
  REQUIRE(stat(f.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  int fd = f.connect_client();
  // Sent in pieces: the server waits for the newline.
  REQUIRE(write(fd, "sta", 3) == 3);
  REQUIRE(write(fd, "tus\nignored", 11) == 11);
  CHECK(f.answer_of(fd) == "answer to status\n");
  REQUIRE(f.requests.size() == 1);
  CHECK(f.requests[0] == "status");
}

TEST_CASE("control server: an endless request is cut off, a silent client dropped") {
  SKIP_UNLESS_ROOT("a socket directory owned by root");
  Fixture f;
  REQUIRE(f.server.bind(f.path).is_ok());
  REQUIRE(f.server.start().is_ok());
  int fd = f.connect_client();
  std::string flood(ControlServer::kMaxRequest + 100, 'x');
  REQUIRE(write(fd, flood.data(), flood.size()) == static_cast<ssize_t>(flood.size()));
  CHECK(f.answer_of(fd) == "error: request too long\n");
  CHECK(f.requests.empty());

  int silent = f.connect_client();
  CHECK(f.answer_of(silent, ControlServer::kClientDeadline + 1s) == "");
}

TEST_CASE("control server: a live socket is not taken over; a stale one is replaced") {
  SKIP_UNLESS_ROOT("a socket directory owned by root");
  Fixture f;
  REQUIRE(f.server.bind(f.path).is_ok());
  {
    EventLoop other_loop;
    ControlServer second(other_loop, [](std::string_view) { return std::string(); });
    auto refused = second.bind(f.path);
    CHECK_FALSE(refused.is_ok());
    CHECK(refused.message().find("another pgvrrpd answers there") != std::string::npos);
  }
  // A socket file nobody listens on (a daemon killed with SIGKILL).
  std::string stale = (f.dir / "stale.sock").string();
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, stale.data(), stale.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
  close(fd);
  EventLoop other_loop;
  ControlServer replacing(other_loop, [](std::string_view) { return std::string(); });
  CHECK(replacing.bind(stale).is_ok());
  // Not a socket: left alone.
  std::string file = (f.dir / "file").string();
  close(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  ControlServer on_file(other_loop, [](std::string_view) { return std::string(); });
  CHECK_FALSE(on_file.bind(file).is_ok());
  CHECK(fs::exists(file));
}

TEST_CASE("control server: a directory others may write is refused") {
  Fixture f;
  chmod(f.dir.c_str(), 0777);
  auto refused = f.server.bind(f.path);
  CHECK_FALSE(refused.is_ok());
  CHECK(refused.message().find("writable by its owner only") != std::string::npos);
}

}  // namespace
}  // namespace pgvrrpd
