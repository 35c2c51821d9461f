# shellcheck shell=sh
# Sourced by the shipped hooks (not a hook itself).
#
# pgvrrpd runs the hooks as hook_user, by default its own user: the
# cluster's owner (postgres) under the shipped systemd unit, or root where
# an operator runs pgvrrpd as root (and may start and stop PostgreSQL's unit
# with systemctl). PostgreSQL's programs refuse to run as root, and a root
# without CAP_DAC_OVERRIDE may not even look into the 0700 data directory:
# so as root, as_owner runs a command as the owner of PGDATA; as anyone
# else it runs it as it is.
# hook_uid: the effective uid, read with builtins only (no $(...) either:
# the shell forks for it). A hook's first steps are in the write outage,
# and each process costs milliseconds, tens on a loaded machine.
hook_uid=
while read -r key _real effective _rest; do
  if [ "$key" = "Uid:" ]; then
    hook_uid=$effective
    break
  fi
done </proc/self/status

as_owner() {
  if [ "$hook_uid" != 0 ]; then
    "$@"
    return
  fi
  : "${PGDATA:?PGDATA must be set (hook_env in pgvrrpd.ini)}"
  # Looked up once per hook run (one process: stat); HOME from /etc/passwd
  # (an owner known only through NSS gets HOME=/).
  if [ -z "${owner_uid:-}" ]; then
    owner=$(stat -L -c '%u %g' -- "$PGDATA") || return 1
    owner_uid=${owner% *} owner_gid=${owner#* }
    owner_home=/
    while IFS=: read -r _name _pw uid _gid _gecos home _shell; do
      if [ "$uid" = "$owner_uid" ]; then
        owner_home=$home
        break
      fi
    done </etc/passwd
  fi
  if [ "$owner_uid" = 0 ]; then
    echo "$PGDATA belongs to root: refusing to run PostgreSQL's programs as root" >&2
    return 1
  fi
  # The change of uid clears every capability; --init-groups gives the
  # owner's supplementary groups (ssl-cert, say).
  HOME=$owner_home /usr/bin/setpriv --reuid="$owner_uid" --regid="$owner_gid" \
    --init-groups -- "$@"
}
