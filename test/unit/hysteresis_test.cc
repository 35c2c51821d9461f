#include <doctest/doctest.h>

#include "checkers/checker.h"

using pgvrrpd::checkers::Hysteresis;

TEST_CASE("hysteresis: a check starts unknown and passes after rise good results") {
  Hysteresis h(2, 3);
  CHECK_FALSE(h.passing());
  CHECK_FALSE(h.known());
  CHECK_FALSE(h.record(true));
  CHECK(h.record(true) == true);
  CHECK(h.passing());
  CHECK(h.known());
}

TEST_CASE("hysteresis: a check failing from the start is reported after fall bad results") {
  Hysteresis h(2, 3);
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(true));  // a mixed start restarts the count
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(false));
  CHECK(h.record(false) == false);
  CHECK(h.known());
  CHECK_FALSE(h.passing());
}

TEST_CASE("hysteresis: force decides an unknown check at once") {
  Hysteresis h(3, 3);
  CHECK(h.force(false) == false);
  CHECK_FALSE(h.force(false));
}

TEST_CASE("hysteresis: a passing check fails after fall bad results in a row") {
  Hysteresis h(1, 3);
  CHECK(h.record(true) == true);
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(true));  // a good result breaks the streak
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(false));
  CHECK(h.record(false) == false);
  CHECK_FALSE(h.passing());
}

TEST_CASE("hysteresis: rise = fall = 1 follows every result") {
  Hysteresis h(1, 1);
  CHECK(h.record(true) == true);
  CHECK(h.record(false) == false);
  CHECK_FALSE(h.record(false));
  CHECK(h.record(true) == true);
}
