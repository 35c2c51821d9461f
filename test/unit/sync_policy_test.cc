// Synchronous replication on two nodes (policy/sync_policy.h): the
// primary's steps into and out of synchronous mode, and the standby's rule
// for promoting by itself.
#include "vrrpd/policy/sync_policy.h"

#include <doctest/doctest.h>

using namespace pgvrrpd;
using namespace std::chrono_literals;
using A = SyncAnnouncement;

namespace {

const TimePoint kT0 = TimePoint{} + 1000s;
constexpr Duration kGrace = 4s;

// A primary server that applies at once what the keeper wants (a reload is
// a moment in the lab; here, one step).
struct Primary {
  SyncKeeper keeper;
  SyncApplied applied;

  explicit Primary(SyncMode mode, SyncApplied start = {}) : keeper(mode, kGrace), applied(start) {}
  SyncWanted step(TimePoint now, bool healthy) {
    SyncWanted w = keeper.step(now, healthy, applied);
    applied = {w.standby_named, w.announcement};
    return w;
  }
};

}  // namespace

TEST_CASE("sync policy: the hold and the trust are durations of the grace") {
  CHECK(leaving_hold(4s) == 2s);
  CHECK(sync_trust(4s, 1s) == 900ms);
  CHECK(sync_trust(1s, 1s) == Duration::zero());
  CHECK(min_sync_grace(500ms, 1s) == 3400ms);
  CHECK(parse_announcement("leaving") == A::leaving);
  CHECK(parse_announcement("") == A::none);
  CHECK_FALSE(parse_announcement("yes").has_value());
}

TEST_CASE("sync policy: on names a healthy standby, leaves after the grace through leaving") {
  Primary p(SyncMode::on);
  CHECK(p.step(kT0, true) == SyncWanted{true, A::on});
  CHECK(p.keeper.next_deadline() == std::nullopt);
  // The standby goes away at kT0 + 1 s (its last healthy reading was kT0).
  CHECK(p.step(kT0 + 1s, false) == SyncWanted{true, A::on});
  CHECK(p.keeper.next_deadline() == kT0 + 2s);  // grace - hold after the last healthy
  CHECK(p.step(kT0 + 1900ms, false) == SyncWanted{true, A::on});
  CHECK(p.step(kT0 + 2s, false) == SyncWanted{true, A::leaving});
  // "leaving" is seen applied from the next step on: the hold counts from there.
  CHECK(p.step(kT0 + 2100ms, false) == SyncWanted{true, A::leaving});
  CHECK(p.keeper.next_deadline() == kT0 + 4100ms);
  CHECK(p.step(kT0 + 4s, false) == SyncWanted{true, A::leaving});
  CHECK(p.step(kT0 + 4100ms, false) == SyncWanted{false, A::off});
  CHECK(p.step(kT0 + 5s, false) == SyncWanted{false, A::off});
  // Back and caught up: named again.
  CHECK(p.step(kT0 + 6s, true) == SyncWanted{true, A::on});
}

TEST_CASE("sync policy: a standby back during leaving makes it on again, and the grace restarts") {
  Primary p(SyncMode::on);
  p.step(kT0, true);
  p.step(kT0 + 2s, false);  // leaving asked
  p.step(kT0 + 2100ms, false);
  REQUIRE(p.applied.announcement == A::leaving);
  CHECK(p.step(kT0 + 3s, true) == SyncWanted{true, A::on});
  CHECK(p.step(kT0 + 3500ms, false) == SyncWanted{true, A::on});
  CHECK(p.step(kT0 + 4900ms, false) == SyncWanted{true, A::on});
  CHECK(p.step(kT0 + 5s, false) == SyncWanted{true, A::leaving});
}

TEST_CASE("sync policy: strict never leaves; off undoes only what pgvrrpd set") {
  Primary strict(SyncMode::strict);
  CHECK(strict.step(kT0, false) == SyncWanted{true, A::strict});
  CHECK(strict.step(kT0 + 1h, false) == SyncWanted{true, A::strict});
  CHECK(strict.keeper.next_deadline() == std::nullopt);

  // An operator's own synchronous_standby_names, no announcement: untouched.
  Primary own(SyncMode::off, {true, A::none});
  CHECK(own.step(kT0, true) == SyncWanted{true, A::none});
  Primary plain(SyncMode::off);
  CHECK(plain.step(kT0, true) == SyncWanted{false, A::none});

  // Switched off by a reload while synchronous: through leaving, even with
  // the standby healthy (it may be about to go away).
  Primary was_on(SyncMode::on);
  was_on.step(kT0, true);
  was_on.keeper.set_mode(SyncMode::off);
  CHECK(was_on.step(kT0 + 1s, true) == SyncWanted{true, A::leaving});
  CHECK(was_on.step(kT0 + 1100ms, true) == SyncWanted{true, A::leaving});
  CHECK(was_on.step(kT0 + 3100ms, true) == SyncWanted{false, A::off});
}

TEST_CASE("sync policy: a primary that starts with an unhealthy standby counts from its first look") {
  // Named by an earlier run, the standby not there now.
  Primary p(SyncMode::on, {true, A::on});
  CHECK(p.step(kT0, false) == SyncWanted{true, A::on});
  CHECK(p.step(kT0 + 2s, false) == SyncWanted{true, A::leaving});
  // Never named, standby unhealthy: asynchronous, said so.
  Primary fresh(SyncMode::on);
  CHECK(fresh.step(kT0, false) == SyncWanted{false, A::off});
}

TEST_CASE("sync policy: the standby promotes by itself only on a fresh 'on' or 'strict'") {
  const Duration timeout = 1s;  // the peer check's; trust = 2 - 1 - 0.1 = 0.9 s
  auto reading = [](bool named, A a, TimePoint at) {
    return std::optional<SyncReading>(SyncReading{named, a, at});
  };
  CHECK(sync_promotion_blocker(SyncMode::off, std::nullopt, kT0, kGrace, timeout) ==
        std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::on, std::nullopt, kT0, kGrace, timeout)
            ->find("never read") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(true, A::on, kT0), kT0 + 900ms, kGrace,
                               timeout) == std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::strict, reading(true, A::strict, kT0), kT0 + 500ms,
                               kGrace, timeout) == std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(true, A::on, kT0), kT0 + 901ms, kGrace,
                               timeout)
            ->find("0.9 s ago, longer than that can be trusted (0.9 s)") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(true, A::leaving, kT0), kT0, kGrace, timeout)
            ->find("leaving") != std::string::npos);
  for (A a : {A::off, A::none})
    CHECK(sync_promotion_blocker(SyncMode::on, reading(false, a, kT0), kT0, kGrace, timeout)
              ->find("asynchronous") != std::string::npos);
  // "on" with no name: someone cleared synchronous_standby_names by hand.
  CHECK(sync_promotion_blocker(SyncMode::on, reading(false, A::on, kT0), kT0, kGrace, timeout)
            ->find("asynchronous") != std::string::npos);
}

TEST_CASE("sync policy: no interleaving lets the standby trust a primary that has gone async") {
  // The primary steps every 10 ms and the standby reads it every 10 ms,
  // each reading up to the peer timeout old when it comes; the standby
  // goes away (cut off: it reads nothing more) or falls behind (it still
  // reads) at a given moment. Whenever the standby would promote by
  // itself, the primary must still have been naming it at that moment.
  const Duration timeout = 300ms;
  for (bool lagging : {false, true})
  for (Duration away : {0ms, 5ms, 1000ms, 1995ms, 2000ms, 2005ms, 3333ms}) {
    for (Duration answer_age : {0ms, 150ms, 300ms}) {
      Primary p(SyncMode::on);
      std::optional<SyncReading> last;
      std::optional<TimePoint> cleared_at;
      for (Duration t = 0ms; t < 10s; t += 10ms) {
        TimePoint now = kT0 + t;
        bool healthy = t < away;
        p.step(now, healthy);
        if (!p.applied.standby_named && !cleared_at) cleared_at = now;
        // The standby's reading of this moment arrives answer_age later;
        // cut off, it reads no more (a partition: it still runs).
        if (healthy || lagging) last = SyncReading{p.applied.standby_named, p.applied.announcement,
                                        now + answer_age};
        TimePoint standby_now = now + answer_age;
        bool may_promote =
            !sync_promotion_blocker(SyncMode::on, last, standby_now, kGrace, timeout);
        if (may_promote && cleared_at)
          CHECK_MESSAGE(standby_now < *cleared_at,
                        "away " << away.count() << " age " << answer_age.count() << " lagging "
                                << lagging);
      }
      CHECK(cleared_at.has_value());
    }
  }
}

TEST_CASE("sync policy: the statements name before announcing, and announce before clearing") {
  const std::string names = R"("n2")";
  auto st = sync_statements({false, A::off}, {true, A::on}, names);
  REQUIRE(st.size() == 3);
  CHECK(st[0] == R"(ALTER SYSTEM SET synchronous_standby_names = '"n2"')");
  CHECK(st[1] == "ALTER SYSTEM SET pgvrrpd.sync = 'on'");
  CHECK(st[2] == "SELECT pg_reload_conf()");
  st = sync_statements({true, A::leaving}, {false, A::off}, names);
  REQUIRE(st.size() == 3);
  CHECK(st[0] == "ALTER SYSTEM SET pgvrrpd.sync = 'off'");
  CHECK(st[1] == "ALTER SYSTEM SET synchronous_standby_names = ''");
  st = sync_statements({true, A::on}, {true, A::leaving}, names);
  CHECK(st == std::vector<std::string>{"ALTER SYSTEM SET pgvrrpd.sync = 'leaving'",
                                       "SELECT pg_reload_conf()"});
  CHECK(sync_statements({true, A::on}, {true, A::on}, names).empty());
}

TEST_CASE("sync policy: a standby's name is quoted as a name, and as an SQL literal") {
  CHECK(standby_names_value("walreceiver") == R"("walreceiver")");
  CHECK(standby_names_value(R"(x", *)") == R"("x"", *")");
  CHECK_FALSE(standby_names_value("a\nb").has_value());
  CHECK_FALSE(standby_names_value("").has_value());
  auto st = sync_statements({false, A::off}, {true, A::on}, *standby_names_value("o'brien"));
  CHECK(st[0] == R"(ALTER SYSTEM SET synchronous_standby_names = '"o''brien"')");
}
