// PeriodicTimer: a fixed rate from start(), no drift, no burst after a stall.
#include <doctest/doctest.h>

#include <vector>

#include "fake_clock.h"
#include "vrrpd/loop/periodic_timer.h"

namespace pgvrrpd {
namespace {

using namespace std::chrono_literals;

TEST_CASE("periodic timer: ticks at start, then every interval from the start") {
  testing::FakeTimeLoop t;
  std::vector<TimePoint> ticks;
  PeriodicTimer timer(t.loop, 100ms, [&] { ticks.push_back(t.now()); });
  TimePoint start = t.now();
  timer.start();
  REQUIRE(ticks.size() == 1);
  t.run_for(1000ms);
  REQUIRE(ticks.size() == 11);
  for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == start + i * 100ms);
}

TEST_CASE("periodic timer: a check's interval at its smallest and largest value (0.01 s, "
          "3600 s)") {
  // The checks' interval key; run_until fails on a wake-up in the past or a
  // zero period.
  for (Duration interval : {Duration(10ms), Duration(3600s)}) {
    CAPTURE(std::chrono::duration<double>(interval).count());
    testing::FakeTimeLoop t;
    std::vector<TimePoint> ticks;
    PeriodicTimer timer(t.loop, interval, [&] { ticks.push_back(t.now()); });
    TimePoint start = t.now();
    timer.start();
    t.run_for(100 * interval);
    REQUIRE(ticks.size() == 101);
    for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == start + i * interval);
  }
}

TEST_CASE("periodic timer: after a stall, one tick and then one interval on, not a burst") {
  testing::FakeTimeLoop t;
  std::vector<TimePoint> ticks;
  PeriodicTimer timer(t.loop, 100ms, [&] { ticks.push_back(t.now()); });
  timer.start();
  t.clock.advance(1050ms);  // the machine was suspended
  t.run_due();
  REQUIRE(ticks.size() == 2);
  TimePoint resumed = t.now();
  t.run_for(250ms);
  REQUIRE(ticks.size() == 4);
  CHECK(ticks[2] == resumed + 100ms);
  CHECK(ticks[3] == resumed + 200ms);
}

TEST_CASE("periodic timer: stop() ends the ticks") {
  testing::FakeTimeLoop t;
  int ticks = 0;
  PeriodicTimer timer(t.loop, 100ms, [&] { ++ticks; });
  timer.start();
  timer.stop();
  t.run_for(1s);
  CHECK(ticks == 1);
}

}  // namespace
}  // namespace pgvrrpd
