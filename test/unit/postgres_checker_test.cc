// PostgresChecker on the real EventLoop: fake connections over socketpairs,
// so epoll readiness, fd (un)watching and timers are the real ones. The real
// clock runs too, so the tests assert what caused a verdict (no query went
// out, no timeout was due), never how soon it came; the 10 s limits are
// safety nets for a broken checker.
#include <doctest/doctest.h>

#include <fcntl.h>
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
  bool same_number = true;   // with swap_socket: the new socket takes the old one's number
  PgResult answer = testing::Answer::primary().result();
  int connects = 0;
  int queries = 0;
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
      // Closed and reopened. Under the same number, epoll has forgotten it,
      // so only a fresh watch sees the new socket; under a new number, only
      // a watch of the new number does.
      int old = fd;
      if (server.same_number) {
        ::close(old);
        if (!start_pair()) return PgPoll::failed;
        if (fd != old) {  // the lowest free number was another one
          if (dup3(fd, old, O_CLOEXEC) < 0) return PgPoll::failed;
          ::close(fd);
          fd = old;
        }
      } else {
        if (!start_pair()) return PgPoll::failed;  // while `old` is open
        ::close(old);
      }
      swapped_same_number = fd == old;
      return PgPoll::writing;
    }
    return PgPoll::ok;
  }
  int socket() const override { return fd; }
  bool send_query(const std::string&) override {
    ++server.queries;
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

struct Verdict {
  bool passing;
  std::string reason;
  TimePoint at;
  int connects;  // the server's counts when the verdict came
  int queries;
};

TEST_CASE("postgres checker: on the event loop, a closed socket fails with no query or timeout due") {
  EventLoop loop;
  REQUIRE(loop.open());
  PairServer server;
  PostgresCheckParams p;
  p.conninfo = "fake";
  // No query and no timeout falls due while the test runs: a failure can
  // only come from the closed socket itself.
  p.interval = 60s;
  p.timeout = 60s;
  p.retry_min = 10ms;  // the reconnect after the restart
  PostgresChecker checker(loop, "pg", p, [&] { return std::make_unique<PairConnection>(server); });
  std::vector<Verdict> verdicts;
  int connects_at_kill = 0, queries_at_kill = 0;
  Timer kill(loop, [&] {
    connects_at_kill = server.connects;
    queries_at_kill = server.queries;
    server.kill();
  });
  // pass: the server dies; fail: it comes back; pass again: done.
  checker.set_listener([&](bool passing, const std::string& reason) {
    verdicts.push_back({passing, reason, loop.now(), server.connects, server.queries});
    if (verdicts.size() == 1) kill.arm(loop.now());
    if (verdicts.size() == 2) server.up = true;
    if (verdicts.size() == 3) loop.stop();
  });
  int fact_changes = 0;
  checker.set_facts_listener([&](const PgFacts&, uint32_t) { ++fact_changes; });
  Timer safety(loop, [&] { loop.stop(); });
  safety.arm(loop.now() + 10s);
  checker.start();
  REQUIRE(loop.run());

  REQUIRE(verdicts.size() == 3);
  CHECK(verdicts[0].passing);
  CHECK_FALSE(verdicts[1].passing);
  // Seen on the socket: no query went out after the kill, and the one
  // connect since is the immediate reconnect, refused.
  CHECK(verdicts[1].queries == queries_at_kill);
  CHECK(verdicts[1].connects == connects_at_kill + 1);
  CHECK(verdicts[1].reason.find("Connection refused") != std::string::npos);
  CHECK(verdicts[2].passing);  // back after the restart
  CHECK(checker.passing());
  CHECK(checker.facts().role() == PgRole::primary);
  CHECK(fact_changes == 3);
  checker.stop();
  for (int fd : server.server_ends) ::close(fd);
}

TEST_CASE("postgres checker: on the event loop, a hung server fails at timeout") {
  EventLoop loop;
  REQUIRE(loop.open());
  PairServer server;
  PostgresCheckParams p;
  p.conninfo = "fake";
  p.interval = 60s;  // the only query after the first is poll_now's
  p.timeout = 100ms;
  PostgresChecker checker(loop, "pg", p, [&] { return std::make_unique<PairConnection>(server); });
  std::vector<Verdict> verdicts;
  TimePoint hung{};
  Timer hang(loop, [&] {
    hung = loop.now();
    server.answers = false;
    checker.poll_now();
  });
  // pass: the server stops answering and is asked again; fail: done.
  checker.set_listener([&](bool passing, const std::string& reason) {
    verdicts.push_back({passing, reason, loop.now(), server.connects, server.queries});
    if (verdicts.size() == 1) hang.arm(loop.now());
    if (verdicts.size() == 2) loop.stop();
  });
  Timer safety(loop, [&] { loop.stop(); });
  safety.arm(loop.now() + 10s);
  checker.start();
  REQUIRE(loop.run());
  REQUIRE(verdicts.size() == 2);
  CHECK(verdicts[0].passing);
  CHECK_FALSE(verdicts[1].passing);
  CHECK(verdicts[1].reason.find("no answer within 100 ms") != std::string::npos);
  // Never before the timeout (the clock cannot run fast).
  CHECK(verdicts[1].at - hung >= 100ms);
  CHECK(verdicts[1].queries == 2);
  CHECK(verdicts[1].connects == 1);
  checker.stop();
  for (int fd : server.server_ends) ::close(fd);
}

TEST_CASE("postgres checker: on the event loop, a socket replaced while connecting is watched anew") {
  PairServer server;
  server.swap_socket = true;
  SUBCASE("under the same number") { server.same_number = true; }
  SUBCASE("under a new number") { server.same_number = false; }
  EventLoop loop;
  REQUIRE(loop.open());
  PostgresCheckParams p;
  p.conninfo = "fake";
  // Unwatched, the new socket would be seen by nothing but this timeout.
  p.timeout = 60s;
  PairConnection* conn = nullptr;
  PostgresChecker checker(loop, "pg", p, [&] {
    auto c = std::make_unique<PairConnection>(server);
    conn = c.get();
    return c;
  });
  std::vector<Verdict> verdicts;
  checker.set_listener([&](bool passing, const std::string& reason) {
    verdicts.push_back({passing, reason, loop.now(), server.connects, server.queries});
    loop.stop();
  });
  Timer safety(loop, [&] { loop.stop(); });
  safety.arm(loop.now() + 10s);
  checker.start();
  REQUIRE(loop.run());
  REQUIRE(conn != nullptr);
  CHECK(conn->swapped_same_number == server.same_number);
  REQUIRE(verdicts.size() == 1);
  CHECK(verdicts[0].passing);
  CHECK(server.connects == 1);
  CHECK(conn->polls == 2);
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
