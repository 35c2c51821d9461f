// A clock the test moves by hand, and the loop driven by it: run_until()
// steps from one wake-up of the loop to the next, firing each timer at its
// own deadline, as the daemon's loop would if every callback took no time.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>

#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/loop/loop_clock.h"

namespace pgvrrpd::testing {

class FakeClock final : public LoopClock {
 public:
  TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  void advance(Duration d) { now_ += d; }

 private:
  // Far from zero, so that "a time before the start" is representable.
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
};

// A loop on a FakeClock.
struct FakeTimeLoop {
  FakeClock clock;
  EventLoop loop{clock};

  TimePoint now() const { return clock.now(); }

  // Runs what is due now (fds already readable too, once the loop is open).
  void run_due() { REQUIRE(loop.run_due().is_ok()); }

  // Moves the clock to `until`, stopping at every wake-up the loop asks for
  // on the way and running what is due there. Fails the test if the loop
  // asks to be woken in the past, or keeps asking for the same moment (a
  // timer re-armed with a zero period would spin the daemon's loop).
  void run_until(TimePoint until) {
    run_due();
    int spins = 0;
    while (auto wake = loop.next_wakeup()) {
      if (*wake > until) break;
      REQUIRE_MESSAGE(*wake >= clock.now(), "a wake-up in the past");
      if (*wake == clock.now()) {
        REQUIRE_MESSAGE(++spins < 1000, "the loop spins without time passing");
      } else {
        spins = 0;
      }
      clock.set(*wake);
      run_due();
    }
    clock.set(std::max(clock.now(), until));
    run_due();
  }
  void run_for(Duration d) { run_until(clock.now() + d); }
};

}  // namespace pgvrrpd::testing
