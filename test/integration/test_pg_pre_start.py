#!/usr/bin/env python3
"""Issue 10, "a rebooted old primary must not come up writable": the
failback case with PostgreSQL started the way systemd starts it with
packaging/postgresql-pgvrrpd.conf (`pgvrrpd --pre-start`, then the server),
and the rejoin hook asking for that start as the example configs do
(request-start writing the file pgvrrpd-start-postgresql@.path watches;
the test plays systemd's part, systemd_unit.PathUnitStandIn).

1. n1 (master) dies whole; n2 takes over. n1 reboots and its PostgreSQL
   unit starts before pgvrrpd: --pre-start refuses (n2's server answers as
   a primary), so n1's stale primary never takes a write. pgvrrpd on n1
   then rejoins it; the rejoin's start command passes --pre-start again
   (standby.signal now) and the server streams from n2.
2. Power loss: both servers down. n1 (a standby now) may start at once; n2
   (the primary) waits for its peer, which is not up: it starts all the
   same, and the pair ends with one primary, n2. With n1's standby up,
   --pre-start on n2 sees it answer as a standby."""
import os
import time

from netlab import Lab
from pg_pair import HOOKS, PgPair, ScriptDir
from pgvrrpd_node import PGVRRPD_BIN
from pglab import PG_BIN
from processes import LabError, log
from replication import writers
from runner import run_test
from systemd_unit import PathUnitStandIn, runtime_dir


def pre_start(host, ini, wait=3):
    cp = host.run([PGVRRPD_BIN, "--pre-start", "--wait", str(wait), "-f", ini],
                  check=False, timeout=wait + 30)
    log(f"--pre-start on {host.short} exited {cp.returncode}: {cp.stderr.strip()}")
    return cp


def main():
    with Lab("pg_pre_start") as lab:
        n1_ini = lab.path("n1-pg.ini")
        # As in etc/n1.ini: the hooks (as postgres, in the unit's sandbox)
        # ask for the start by writing a file; systemd's path unit then
        # starts PostgreSQL's unit, which with the drop-in runs the
        # ExecStartPre as root, then the server as postgres.
        request = os.path.join(runtime_dir(lab), "start", "n1-main")
        with open(os.path.join(HOOKS, "request-start")) as f:
            helper = ScriptDir(lab, "pgvrrpd-request-", {"request-start": f.read()})
        pair = PgPair(lab, under_unit=True, n1_hook_env=(
            f"PG_START_COMMAND={helper.script('request-start')} {request}",
            "START_TIMEOUT=30"))
        if pair.d1.ini_path != n1_ini:
            raise LabError(f"n1's config is at {pair.d1.ini_path}, not {n1_ini}")
        unit = ScriptDir(lab, "pgvrrpd-unit-", {"start": (
            "#!/bin/sh\n"
            f"{PGVRRPD_BIN} --pre-start --wait 5 -f {n1_ini} || exit 1\n"
            "exec setpriv --reuid=postgres --regid=postgres --init-groups "
            f"{PG_BIN}/pg_ctl start -D {pair.p.datadir} -w -t 60 "
            f"-l {pair.p.datadir}/unit.log >/dev/null\n")})
        path_unit = PathUnitStandIn(pair.n1, request, [unit.script("start")])
        pair.start()
        w = pair.writer()
        pair.n2_takes_over(w)

        # n1 reboots: its PostgreSQL unit first.
        pair.n1_link_back()
        probe = pair.two_primaries_probe()
        cp = pre_start(pair.n1, n1_ini)
        if cp.returncode != 1 or "refusing to start the server as a primary" not in cp.stderr \
                or "host 198.51.100.12 port 5432" not in cp.stderr:
            raise LabError(f"--pre-start let n1's stale primary start: {cp.stderr}")
        if pair.p.processes():
            raise LabError("n1's server runs after a refused pre-start")

        # Then pgvrrpd: the server is down and n2 is master, so it rejoins.
        pair.d1.start()
        pair.wait_rejoined()
        if not any("the server starts as a standby (standby.signal)" in run
                   for run in path_unit.runs):
            raise LabError("the rejoin's start request did not pass --pre-start as a "
                           f"standby: {path_unit.runs}\n" + pair.d1.recent_log(30))
        if "request-start: the server accepts connections" not in pair.d1.log_text():
            raise LabError("the rejoin hook did not see its start request served:\n"
                           + pair.d1.recent_log(30))
        time.sleep(1)
        w.stop()
        probe.check()
        if writers([pair.p, pair.s]) != [pair.s]:
            raise LabError("after the rejoin, n2 should be the only writable server")
        log("rebooted n1: its stale primary never started; rejoined as a standby of n2")

        # Power loss: everything stops. n2 holds the primary, n1 a standby.
        pair.d1.stop()
        pair.d2.stop()
        # n1's server was started by the rejoin, not by the harness.
        pair.p.run_as_postgres([f"{PG_BIN}/pg_ctl", "stop", "-D", pair.p.datadir, "-m", "fast",
                                "-w"])
        pair.s.stop("fast")
        cp = pre_start(pair.n1, n1_ini)
        if cp.returncode != 0 or "starts as a standby" not in cp.stderr:
            raise LabError(f"--pre-start of n1's standby: {cp.stderr}")
        t0 = time.monotonic()
        cp = pre_start(pair.n2, pair.d2.ini_path, wait=2)
        waited = time.monotonic() - t0
        if cp.returncode != 0 or "did not answer" not in cp.stderr or waited < 1.5:
            raise LabError(f"--pre-start of n2's primary with n1 down ({waited:.1f} s): "
                           f"{cp.stderr}")
        pair.s.start()
        pair.p.start()
        cp = pre_start(pair.n2, pair.d2.ini_path)
        if cp.returncode != 0 or "answers as a standby" not in cp.stderr:
            raise LabError(f"--pre-start of n2 with n1's standby up: {cp.stderr}")
        if writers([pair.p, pair.s]) != [pair.s]:
            raise LabError("after the power loss the pair should have one primary, n2")
        log(f"power loss: n1 (standby) started at once, n2 (primary) after waiting "
            f"{waited:.1f} s for its peer; one primary")
        print(f"RESULT pg_pre_start refused_stale_primary=yes power_loss_wait_s={waited:.1f}",
              flush=True)


run_test(main)
