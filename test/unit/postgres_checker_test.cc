// PostgresChecker on the real EventLoop: fake connections over socketpairs,
// so epoll readiness, fd (un)watching and timers are the real ones.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "checkers/postgres_checker.h"
#include "fake_pg_connection.h"

namespace pgvrrpd::checkers {
namespace {

using namespace std::chrono_literals;

struct PairServer {
  bool up = true;
  bool answers = true;
  bool swap_socket = false;  // libpq moving to the next address: a new socket on the first poll
  PgResult answer = testing::Answer::primary().result();
  int connects = 0;
  std::vector<int> server_ends;  // open ones
  void kill() {
    up = false;
    for (int fd : server_ends) ::close(fd);
    server_ends.clear();
  }
};

// Connected at the first poll; the "server" answers a query by writing one
// byte on its end; closing its end is the server dying.
struct PairConnection final : PgConnection {
  explicit PairConnection(PairServer& s) : server(s) {}
  ~PairConnection() override {
    if (fd >= 0) ::close(fd);
  }
  Status start(const std::string&) override {
    ++server.connects;
    if (!server.up) return Status::error("Connection refused");
    if (!start_pair()) return Status::from_errno("socketpair");
    return Status::success();
  }
  bool start_pair() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) return false;
    fd = sv[0];
    server.server_ends.push_back(sv[1]);
    peer_end = sv[1];
    return true;
  }
  PgPoll poll() override {
    if (server.swap_socket && ++polls == 1) {
      // Closed and reopened: usually under the same number, and epoll has
      // forgotten it, so only a fresh watch sees the new socket.
      ::close(fd);
      int old = fd;
      fd = -1;
      if (!start_pair()) return PgPoll::failed;
      swapped_same_number = fd == old;
      return PgPoll::writing;
    }
    return PgPoll::ok;
  }
  int socket() const override { return fd; }
  bool send_query(const std::string&) override {
    sent = true;
    if (server.answers) return ::write(peer_end, "a", 1) == 1;
    return true;
  }
  int flush() override { return 0; }
  bool consume_input() override {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n == 0) {
      error = "server closed the connection unexpectedly";
      eof = true;
      return false;
    }
    if (n == 1) arrived = true;
    return true;
  }
  bool busy() override { return sent && !arrived; }
  std::optional<PgResult> get_result() override {
    if (arrived) {
      arrived = sent = false;
      return server.answer;
    }
    return std::nullopt;
  }
  bool bad() const override { return eof; }
  std::string error_message() const override { return error; }

  PairServer& server;
  int fd = -1;
  int peer_end = -1;
  int polls = 0;
  bool swapped_same_number = false;
  bool sent = false, arrived = false, eof = false;
  std::string error;
};

TEST_CASE("postgres checker: on the event loop, a closed socket fails within the loop turn") {
  EventLoop loop;
  REQUIRE(loop.open());
  PairServer server;
  PostgresCheckParams p;
  p.conninfo = "fake";
  p.interval = 20ms;
  p.timeout = 200ms;
  PostgresChecker checker(loop, "pg", p, [&] { return std::make_unique<PairConnection>(server); });
  std::vector<std::pair<bool, TimePoint>> verdicts;
  checker.set_listener([&](bool passing, const std::string&) { verdicts.emplace_back(passing, loop.now()); });
  int fact_changes = 0;
  checker.set_facts_listener([&](const PgFacts&, uint32_t) { ++fact_changes; });

  TimePoint killed{};
  Timer kill(loop, [&] {
    killed = loop.now();
    server.kill();
  });
  Timer restart(loop, [&] { server.up = true; });
  Timer stop(loop, [&] { loop.stop(); });
  checker.start();
  kill.arm(loop.now() + 100ms);
  restart.arm(loop.now() + 200ms);
  stop.arm(loop.now() + 600ms);
  REQUIRE(loop.run());

  REQUIRE(verdicts.size() == 3);
  CHECK(verdicts[0].first);
  CHECK_FALSE(verdicts[1].first);
  CHECK(verdicts[1].second - killed < 5ms);
  CHECK(verdicts[2].first);  // back after the restart, within the backoff
  CHECK(verdicts[2].second - killed < 400ms);
  CHECK(checker.passing());
  CHECK(checker.facts().role() == PgRole::primary);
  CHECK(fact_changes == 3);
  CHECK(server.connects >= 3);
  checker.stop();
  for (int fd : server.server_ends) ::close(fd);
}

TEST_CASE("postgres checker: on the event loop, a hung server fails at timeout") {
  EventLoop loop;
  REQUIRE(loop.open());
  PairServer server;
  PostgresCheckParams p;
  p.conninfo = "fake";
  p.interval = 50ms;
  p.timeout = 100ms;
  PostgresChecker checker(loop, "pg", p, [&] { return std::make_unique<PairConnection>(server); });
  std::vector<std::pair<bool, TimePoint>> verdicts;
  checker.set_listener([&](bool passing, const std::string&) { verdicts.emplace_back(passing, loop.now()); });
  TimePoint hung{};
  Timer hang(loop, [&] {
    hung = loop.now();
    server.answers = false;
    checker.poll_now();
  });
  Timer stop(loop, [&] { loop.stop(); });
  checker.start();
  hang.arm(loop.now() + 30ms);
  stop.arm(loop.now() + 250ms);
  REQUIRE(loop.run());
  REQUIRE(verdicts.size() == 2);
  CHECK_FALSE(verdicts[1].first);
  CHECK(verdicts[1].second - hung >= 100ms);
  CHECK(verdicts[1].second - hung < 120ms);
  checker.stop();
  for (int fd : server.server_ends) ::close(fd);
}

TEST_CASE("postgres checker: on the event loop, a socket replaced while connecting is watched anew") {
  EventLoop loop;
  REQUIRE(loop.open());
  PairServer server;
  server.swap_socket = true;
  PostgresCheckParams p;
  p.conninfo = "fake";
  p.timeout = 200ms;
  PairConnection* conn = nullptr;
  PostgresChecker checker(loop, "pg", p, [&] {
    auto c = std::make_unique<PairConnection>(server);
    conn = c.get();
    return c;
  });
  std::optional<TimePoint> passed;
  checker.set_listener([&](bool passing, const std::string&) {
    if (passing) passed = loop.now();
    loop.stop();
  });
  Timer stop(loop, [&] { loop.stop(); });
  TimePoint started = loop.now();
  checker.start();
  stop.arm(started + 150ms);
  REQUIRE(loop.run());
  REQUIRE(passed);  // not the connect timeout
  CHECK(*passed - started < 50ms);
  CHECK(server.connects == 1);
  CHECK(conn->polls == 2);
  MESSAGE("new socket under the same number: " << conn->swapped_same_number);
  checker.stop();
  for (int fd : server.server_ends) ::close(fd);
}

TEST_CASE("postgres hysteresis: force sets the verdict outright") {
  Hysteresis h(2, 3);
  CHECK(h.force(true) == true);
  CHECK_FALSE(h.record(false));  // one bad of three
  CHECK(h.force(false) == false);
  CHECK_FALSE(h.force(false));
  CHECK_FALSE(h.record(true));   // needs rise = 2 again
  CHECK(h.record(true) == true);
}

}  // namespace
}  // namespace pgvrrpd::checkers
