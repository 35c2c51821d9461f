// What every fuzz target uses: an invariant check that aborts with a message
// (libFuzzer then saves the input as a crash), whatever NDEBUG says.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                        \
  do {                                                                               \
    if (!(condition)) {                                                              \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,      \
                   #condition);                                                      \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
