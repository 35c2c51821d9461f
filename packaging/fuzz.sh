#!/bin/sh
# Builds the libFuzzer targets and runs each one long, printing a table of
# executions per target:
#   ./packaging/fuzz.sh                    # 10 million executions each
#   ./packaging/fuzz.sh --runs N [NAME...]
#   ./packaging/fuzz.sh --seconds S [NAME...]
# Targets and seeds: test/fuzz. A finding stops nothing: the table says
# FAILED and the input is kept in build-fuzz/artifacts.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mode=--runs
amount=10000000
case ${1:-} in
  --runs|--seconds) mode=$1; amount=${2:?}; shift 2 ;;
esac
"$top/packaging/setup.sh"
"$top/packaging/build_fuzzers.sh"
targets=${*:-$(sed -n 's/^set(FUZZ_TARGETS_[a-z]* \(.*\))$/\1/p' "$top/test/fuzz/targets.cmake")}
failed=0
echo "| target | result |"
echo "|---|---|"
for name in $targets; do
  line=$("$top/test/fuzz/run_fuzzer.sh" "$name" "$mode" "$amount" | tail -1) || failed=1
  echo "| $name | ${line#fuzz "$name": } |"
done
exit $failed
