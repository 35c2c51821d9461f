// Where the event loop reads the time. The daemon's loop reads the steady
// clock; a unit test hands the loop a clock it moves by hand, then runs what
// falls due with EventLoop::run_due(), so timer schedules (adverts, VIP
// lease refreshes, shutdown waits) are tested without sleeping.
#pragma once

#include "vrrpd/basics/time.h"

namespace pgvrrpd {

class LoopClock {
 public:
  virtual ~LoopClock() = default;
  virtual TimePoint now() const = 0;
};

// The daemon's clock: std::chrono::steady_clock (CLOCK_MONOTONIC, read
// through the vDSO: no system call).
class SteadyLoopClock final : public LoopClock {
 public:
  TimePoint now() const override { return Clock::now(); }
  // The one instance every EventLoop uses unless given another.
  static const SteadyLoopClock& instance() {
    static const SteadyLoopClock clock;
    return clock;
  }
};

}  // namespace pgvrrpd
