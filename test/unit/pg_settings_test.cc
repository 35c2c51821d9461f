// PgSettings on fake libpq: statements in order on one connection, success
// after the last, the first failure ends the run; the connection kept for
// the next run (a full server would refuse a new one).
#include "checkers/pg_settings.h"

#include <doctest/doctest.h>
#include <sys/epoll.h>

#include <optional>
#include <string>
#include <vector>

#include "fake_pg_connection.h"

namespace pgvrrpd::checkers {
namespace {

using namespace std::chrono_literals;
using testing::FakeNet;
using testing::FakeServer;

const char* const kLocal = "host=/run/postgresql";
const std::vector<std::string> kStatements = {
    "ALTER SYSTEM SET synchronous_standby_names = '*'", "ALTER SYSTEM SET pgvrrpd.sync = 'on'",
    "SELECT pg_reload_conf()"};

struct Rig {
  Rig() : settings(net.factory(), kLocal, 500ms) {
    server().answer = PgResult{true, "", {}, {}};
  }
  FakeServer& server() { return net.servers[kLocal]; }
  void run(std::vector<std::string> statements = kStatements) {
    settings.run(std::move(statements), now, [this](const Status& s, TimePoint at) {
      results.push_back(s.is_ok() ? "ok" : s.message());
      done_at = at;
    });
    settle();
  }
  void settle() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      PgLink& link = settings.link();
      PgLink::Want want = link.want();
      if (want.fd >= 0) {
        auto it = net.by_fd.find(want.fd);
        REQUIRE(it != net.by_fd.end());
        uint32_t ready = it->second->ready_events() & (want.events | EPOLLHUP | EPOLLERR);
        if (ready) {
          link.on_socket(ready, now);
          moved = true;
        }
      }
      if (auto due = link.next_deadline(); due && *due <= now) {
        link.on_timer(now);
        moved = true;
      }
      if (!moved) return;
    }
    FAIL("settle() did not settle");
  }
  void advance(Duration d) {
    TimePoint until = now + d;
    while (auto due = settings.link().next_deadline()) {
      if (*due > until) break;
      now = std::max(now, *due);
      settle();
    }
    now = until;
    settle();
  }

  FakeNet net;
  PgSettings settings;
  TimePoint now{};
  std::vector<std::string> results;
  std::optional<TimePoint> done_at;
};

}  // namespace

TEST_CASE("pg settings: the statements run in order on one connection, which stays") {
  Rig rig;
  rig.run();
  CHECK(rig.server().sent == kStatements);
  CHECK(rig.server().connects == 1);
  CHECK(rig.results == std::vector<std::string>{"ok"});
  CHECK_FALSE(rig.settings.running());
  CHECK(rig.server().open.size() == 1);
  // Only a keep-alive later; the next run on the same connection.
  rig.advance(25h);
  REQUIRE(rig.server().sent.size() == kStatements.size() + 1);
  CHECK(rig.server().sent.back() == "SELECT 1");
  rig.run({"SELECT pg_reload_conf()"});
  CHECK(rig.server().connects == 1);
  CHECK(rig.server().sent.back() == "SELECT pg_reload_conf()");
  CHECK(rig.results == std::vector<std::string>{"ok", "ok"});
}

TEST_CASE("pg settings: an error answer ends the run with the server's message") {
  Rig rig;
  rig.server().query_error = "permission denied to set parameter \"synchronous_standby_names\"";
  rig.run();
  CHECK(rig.server().sent.size() == 1);
  REQUIRE(rig.results.size() == 1);
  CHECK(rig.results[0].find("permission denied") != std::string::npos);
  CHECK_FALSE(rig.settings.running());
}

TEST_CASE("pg settings: a refused connection and a hung statement fail; a new run replaces one") {
  Rig rig;
  rig.server().up = false;
  rig.run();
  REQUIRE(rig.results.size() == 1);
  CHECK(rig.results[0].find("refused") != std::string::npos);

  rig.server().up = true;
  rig.server().answers = false;  // the statement hangs
  rig.run();
  CHECK(rig.results.size() == 1);
  CHECK(rig.settings.running());
  // Replaced before it timed out: only the second run's outcome comes.
  rig.server().answers = true;
  rig.run({"SELECT pg_reload_conf()"});
  CHECK(rig.results == std::vector<std::string>{rig.results[0], "ok"});
  rig.server().answers = false;
  rig.run();
  rig.advance(499ms);
  CHECK(rig.results.size() == 2);
  rig.advance(1ms);
  REQUIRE(rig.results.size() == 3);
  CHECK(rig.results[2].find("no answer within 500 ms") != std::string::npos);
}

TEST_CASE("pg settings: open() connects ahead of the first run and reconnects after a loss") {
  Rig rig;
  rig.settings.open(rig.now);
  rig.settle();
  CHECK(rig.settings.connected());
  CHECK(rig.server().connects == 1);
  CHECK(rig.server().open.size() == 1);
  CHECK(rig.results.empty());  // nothing to report: no run
  rig.settings.open(rig.now);  // no second connection
  rig.settle();
  CHECK(rig.server().connects == 1);
  // The server restarts (a rejoin): the link comes back by itself, so the
  // first run later finds a connection made while the server had room.
  rig.server().kill();
  rig.settle();
  rig.server().up = true;
  rig.advance(2s);
  CHECK(rig.server().open.size() == 1);
  int connects = rig.server().connects;
  rig.run();
  CHECK(rig.server().connects == connects);
  CHECK(rig.results == std::vector<std::string>{"ok"});
}
}  // namespace pgvrrpd::checkers
