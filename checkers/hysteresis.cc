#include "checkers/checker.h"

namespace pgvrrpd::checkers {

std::optional<bool> Hysteresis::record(bool ok) {
  if (!known_) {
    streak_ = (streak_ > 0 && ok == last_) ? streak_ + 1 : 1;
    last_ = ok;
    if (streak_ < (ok ? rise_ : fall_)) return std::nullopt;
    known_ = true;
    passing_ = ok;
    streak_ = 0;
    return passing_;
  }
  if (ok == passing_) {
    streak_ = 0;
    return std::nullopt;
  }
  if (++streak_ < (passing_ ? fall_ : rise_)) return std::nullopt;
  passing_ = ok;
  streak_ = 0;
  return passing_;
}

std::optional<bool> Hysteresis::force(bool ok) {
  streak_ = 0;
  bool was_known = known_;
  known_ = true;
  if (was_known && ok == passing_) return std::nullopt;
  passing_ = ok;
  return passing_;
}

}  // namespace pgvrrpd::checkers
