#!/bin/sh
# Installs what is needed, builds, and runs the demo: two pgvrrpd nodes and a
# client in network namespaces; the master is killed and the VIP moves.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/setup.sh"
exec python3 "$top/test/integration/demo.py" --pgvrrpd "$top/build/pgvrrpd" "$@"
