#!/bin/sh
# Installs what is needed, builds, and runs the whole test suite with ctest:
# unit tests (under ASan/UBSan) and integration tests in network namespaces.
# Must run as root (namespaces, raw sockets).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/setup.sh"
cd "$top/build"
exec ctest --output-on-failure "$@"
