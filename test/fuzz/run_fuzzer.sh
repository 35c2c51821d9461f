#!/bin/sh
# Runs one libFuzzer target from ./build-fuzz on its seed corpus:
#   run_fuzzer.sh NAME --seconds S      (ctest: a short fixed time)
#   run_fuzzer.sh NAME --runs N         (packaging/fuzz.sh: N executions)
# New inputs go to a temporary directory, never into the repository's seeds.
# Prints one line "fuzz NAME: EXECUTIONS executions in SECONDS s" and exits
# non-zero on a finding (the input is kept in FUZZ_ARTIFACTS, default
# build-fuzz/artifacts). Exits 77 (ctest: skipped) when the target is not
# built: packaging/build_fuzzers.sh builds them.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:?usage: run_fuzzer.sh NAME --seconds S | --runs N}
case ${2:-} in
  --seconds) limit="-max_total_time=${3:?}" ;;
  --runs) limit="-runs=${3:?}" ;;
  *) echo "usage: run_fuzzer.sh NAME --seconds S | --runs N" >&2; exit 2 ;;
esac
binary=$top/build-fuzz/test/fuzz/fuzz_$name
if [ ! -x "$binary" ]; then
  echo "SKIPPED: $binary is not built (packaging/build_fuzzers.sh)"
  exit 77
fi
artifacts=${FUZZ_ARTIFACTS:-$top/build-fuzz/artifacts}
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/fuzz-"$name"-XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/log
status=0
"$binary" "$limit" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
  "$work" "$top/test/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
if [ "$status" -ne 0 ]; then
  tail -40 "$log"
  echo "fuzz $name: FAILED (exit $status) after ${runs:-?} executions; input in $artifacts"
  exit 1
fi
echo "fuzz $name: ${runs:-?} executions in ${seconds:-?} s"
