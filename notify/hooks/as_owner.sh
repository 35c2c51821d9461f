# shellcheck shell=sh
# Sourced by the shipped hooks (not a hook itself).
#
# pgvrrpd runs the hooks as hook_user. That is root where PostgreSQL is
# started and stopped through its own systemd unit (only root may ask
# systemd to), or the cluster's owner (postgres) where the hooks run pg_ctl
# themselves. PostgreSQL's programs refuse to run as root, and under
# pgvrrpd's unit root may not even look into the 0700 data directory (no
# CAP_DAC_OVERRIDE): so as root, as_owner runs a command as the owner of
# PGDATA; as anyone else it runs it as it is.
as_owner() {
  if [ "$(id -u)" != 0 ]; then
    "$@"
    return
  fi
  : "${PGDATA:?PGDATA must be set (hook_env in pgvrrpd.ini)}"
  owner_uid=$(stat -L -c %u -- "$PGDATA") || return 1
  owner_gid=$(stat -L -c %g -- "$PGDATA") || return 1
  if [ "$owner_uid" = 0 ]; then
    echo "$PGDATA belongs to root: refusing to run PostgreSQL's programs as root" >&2
    return 1
  fi
  owner_home=$(getent passwd "$owner_uid" | cut -d: -f6) || true
  # The change of uid clears every capability; --init-groups gives the
  # owner's supplementary groups (ssl-cert, say).
  HOME=${owner_home:-/} /usr/bin/setpriv --reuid="$owner_uid" --regid="$owner_gid" \
    --init-groups -- "$@"
}
