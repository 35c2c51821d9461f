// A callback at a fixed rate from start(), as the interval checks need: the
// ticks do not drift with the callback's own run time, and after a stall (a
// suspended machine) the next tick is one interval from now rather than a
// burst of the missed ones.
#pragma once

#include <functional>
#include <utility>

#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd {

class PeriodicTimer {
 public:
  PeriodicTimer(EventLoop& loop, Duration interval, std::function<void()> callback)
      : loop_(loop), interval_(interval), callback_(std::move(callback)),
        timer_(loop, [this] { tick(); }) {}

  // The first tick runs now, inside this call.
  void start() {
    next_ = loop_.now();
    tick();
  }
  void stop() { timer_.disarm(); }

 private:
  void tick() {
    next_ += interval_;
    if (next_ <= loop_.now()) next_ = loop_.now() + interval_;
    timer_.arm(next_);
    callback_();
  }

  EventLoop& loop_;
  Duration interval_;
  std::function<void()> callback_;
  Timer timer_;
  TimePoint next_{};
};

}  // namespace pgvrrpd
