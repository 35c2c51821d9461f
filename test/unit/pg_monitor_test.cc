#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "checkers/pg_monitor.h"
#include "fake_pg_connection.h"

namespace pgvrrpd::checkers {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::FakeNet;
using testing::FakeServer;

const char* const kLocal = "host=/run/postgresql";
const char* const kPeer = "hostaddr=198.51.100.12";

PostgresCheckParams params(bool with_peer = false) {
  PostgresCheckParams p;
  p.conninfo = kLocal;
  if (with_peer) p.peer_conninfo = kPeer;
  p.interval = 1s;
  p.timeout = 500ms;
  p.retry_min = 100ms;
  return p;
}

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// A monitor on fake libpq with a fake clock; settle() delivers what epoll
// would report until nothing moves, advance() walks time deadline by deadline.
struct Rig {
  explicit Rig(PostgresCheckParams p) : monitor(std::move(p), net.factory()) {
    local().answer = Answer::primary().result();
    peer().answer = Answer::streaming_standby("0/3000060", "0/3000060").result();
    monitor.set_listeners(
        [this](bool passing, const std::string& reason) {
          verdicts.emplace_back(passing, reason);
          verdict_at.push_back(now);
        },
        [this](const PgFacts&, uint32_t changed) { changes.push_back(changed); });
  }
  FakeServer& local() { return net.servers[kLocal]; }
  FakeServer& peer() { return net.servers[kPeer]; }

  void start() {
    monitor.start(now);
    settle();
  }
  void settle() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      for (PgLink* link : {&monitor.local(), monitor.peer()}) {
        if (!link) continue;
        PgLink::Want want = link->want();
        if (want.fd < 0) continue;
        auto it = net.by_fd.find(want.fd);
        REQUIRE(it != net.by_fd.end());
        uint32_t ready = it->second->ready_events() & (want.events | EPOLLHUP | EPOLLERR);
        if (!ready) continue;
        link->on_socket(ready, now);
        moved = true;
      }
      if (auto due = monitor.next_deadline(); due && *due <= now) {
        monitor.on_timer(now);
        moved = true;
      }
      if (!moved) return;
    }
    FAIL("settle() did not settle");
  }
  void advance(Duration d) {
    TimePoint until = now + d;
    while (true) {
      auto due = monitor.next_deadline();
      if (!due || *due > until) break;
      now = std::max(now, *due);
      settle();
    }
    now = until;
    settle();
  }
  Duration since_start() const { return now - TimePoint{}; }

  FakeNet net;
  PgMonitor monitor;
  TimePoint now{};
  std::vector<std::pair<bool, std::string>> verdicts;
  std::vector<TimePoint> verdict_at;
  std::vector<uint32_t> changes;
};

TEST_CASE("postgres monitor: connects, queries at once, passes with the role") {
  Rig rig(params());
  rig.start();
  REQUIRE(rig.verdicts.size() == 1);
  CHECK(rig.verdicts[0].first);
  CHECK(rig.verdicts[0].second == "answering as primary");
  CHECK(rig.monitor.passing());
  const PgFacts& f = rig.monitor.facts();
  CHECK(f.alive);
  CHECK(f.role() == PgRole::primary);
  CHECK(f.timeline == 1);
  CHECK(f.local->current_lsn == 0x3000060u);
  REQUIRE(rig.changes.size() == 1);
  CHECK((rig.changes[0] & kChangeAlive));
  CHECK((rig.changes[0] & kChangeRole));
  CHECK(rig.monitor.local().state() == PgLink::State::idle);

  // One query per interval on the same connection; unchanged facts are quiet.
  rig.advance(3s);
  CHECK(rig.local().connects == 1);
  CHECK(rig.local().queries == 4);
  CHECK(rig.changes.size() == 1);
}

TEST_CASE("postgres monitor: interval and timeout at their smallest and largest values") {
  // The check keys' bounds (0.01 s and 3600 s): one query per interval, no
  // deadline behind the clock, none repeating (a zero period).
  for (Duration interval : {Duration(10ms), Duration(3600s)}) {
    CAPTURE(ms(interval));
    PostgresCheckParams p = params();
    p.interval = interval;
    p.timeout = interval;
    p.retry_min = std::min<Duration>(p.retry_min, interval);
    Rig rig(p);
    rig.start();
    TimePoint last{};
    for (int step = 0; step < 10; ++step) {
      auto due = rig.monitor.next_deadline();
      REQUIRE(due);
      CHECK(*due > rig.now);
      CHECK(*due > last);
      last = *due;
      rig.advance(*due - rig.now);
    }
    CHECK(rig.local().connects == 1);
    CHECK(rig.local().queries == 11);
    CHECK(rig.monitor.passing());
  }
}

TEST_CASE("postgres monitor: connection refused fails, and reconnects back off") {
  Rig rig(params());
  rig.local().up = false;
  rig.start();
  // No verdict before; a failure from the start is reported (fall = 1).
  REQUIRE(rig.verdicts.size() == 1);
  CHECK_FALSE(rig.verdicts[0].first);
  CHECK_FALSE(rig.monitor.passing());
  CHECK(rig.monitor.facts().error.find("Connection refused") != std::string::npos);
  // Attempts at 0, 0.1, 0.3, 0.7, 1.5 s, then every interval (1 s): not hammering.
  std::vector<int64_t> attempts;
  int seen = rig.local().connects;
  attempts.push_back(0);
  while (rig.since_start() < 4600ms) {
    rig.advance(10ms);
    if (rig.local().connects != seen) {
      seen = rig.local().connects;
      attempts.push_back(ms(rig.since_start()));
    }
  }
  CHECK(attempts == std::vector<int64_t>{0, 100, 300, 700, 1500, 2500, 3500, 4500});

  // The server starts: the next attempt connects and passes.
  rig.local().up = true;
  rig.advance(1s);
  REQUIRE(rig.verdicts.size() == 2);
  CHECK(rig.verdicts[1].first);
  CHECK(ms(rig.verdict_at[1] - TimePoint{}) == 5500);
}

TEST_CASE("postgres monitor: a server closing the socket fails at once, despite fall") {
  PostgresCheckParams p = params();
  p.fall = 3;
  Rig rig(p);
  rig.start();
  REQUIRE(rig.monitor.passing());
  rig.advance(250ms);
  TimePoint killed = rig.now;
  rig.local().kill();  // EOF on our socket; new connections refused
  rig.settle();         // no time passes: the loop sees EPOLLIN|EPOLLHUP
  REQUIRE(rig.verdicts.size() == 2);
  CHECK_FALSE(rig.verdicts[1].first);
  CHECK(rig.verdict_at[1] == killed);
  CHECK(rig.verdicts[1].second.find("connection lost") != std::string::npos);
  CHECK(rig.verdicts[1].second.find("reconnect failed") != std::string::npos);
  CHECK_FALSE(rig.monitor.facts().alive);
  CHECK(rig.monitor.facts().alive_changed_at == killed);
  // The last answer is kept, as last known.
  CHECK(rig.monitor.facts().role() == PgRole::primary);
}

TEST_CASE("postgres monitor: a killed session on a live server is not a failure") {
  Rig rig(params());
  rig.start();
  rig.advance(250ms);
  rig.local().terminate_sessions();
  rig.settle();
  CHECK(rig.verdicts.size() == 1);  // only the first pass
  CHECK(rig.monitor.passing());
  CHECK(rig.local().connects == 2);  // reconnected at once
  CHECK(rig.local().queries == 2);   // and asked again
}

TEST_CASE("postgres monitor: a query left unanswered fails at timeout, then reconnects") {
  Rig rig(params());
  rig.start();
  rig.local().answers = false;  // SIGSTOPped: accepts, never answers
  rig.advance(1s);              // the next query goes out at 1 s
  CHECK(rig.monitor.local().state() == PgLink::State::querying);
  rig.advance(499ms);
  CHECK(rig.verdicts.size() == 1);
  rig.advance(1ms);
  REQUIRE(rig.verdicts.size() == 2);
  CHECK_FALSE(rig.verdicts[1].first);
  CHECK(ms(rig.verdict_at[1] - TimePoint{}) == 1500);
  CHECK(rig.verdicts[1].second == "local: no answer within 500 ms");
  // Dropped; reconnects after retry_min (the hung server never finishes the startup).
  CHECK(rig.monitor.local().state() == PgLink::State::down);
  CHECK(rig.local().open.empty());
  rig.local().hang_connect = true;
  rig.advance(100ms);
  CHECK(rig.local().connects == 2);
  CHECK(rig.monitor.local().state() == PgLink::State::connecting);
  rig.advance(500ms);
  CHECK(rig.monitor.local().state() == PgLink::State::down);
  CHECK(rig.monitor.facts().error == "local: connect timed out after 500 ms");

  // Resumed (SIGCONT): passes again at the next attempt (backoff 200 ms).
  rig.local().hang_connect = false;
  rig.local().answers = true;
  rig.advance(200ms);
  REQUIRE(rig.verdicts.size() == 3);
  CHECK(rig.verdicts[2].first);
}

TEST_CASE("postgres monitor: a timeout is extended by the time the loop was blind meanwhile") {
  // The daemon stopped 2 s while a query was out: its answer may be sitting
  // unread in the socket, so the 500 ms are counted in time awake.
  Rig rig(params());
  Duration blind{};
  TimePoint asked_since{};
  rig.monitor.local().set_blind_meter([&](TimePoint since) {
    asked_since = since;
    return blind;
  });
  rig.start();
  rig.local().answers = false;
  rig.advance(1s);  // the query goes out at 1 s
  REQUIRE(rig.monitor.local().state() == PgLink::State::querying);
  blind = 2s;
  rig.advance(500ms);
  CHECK(asked_since == TimePoint{} + 1s);
  CHECK(rig.verdicts.size() == 1);  // not failed at 1.5 s
  CHECK(rig.monitor.local().state() == PgLink::State::querying);
  rig.advance(1999ms);
  CHECK(rig.verdicts.size() == 1);
  rig.advance(1ms);
  REQUIRE(rig.verdicts.size() == 2);
  CHECK(ms(rig.verdict_at[1] - TimePoint{}) == 3500);
  CHECK(rig.verdicts[1].second == "local: no answer within 500 ms");
}

TEST_CASE("postgres monitor: rise and fall count answers and failed queries") {
  PostgresCheckParams p = params();
  p.rise = 2;
  p.fall = 2;
  Rig rig(p);
  rig.start();
  CHECK(rig.verdicts.empty());
  CHECK(rig.monitor.facts().alive);  // the fact is immediate, the verdict is not
  rig.advance(1s);
  REQUIRE(rig.verdicts.size() == 1);
  CHECK(rig.verdicts[0].first);

  rig.local().query_error = "ERROR: canceling statement due to conflict with recovery";
  rig.advance(1s);
  CHECK(rig.verdicts.size() == 1);
  CHECK(rig.local().connects == 1);  // a query error keeps the connection
  rig.advance(1s);
  REQUIRE(rig.verdicts.size() == 2);
  CHECK_FALSE(rig.verdicts[1].first);
  CHECK(rig.verdicts[1].second.find("conflict with recovery") != std::string::npos);
  rig.local().query_error.reset();
  rig.advance(1s);
  CHECK(rig.verdicts.size() == 2);
  rig.advance(1s);
  CHECK(rig.verdicts.size() == 3);
}

TEST_CASE("postgres monitor: a promotion is seen at the next query, at once with fast poll") {
  Rig rig(params());
  rig.local().answer = Answer::streaming_standby("0/3000060", "0/3000060").result();
  rig.start();
  CHECK(rig.monitor.facts().role() == PgRole::standby);
  rig.advance(100ms);

  Answer promoted = Answer::primary("0/3000100", "2");
  promoted.checkpoint_timeline = "1";  // the end-of-recovery checkpoint is not done yet
  rig.monitor.set_fast_poll(true, rig.now);
  int queries = rig.local().queries;
  rig.settle();
  CHECK(rig.local().queries == queries + 1);  // at once
  rig.advance(100ms);
  CHECK(rig.local().queries == queries + 21);  // then every 5 ms
  rig.changes.clear();
  rig.local().answer = promoted.result();
  rig.advance(5ms);
  CHECK(rig.monitor.facts().role() == PgRole::primary);
  CHECK(rig.monitor.facts().timeline == 2);
  REQUIRE(rig.changes.size() == 1);
  CHECK((rig.changes[0] & kChangeRole));
  CHECK((rig.changes[0] & kChangeTimeline));

  rig.monitor.set_fast_poll(false, rig.now);
  queries = rig.local().queries;
  rig.advance(990ms);
  CHECK(rig.local().queries == queries);
  rig.advance(20ms);
  CHECK(rig.local().queries == queries + 1);
}

TEST_CASE("postgres monitor: poll_now while a query is outstanding asks once more") {
  Rig rig(params());
  rig.start();
  rig.local().answers = false;
  rig.advance(1s);
  int queries = rig.local().queries;
  rig.monitor.poll_now(rig.now);
  rig.monitor.poll_now(rig.now);
  rig.local().answers = true;
  rig.advance(10ms);
  CHECK(rig.local().queries == queries + 1);
}

TEST_CASE("postgres monitor: standby facts, and the peer's kept when the peer dies") {
  Rig rig(params(true));
  rig.local().answer = Answer::streaming_standby("0/3000000", "0/2FFFF00").result();
  rig.peer().answer = Answer::primary("0/3000800", "1").result();
  rig.start();
  const PgFacts& f = rig.monitor.facts();
  CHECK(f.role() == PgRole::standby);
  CHECK(f.streaming);
  CHECK(f.last_streaming_at == rig.now);
  CHECK(f.peer_alive);
  CHECK(f.peer_role() == PgRole::primary);
  CHECK(f.peer_primary_lsn == 0x3000800u);
  CHECK(f.receive_lag_bytes == 0x800u);
  CHECK(f.replay_lag_bytes == 0x900u);

  rig.advance(2s);
  TimePoint last_seen = rig.now;
  rig.advance(300ms);
  TimePoint died = rig.now;
  rig.peer().kill();
  // The WAL receiver stops as the primary dies.
  Answer stopped = Answer::streaming_standby("0/3000800", "0/3000800");
  stopped.receiver_status.reset();
  stopped.receiver_timeline.reset();
  stopped.receiver_latest_end_lsn.reset();
  rig.local().answer = stopped.result();
  rig.settle();
  CHECK_FALSE(f.peer_alive);
  CHECK(f.peer_alive_changed_at == died);
  CHECK(f.peer_error.find("Connection refused") != std::string::npos);
  CHECK(f.peer_role() == PgRole::primary);  // last known
  CHECK(f.peer_primary_lsn == 0x3000800u);
  CHECK(f.peer_primary_timeline == 1);
  CHECK(f.peer_primary_at == last_seen);
  CHECK(rig.monitor.passing());  // the peer never touches the verdict

  rig.advance(1s);
  CHECK_FALSE(f.streaming);
  CHECK(f.last_streaming_at == last_seen);
  CHECK(f.timeline == 1);  // the last received_tli, kept
  CHECK(f.receive_lag_bytes == 0u);  // caught up with the last known primary LSN
  // The peer keeps being retried without hammering.
  int connects = rig.peer().connects;
  rig.advance(3s);
  CHECK(rig.peer().connects - connects <= 5);
}

}  // namespace
}  // namespace pgvrrpd::checkers
