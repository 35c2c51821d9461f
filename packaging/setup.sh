#!/bin/sh
# Installs every Debian package pgvrrpd needs to build, test and run its
# demo, then builds it in ./build. Idempotent; run as root on Debian 12.
# Sourced by packaging/demo.sh and packaging/test.sh.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

packages="build-essential cmake pkg-config
  libnl-3-dev libnl-route-3-dev libinih-dev libfmt-dev doctest-dev libpq-dev
  iproute2 iputils-ping python3 keepalived tshark tcpdump nftables
  postgresql-15 postgresql-client-15 shellcheck clang libclang-rt-14-dev
  systemd util-linux lintian dpkg-dev man-db python3-seccomp
  patroni etcd-server etcd-client
  vip-manager postgresql-15-auto-failover repmgr postgresql-15-repmgr pgpool2 iputils-arping curl"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # keepalived, postgresql and etcd-server start a service on install;
  # nothing of ours may run in the machine's own namespace (its uplink is a
  # real network), so forbid service starts while installing (policy-rc.d,
  # exit 101). The benchmarks run etcd, Patroni, vip-manager, the
  # pg_auto_failover monitor, repmgrd and pgpool in labs.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
  fi
  apt-get update -qq
  # tshark asks whether non-root users may capture; the default (no) is fine.
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  if [ -n "$own_policy" ]; then rm -f "$policy"; fi
  # Their packages also enable units for the next boot: the benchmarks
  # run their own in labs, none belongs on the machine.
  for pkg_unit in etcd-server:etcd patroni:patroni vip-manager:vip-manager \
    pgpool2:pgpool2 repmgr:repmgrd; do
    case "$missing " in
      *" ${pkg_unit%%:*} "*)
        systemctl disable "${pkg_unit#*:}.service" >/dev/null 2>&1 || true ;;
    esac
  done
fi

cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j "$(nproc)"
