#!/bin/sh
# Installs what is needed, builds, and runs the benchmark against keepalived
# (bench/benchmark.py; --quick for a short run, --out FILE to keep the
# report). Must run as root (network namespaces).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/setup.sh"
exec python3 "$top/bench/benchmark.py" --pgvrrpd "$top/build/pgvrrpd" "$@"
