#!/bin/sh
# Checks that a binary carries the hardening the top CMakeLists.txt asks for:
# a position-independent executable, full RELRO (GNU_RELRO and BIND_NOW),
# the stack protector and _FORTIFY_SOURCE (the __*_chk functions it calls).
set -eu
bin=${1:?usage: check_hardening.sh BINARY}
fail=0
headers=$(readelf -h -l -d "$bin")
symbols=$(readelf --dyn-syms -W "$bin")
check() {
  if printf '%s\n' "$2" | grep -Eq "$3"; then
    echo "ok: $1"
  else
    echo "missing: $1" >&2
    fail=1
  fi
}
check "position-independent executable" "$headers" 'Type: +DYN'
check "read-only relocations (GNU_RELRO)" "$headers" 'GNU_RELRO'
check "immediate binding (BIND_NOW)" "$headers" 'FLAGS.*BIND_NOW|FLAGS_1.*NOW'
check "stack protector (__stack_chk_fail)" "$symbols" '__stack_chk_fail'
check "_FORTIFY_SOURCE (__*_chk functions)" "$symbols" '__[a-z_]+_chk@'
exit "$fail"
