// Synchronous replication on two nodes (policy/sync_policy.h): the
// primary's steps into and out of synchronous mode, the setting's forms,
// and the standby's rule for promoting by itself.
#include "vrrpd/policy/sync_policy.h"

#include <doctest/doctest.h>

using namespace pgvrrpd;
using namespace std::chrono_literals;
using S = SyncSetting;

namespace {

const TimePoint kT0 = TimePoint{} + 1000s;
constexpr Duration kGrace = 4s;

// A primary server that applies at once what the keeper wants (a reload is
// a moment in the lab; here, one step).
struct Primary {
  SyncKeeper keeper;
  SyncApplied applied;

  explicit Primary(SyncMode mode, SyncApplied start = {}) : keeper(mode, kGrace), applied(start) {}
  S step(TimePoint now, bool healthy) {
    S want = keeper.step(now, healthy, applied);
    if (want != S::foreign)
      applied = parse_standby_names(standby_names_text(want, R"("n2")"));
    return want;
  }
};

}  // namespace

TEST_CASE("sync policy: the hold and the trust are durations of the grace") {
  CHECK(leaving_hold(4s) == 2s);
  CHECK(sync_trust(4s, 1s) == 900ms);
  CHECK(sync_trust(1s, 1s) == Duration::zero());
  CHECK(min_sync_grace(500ms, 1s) == 3400ms);
}

TEST_CASE("sync policy: the setting's forms, written and read back") {
  CHECK(standby_names_text(S::on, R"("n2")") == R"(FIRST 1 ("n2"))");
  CHECK(standby_names_text(S::leaving, "*") == "ANY 1 (*)");
  CHECK(standby_names_text(S::off, R"("n2")").empty());
  CHECK(parse_standby_names(R"(FIRST 1 ("n2"))") == SyncApplied{S::on, R"("n2")"});
  CHECK(parse_standby_names(R"(ANY 1 ("a""b"))") == SyncApplied{S::leaving, R"("a""b")"});
  CHECK(parse_standby_names("") == SyncApplied{S::off, ""});
  // An operator's own values are not pgvrrpd's.
  for (const char* foreign : {"n2", "*", "FIRST 2 (a, b)", R"(FIRST 1 ("a"b"))",
                              R"(FIRST 1 ("n2", "x"))", "ANY 1 (n2)", "FIRST 1 ()"})
    CHECK_MESSAGE(parse_standby_names(foreign).setting == S::foreign, foreign);
  CHECK(quoted_standby_name("walreceiver") == R"("walreceiver")");
  CHECK(quoted_standby_name(R"(x", *)") == R"("x"", *")");
  CHECK_FALSE(quoted_standby_name("a\nb").has_value());
  CHECK_FALSE(quoted_standby_name("").has_value());
  // Quoted as a name, then as an SQL literal.
  auto st = standby_names_statements(standby_names_text(S::on, *quoted_standby_name("o'b")));
  CHECK(st == std::vector<std::string>{
                  R"(ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ("o''b")')",
                  "SELECT pg_reload_conf()"});
}

TEST_CASE("sync policy: on names a healthy standby, leaves after the grace through leaving") {
  Primary p(SyncMode::on);
  CHECK(p.step(kT0, true) == S::on);
  CHECK(p.keeper.next_deadline() == std::nullopt);
  // The standby goes away at kT0 + 1 s (its last healthy reading was kT0).
  CHECK(p.step(kT0 + 1s, false) == S::on);
  CHECK(p.keeper.next_deadline() == kT0 + 2s);  // grace - hold after the last healthy
  CHECK(p.step(kT0 + 1900ms, false) == S::on);
  CHECK(p.step(kT0 + 2s, false) == S::leaving);
  // "leaving" is seen applied from the next step on: the hold counts from there.
  CHECK(p.step(kT0 + 2100ms, false) == S::leaving);
  CHECK(p.keeper.next_deadline() == kT0 + 4100ms);
  CHECK(p.step(kT0 + 4s, false) == S::leaving);
  CHECK(p.step(kT0 + 4100ms, false) == S::off);
  CHECK(p.step(kT0 + 5s, false) == S::off);
  // Back and caught up: named again.
  CHECK(p.step(kT0 + 6s, true) == S::on);
}

TEST_CASE("sync policy: a standby back during leaving makes it on again, and the grace restarts") {
  Primary p(SyncMode::on);
  p.step(kT0, true);
  p.step(kT0 + 2s, false);  // leaving asked
  p.step(kT0 + 2100ms, false);
  REQUIRE(p.applied.setting == S::leaving);
  CHECK(p.step(kT0 + 3s, true) == S::on);
  CHECK(p.step(kT0 + 3500ms, false) == S::on);
  CHECK(p.step(kT0 + 4900ms, false) == S::on);
  CHECK(p.step(kT0 + 5s, false) == S::leaving);
}

TEST_CASE("sync policy: strict never leaves; off touches nothing it did not set") {
  Primary strict(SyncMode::strict);
  CHECK(strict.step(kT0, false) == S::on);
  CHECK(strict.step(kT0 + 1h, false) == S::on);
  CHECK(strict.keeper.next_deadline() == std::nullopt);

  // Started with off: an operator's value, or one left from an earlier
  // run, is left alone.
  SyncKeeper off(SyncMode::off, kGrace);
  CHECK(off.step(kT0, true, {S::foreign, ""}) == S::foreign);
  CHECK(off.step(kT0, false, parse_standby_names(R"(FIRST 1 ("n2"))")) == S::on);

  // Switched off by a reload while synchronous: through leaving, even with
  // the standby healthy (it may be about to go away).
  Primary was_on(SyncMode::on);
  was_on.step(kT0, true);
  was_on.keeper.set_mode(SyncMode::off);
  CHECK(was_on.step(kT0 + 1s, true) == S::leaving);
  CHECK(was_on.step(kT0 + 1100ms, true) == S::leaving);
  CHECK(was_on.step(kT0 + 3100ms, true) == S::off);
}

TEST_CASE("sync policy: a primary that starts with an unhealthy standby counts from its first look") {
  // Named by an earlier run, the standby not there now.
  Primary p(SyncMode::on, {S::on, R"("n2")"});
  CHECK(p.step(kT0, false) == S::on);
  CHECK(p.step(kT0 + 2s, false) == S::leaving);
  // Never named, standby unhealthy: stays asynchronous.
  Primary fresh(SyncMode::on);
  CHECK(fresh.step(kT0, false) == S::off);
  // An operator's value under synchronous = on becomes pgvrrpd's.
  Primary taken(SyncMode::on, {S::foreign, ""});
  CHECK(taken.step(kT0, false) == S::on);
}

TEST_CASE("sync policy: the standby promotes by itself only on a fresh 'synchronous'") {
  const Duration timeout = 1s;  // the peer check's; trust = 2 - 1 - 0.1 = 0.9 s
  auto reading = [](S s, TimePoint at) { return std::optional<SyncReading>(SyncReading{s, at}); };
  CHECK(sync_promotion_blocker(SyncMode::off, std::nullopt, kT0, kGrace, timeout) ==
        std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::on, std::nullopt, kT0, kGrace, timeout)
            ->find("never read") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(S::on, kT0), kT0 + 900ms, kGrace,
                               timeout) == std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::strict, reading(S::on, kT0), kT0 + 500ms, kGrace,
                               timeout) == std::nullopt);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(S::on, kT0), kT0 + 901ms, kGrace, timeout)
            ->find("0.9 s ago, longer than that can be trusted (0.9 s)") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(S::leaving, kT0), kT0, kGrace, timeout)
            ->find("leaving") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(S::off, kT0), kT0, kGrace, timeout)
            ->find("asynchronous") != std::string::npos);
  CHECK(sync_promotion_blocker(SyncMode::on, reading(S::foreign, kT0), kT0, kGrace, timeout)
            ->find("not one pgvrrpd wrote") != std::string::npos);
}

TEST_CASE("sync policy: no interleaving lets the standby trust a primary that has gone async") {
  // The primary steps every 10 ms and the standby reads it every 10 ms,
  // each reading up to the peer timeout old when it comes; the standby
  // goes away (cut off: it reads nothing more) or falls behind (it still
  // reads) at a given moment. Whenever the standby would promote by
  // itself, the primary must still have been naming it at that moment.
  const Duration timeout = 300ms;
  for (bool lagging : {false, true}) {
    for (Duration away : {0ms, 5ms, 1000ms, 1995ms, 2000ms, 2005ms, 3333ms}) {
      for (Duration answer_age : {0ms, 150ms, 300ms}) {
        Primary p(SyncMode::on);
        std::optional<SyncReading> last;
        std::optional<TimePoint> cleared_at;
        for (Duration t = 0ms; t < 10s; t += 10ms) {
          TimePoint now = kT0 + t;
          bool healthy = t < away;
          p.step(now, healthy);
          if (p.applied.setting == S::off && !cleared_at) cleared_at = now;
          // This moment's reading arrives answer_age later.
          if (healthy || lagging) last = SyncReading{p.applied.setting, now + answer_age};
          TimePoint standby_now = now + answer_age;
          bool may_promote =
              !sync_promotion_blocker(SyncMode::on, last, standby_now, kGrace, timeout);
          if (may_promote && cleared_at)
            CHECK_MESSAGE(standby_now < *cleared_at, "away " << away.count() << " age "
                                                             << answer_age.count()
                                                             << " lagging " << lagging);
        }
        CHECK(cleared_at.has_value());
      }
    }
  }
}

TEST_CASE("sync policy: the flush counts as stalled after standing still behind the WAL") {
  FlushWatch watch(1s);
  CHECK(watch.observe(kT0, 100, 100));  // level
  CHECK_FALSE(watch.stalls_at(kT0));
  CHECK(watch.observe(kT0 + 100ms, 100, 150));  // behind: the count starts here
  CHECK(watch.stalls_at(kT0 + 100ms) == kT0 + 1100ms);
  CHECK(watch.observe(kT0 + 600ms, 120, 150));  // moved: afresh
  CHECK(watch.observe(kT0 + 1500ms, 120, 160));
  CHECK_FALSE(watch.observe(kT0 + 1600ms, 120, 170));  // still since 600 ms
  CHECK_FALSE(watch.stalls_at(kT0 + 1600ms));
  CHECK(watch.observe(kT0 + 1700ms, 170, 170));  // caught up
}

TEST_CASE("sync policy: the first commit after a quiet spell is not a stalled flush") {
  FlushWatch watch(1s);
  CHECK(watch.observe(kT0, 100, 100));
  // No reading for a minute (an idle primary's facts stand still), then one
  // taken while a commit waits for the standby: the flush has not moved
  // since the last reading, but nothing waited before this one.
  CHECK(watch.observe(kT0 + 60s, 100, 150));
  CHECK(watch.stalls_at(kT0 + 60s) == kT0 + 61s);
  CHECK_FALSE(watch.observe(kT0 + 61s, 100, 150));
}

TEST_CASE("sync policy: no flush position is never moving") {
  FlushWatch watch(1s);
  CHECK(watch.observe(kT0, std::nullopt, 100));
  CHECK(watch.observe(kT0 + 500ms, std::nullopt, 100));
  CHECK_FALSE(watch.observe(kT0 + 1500ms, std::nullopt, 100));
}
