#include "checkers/checker.h"

namespace pgvrrpd::checkers {

std::optional<bool> Hysteresis::record(bool ok) {
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
  if (ok == passing_) return std::nullopt;
  passing_ = ok;
  return passing_;
}

}  // namespace pgvrrpd::checkers
