#!/bin/sh
# Installs what is needed, builds, and runs the whole test suite with ctest:
# unit tests (under ASan/UBSan), the fuzz targets briefly (their clang build
# in ./build-fuzz), and integration tests in network namespaces.
# Must run as root (namespaces, raw sockets).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/setup.sh"
"$top/packaging/build_fuzzers.sh"
cd "$top/build"
exec ctest --output-on-failure "$@"
