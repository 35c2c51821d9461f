#!/bin/sh
# Builds the libFuzzer targets (test/fuzz) with clang in ./build-fuzz: the
# pure layers, checkers and notify instrumented for coverage, ASan and UBSan.
# packaging/setup.sh installs clang; packaging/test.sh calls this.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CC=clang CXX=clang++ cmake -S "$top" -B "$top/build-fuzz" -DPGVRRPD_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build-fuzz" -j "$(nproc)"
