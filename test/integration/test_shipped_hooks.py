#!/usr/bin/env python3
"""The shipped hooks (notify/hooks/promote, fence, rejoin) against real
PostgreSQL 15 in namespaces, run the way pgvrrpd runs them: as the postgres
user, with keepalived-style arguments and the documented environment.
promote makes the standby writable (and is a no-op on a primary); fence
stops a stale primary; rejoin turns it into a streaming standby of the new
primary, by pg_rewind and, when that cannot work, by pg_basebackup; it
refuses a foreign cluster and a directory that is not a data directory,
and only starts a stopped standby of the master."""
import os
import pwd
import shutil
import tempfile
import time

from netlab import Lab
from pglab import PG_BIN
from processes import LabError, log, timed
from replication import make_primary, make_standby, writers
from runner import run_test
from writer import probe_write

HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notify", "hooks")


def run_hook(node, name, state, extra_env=None, check=True, as_root=False):
    """As hook_user = postgres (as the shipped unit runs them: pgvrrpd's own
    user), or (as_root) as a pgvrrpd run as root with hook_user = root runs
    them: as root without CAP_DAC_OVERRIDE, only CAP_SETUID, CAP_SETGID and
    CAP_KILL (as the unit before issue 10's last step did)."""
    env = {"PGBIN": PG_BIN, "PGDATA": node.datadir, "PGHOST": node.sockdir,
           "PGPORT": str(node.port), "PGUSER": "postgres",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **(extra_env or {})}
    cmd = ["env", "-i", *[f"{k}={v}" for k, v in env.items()],
           os.path.join(HOOK_DIR, name), "INSTANCE", "pg", state, "100"]
    if as_root:
        cp = node.host.run(["/usr/bin/setpriv", "--bounding-set=-all,+setuid,+setgid,+kill",
                            "--", *cmd], timeout=120, check=False)
    else:
        cp = node.run_as_postgres(cmd, timeout=120, check=False)
    log(f"hook {name}{' as root' if as_root else ''} on {node.host.short} exited {cp.returncode}: "
        f"{(cp.stdout + cp.stderr).strip()}")
    if check and cp.returncode != 0:
        raise LabError(f"hook {name} on {node.host.short} failed with {cp.returncode}")
    return cp


def main():
    global HOOK_DIR
    # The hooks are run as postgres, who may not be able to read the
    # checkout (e.g. under /root): use a readable copy, under /run, where
    # the unit's sandbox shows it (its /tmp is its own).
    HOOK_DIR = tempfile.mkdtemp(prefix="pgvrrpd-hooks-", dir="/run")
    os.chmod(HOOK_DIR, 0o755)
    try:
        for name in ("promote", "fence", "rejoin", "request-start", "as_owner.sh"):
            shutil.copy(os.path.join(HOOKS, name), HOOK_DIR)
        scenario()
    finally:
        shutil.rmtree(HOOK_DIR)


def scenario():
    with Lab("shipped_hooks") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        cl = lab.add_host("cl", ipv4="198.51.100.20/24")
        n3 = lab.add_host("n3", ipv4="198.51.100.13/24")
        p = make_primary(n1)
        s = make_standby(p, n2)
        if not probe_write(cl, [p]).ok:
            raise LabError("cannot write to the primary")

        # promote: on the primary a no-op; on the standby, writable on return.
        if "already a primary" not in run_hook(p, "promote", "MASTER").stdout:
            raise LabError("promote on a primary should say it already is one")
        # PROMOTE_TIMEOUT goes into SQL: anything but whole seconds is refused
        # before psql runs, and the standby stays a standby.
        for bad in ("5) OR true; SELECT pg_promote(", "0", "1e9", "99999999"):
            cp = run_hook(s, "promote", "MASTER", {"PROMOTE_TIMEOUT": bad}, check=False)
            if cp.returncode != 2 or "PROMOTE_TIMEOUT must be a whole number" not in cp.stderr \
                    or not s.is_in_recovery():
                raise LabError(f"promote with PROMOTE_TIMEOUT={bad!r}: {cp.returncode} {cp.stderr}")
        with timed() as t:
            run_hook(s, "promote", "MASTER")
        if s.is_in_recovery():
            raise LabError("promote returned while n2 is still in recovery")
        log(f"promote hook: n2 writable after {t.ms:.0f} ms")
        after = probe_write(cl, [s], note="after promote")
        if not after.ok:
            raise LabError(f"n2 does not take writes after promote: {after}")

        # Now both accept writes: n1 is the stale primary. fence stops it.
        if sorted(x.host.short for x in writers([p, s])) != ["n1", "n2"]:
            raise LabError("expected two writable servers before fencing")
        run_hook(p, "fence", "BACKUP")
        if p.proc.wait(30) is None or writers([p, s]) != [s]:
            raise LabError("fence did not leave n2 as the only writable server")

        # rejoin: n1 becomes a standby of n2 (pg_rewind), streaming, with its
        # own configuration files kept (the copy brings n2's).
        mark_config(p)
        env = {"PGVRRPD_MASTER": s.addr, "REPLICATION_USER": "postgres"}
        with timed() as t:
            out = run_hook(p, "rejoin", "BACKUP", env).stdout
        if "rewound from" not in out:
            raise LabError(f"rejoin did not use pg_rewind: {out}")
        check_standby_of(p, s, after.id)
        check_config_kept(p)
        log(f"rejoin hook (pg_rewind): {t.ms:.0f} ms")

        # rejoin refuses another cluster (a forged advert naming a foreign
        # server as master) and a directory that is no data directory, and
        # leaves both alone.
        run_hook(p, "fence", "BACKUP")
        foreign = make_primary(n3)
        own_id = p.system_identifier()
        cp = run_hook(p, "rejoin", "BACKUP", {**env, "PGVRRPD_MASTER": foreign.addr},
                      check=False)
        if cp.returncode == 0 or "is another cluster" not in cp.stderr:
            raise LabError(f"rejoin from a foreign cluster was not refused: {cp.stderr}")
        if p.system_identifier() != own_id or \
                not os.path.exists(os.path.join(p.datadir, "PG_VERSION")):
            raise LabError("the refused rejoin changed n1's data directory")
        not_data = os.path.join(p.dir, "not-a-data-dir")
        os.makedirs(not_data)
        with open(os.path.join(not_data, "keep"), "w") as f:
            f.write("an operator's file\n")
        shutil.chown(not_data, "postgres")
        cp = run_hook(p, "rejoin", "BACKUP", {**env, "PGDATA": not_data}, check=False)
        if cp.returncode == 0 or "not a PostgreSQL data directory" not in cp.stderr or \
                not os.path.exists(os.path.join(not_data, "keep")):
            raise LabError(f"rejoin into a directory without PG_VERSION: {cp.stderr}")
        log("rejoin refused a foreign cluster and a directory without PG_VERSION")

        # A stopped standby of this very master (a rejoin whose rewind
        # worked but whose start failed) is only started: a second
        # pg_rewind would fail in single-user crash recovery.
        out = run_hook(p, "rejoin", "BACKUP", env).stdout
        if f"is a standby of {s.addr} already" not in out:
            raise LabError(f"rejoin of a stopped standby of this master: {out}")
        check_standby_of(p, s, after.id)
        log("rejoin started a stopped standby of this master without rewinding it")
        # From here n1 stands for an old primary again: stopped, no
        # standby.signal.
        run_hook(p, "fence", "BACKUP")
        os.remove(os.path.join(p.datadir, "standby.signal"))

        # When pg_rewind fails (here an option it does not know) the data
        # directory is left alone unless BASEBACKUP_FALLBACK=yes...
        broken = {**env, "REWIND_OPTIONS": "--no-such-option"}
        cp = run_hook(p, "rejoin", "BACKUP", broken, check=False)
        if cp.returncode == 0 or "set BASEBACKUP_FALLBACK=yes" not in cp.stderr or \
                p.system_identifier() != own_id:
            raise LabError(f"a failed pg_rewind without BASEBACKUP_FALLBACK: {cp.stderr}")
        # ...and with it the server is copied afresh with pg_basebackup.
        later = probe_write(cl, [s], note="before rebuild")
        with timed() as t:
            out = run_hook(p, "rejoin", "BACKUP", {**broken, "BASEBACKUP_FALLBACK": "yes"}).stdout
        if "copied from" not in out:
            raise LabError(f"rejoin did not fall back to pg_basebackup: {out}")
        check_standby_of(p, s, later.id)
        check_config_kept(p)
        log(f"rejoin hook (pg_basebackup fallback): {t.ms:.0f} ms")

        as_root(p, s, cl, env)
        request_start_failures(lab, n3)


def as_root(p, s, cl, env):
    """pgvrrpd run as root with hook_user = root and a root with few
    capabilities (no CAP_DAC_OVERRIDE: root cannot look into PGDATA), the
    server started and stopped by commands (systemctl; here scripts that
    say which user ran them). PostgreSQL's programs must run as the owner
    of PGDATA."""
    commands = tempfile.mkdtemp(prefix="pgvrrpd-commands-", dir="/run")
    os.chmod(commands, 0o755)
    stop = os.path.join(commands, "stop")
    start = os.path.join(commands, "start")
    with open(stop, "w") as f:
        # Like `systemctl stop` of a unit that does not run this server
        # (started by hand): succeeds, stops nothing.
        f.write("#!/bin/sh\necho \"stop command ran as uid $(id -u)\"\n")
    with open(start, "w") as f:
        # Like `systemctl start`: root asks, the server runs as postgres.
        f.write(f"#!/bin/sh\necho \"start command ran as uid $(id -u)\"\n"
                f"exec setpriv --reuid=postgres --regid=postgres --init-groups "
                f"{PG_BIN}/pg_ctl start -D \"$PGDATA\" -w -t 60 -l \"$PGDATA/start.log\" "
                f">/dev/null\n")
    for path in (stop, start):
        os.chmod(path, 0o755)
    commands_env = {**env, "PG_STOP_COMMAND": stop, "PG_START_COMMAND": start}
    try:
        # promote as root: psql as postgres. p (a standby) becomes a
        # second primary beside s, the stale one to fence.
        run_hook(p, "promote", "MASTER", as_root=True)
        if p.is_in_recovery():
            raise LabError("promote as root left n1 in recovery")
        # fence: the stop command stops nothing; the hook sees the server
        # still running and stops it with pg_ctl.
        cp = run_hook(p, "fence", "BACKUP", commands_env, as_root=True)
        if "stop command ran as uid 0" not in cp.stdout or \
                "still runs after PG_STOP_COMMAND" not in cp.stderr:
            raise LabError(f"fence as root: {cp.stdout} {cp.stderr}")
        if p.proc.wait(30) is None or writers([p, s]) != [s]:
            raise LabError("fence as root did not stop n1")
        # rejoin: the data work as postgres, then the start command as root.
        before = probe_write(cl, [s], note="before rejoin as root")
        cp = run_hook(p, "rejoin", "BACKUP", commands_env, as_root=True)
        if "rewound from" not in cp.stdout or "start command ran as uid 0" not in cp.stdout:
            raise LabError(f"rejoin as root: {cp.stdout} {cp.stderr}")
        check_standby_of(p, s, before.id)
        check_config_kept(p)
        owners = {os.stat(os.path.join(root, name)).st_uid
                  for root, dirs, files in os.walk(p.datadir) for name in dirs + files}
        if owners != {pwd.getpwnam("postgres").pw_uid}:
            raise LabError(f"after the hooks as root, PGDATA holds files of uids {owners}")
        log("as root with CAP_SETUID, CAP_SETGID, CAP_KILL only: promote, fence (its stop command "
            "stopped nothing: pg_ctl did), rejoin (pg_rewind as postgres, start command as root)")
    finally:
        shutil.rmtree(commands)


def request_start_failures(lab, host):
    """request-start (the examples' PG_START_COMMAND; its success, through
    pgvrrpd under the unit, is integration: pg_pre_start's): bad arguments
    exit 2 before anything is written; a server that never comes up (no
    path unit enabled, or its start refused) is an error after
    START_TIMEOUT, with the file written and the reason named."""
    helper = os.path.join(HOOK_DIR, "request-start")
    empty = lab.path("no-server-here")
    os.mkdir(empty)
    request = os.path.join(lab.path("start-requests"), "15-main")

    def attempt(env, *args):
        env = {"PGBIN": PG_BIN, "PGHOST": empty, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env}
        return host.run(["env", "-i", *[f"{k}={v}" for k, v in env.items()], helper, *args],
                        check=False, timeout=30)

    for env, args, why in (({"START_TIMEOUT": "1x"}, [request], "START_TIMEOUT"),
                           ({"START_TIMEOUT": "0"}, [request], "START_TIMEOUT"),
                           ({}, ["relative/15-main"], "absolute path"),
                           ({}, [], "usage")):
        cp = attempt(env, *args)
        if cp.returncode != 2 or why not in cp.stderr or os.path.exists(request):
            raise LabError(f"request-start {env} {args}: exit {cp.returncode}, {cp.stderr!r}")
    t0 = time.monotonic()
    cp = attempt({"START_TIMEOUT": "1"}, request)
    took = time.monotonic() - t0
    with open(request) as f:
        written = f.read()
    if cp.returncode != 1 or "does not accept connections 1 s after the request" not in \
            cp.stderr or "start requested" not in written or not 0.9 < took < 10:
        raise LabError(f"request-start with no server: exit {cp.returncode} after {took:.1f} s, "
                       f"{cp.stderr!r}, file {written!r}")
    log(f"request-start: bad arguments refused (exit 2), no server: exit 1 after {took:.1f} s, "
        "the request written")


HBA_MARK = "# this node's own pg_hba.conf\n"
AUTO_MARK = "work_mem = '7MB'\n"


def mark_config(node):
    """Make n1's configuration files its own, unlike n2's."""
    for name, mark in (("pg_hba.conf", HBA_MARK), ("postgresql.auto.conf", AUTO_MARK)):
        path = os.path.join(node.datadir, name)
        with open(path, "a") as f:
            f.write(mark)


def check_config_kept(node):
    for name, mark in (("pg_hba.conf", HBA_MARK), ("postgresql.auto.conf", AUTO_MARK)):
        with open(os.path.join(node.datadir, name)) as f:
            text = f.read()
        if mark not in text:
            raise LabError(f"rejoin replaced {node}'s {name}: {text[-300:]}")
    with open(os.path.join(node.datadir, "postgresql.auto.conf")) as f:
        auto = f.read()
    if auto.count("primary_conninfo") != 1:
        raise LabError(f"{node}'s postgresql.auto.conf has no single primary_conninfo: {auto}")
    if node.psql("SHOW work_mem") != "7MB":
        raise LabError(f"{node} does not run with its own postgresql.auto.conf")


def check_standby_of(node, primary, last_id):
    if not node.is_in_recovery():
        raise LabError(f"{node} is not a standby after rejoin")
    receiver = node.wal_receiver()
    if receiver.get("status") != "streaming" or receiver.get("sender_host") != primary.addr:
        raise LabError(f"{node} does not stream from {primary.addr}: {receiver}")
    seen = node.psql(f"SELECT count(*) FROM writes WHERE id = {last_id}")
    if seen != "1":
        raise LabError(f"write {last_id} acknowledged by {primary} is missing on {node}")
    if writers([node, primary]) != [primary]:
        raise LabError("after rejoin, more than one server accepts writes")


run_test(main)
