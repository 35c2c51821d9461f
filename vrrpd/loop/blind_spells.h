// The spells during which the event loop could not look at its sockets: the
// process was stopped (SIGSTOP, a debugger, a VM paused), a callback blocked,
// or epoll returned long after the time it was asked to. Whatever the daemon
// learns by asking (the peer's PostgreSQL answers) ages through such a spell
// without anyone having asked: a decision that judges an answer by its age
// must not count that part against it, or the daemon's own freeze reads as
// the peer's silence.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "vrrpd/basics/time.h"

namespace pgvrrpd {

class BlindSpells {
 public:
  // Older spells are forgotten: long before the oldest kept one ends, no
  // answer is fresh enough to matter anyway.
  static constexpr size_t kKept = 16;

  // REQUIRES: spells are recorded in time order and do not overlap.
  void record(TimePoint from, TimePoint to) {
    if (to <= from) return;
    spells_[next_ % kKept] = {from, to};
    ++next_;
    total_ += to - from;
  }

  // How much of [since, now] the loop spent blind.
  Duration within(TimePoint since, TimePoint now) const {
    Duration sum{};
    size_t kept = std::min(next_, kKept);
    for (size_t i = 0; i < kept; ++i) {
      const Spell& s = spells_[i];
      auto from = std::max(s.from, since), to = std::min(s.to, now);
      if (to > from) sum += to - from;
    }
    return sum;
  }

  size_t count() const { return next_; }
  Duration total() const { return total_; }

 private:
  struct Spell {
    TimePoint from, to;
  };
  std::array<Spell, kKept> spells_{};
  size_t next_ = 0;
  Duration total_{};
};

}  // namespace pgvrrpd
