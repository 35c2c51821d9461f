// Skipping a test at run time, so that ctest's summary counts it.
//
// doctest 2.4 has no run-time skip: its skip() decorator is fixed when the
// test registers and hides the test from --list-test-cases, so ctest
// (doctest_discover_tests) would not list it at all. Instead a test that
// cannot run here says so in a MESSAGE and returns; test/CMakeLists.txt
// gives every unit test SKIP_REGULAR_EXPRESSION "MESSAGE: SKIPPED: ", and
// ctest reports it as "Skipped" (under "The following tests did not run").
// Run directly, the doctest binary prints the message and counts the test
// as passed.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

// Returns from the test case, reported as skipped, unless running as root.
#define SKIP_UNLESS_ROOT(why)                   \
  do {                                          \
    if (geteuid() != 0) {                       \
      MESSAGE("SKIPPED: needs root for " why);  \
      return;                                   \
    }                                           \
  } while (false)
