#!/usr/bin/env python3
"""Issue 10, pgvrrpctl switchover on the PostgreSQL pair, with a client
writing through the VIP all along.

1. Refused with the reason where it cannot be done: on the backup, with a
   --to that is not the peer.
2. The peer cannot catch up (its replay paused): the hook gives up after
   SWITCHOVER_CATCHUP_TIMEOUT, starts n1's server again as the primary,
   pgvrrpctl reports the failure; n1 stayed master and kept the VIP, n2
   never took over.
3. Three switchovers, n1 -> n2 -> n1 -> n2: each ends with the new master
   holding the VIP and a primary, the old primary streaming from it
   (rejoined by pg_rewind, never copied); no acknowledged write lost, never
   two writable servers, writes back within a second.
4. Refused when the peer's server is down."""
import json
import signal
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from pglab import pg_tool
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from replication import pause_replay, resume_replay, wait_caught_up
from runner import run_test
from writer import check_no_lost_writes


def refused(daemon, *args) -> str:
    cp = daemon.ctl("switchover", *args, check=False)
    if cp.returncode != 1:
        raise LabError(f"switchover {args} was not refused: {cp.returncode} {cp.stdout} {cp.stderr}")
    return cp.stderr


def main():
    with Lab("pg_switchover") as lab:
        # As the shipped unit and examples run them: hooks as root, PostgreSQL's
        # programs as the owner of PGDATA.
        pair = PgPair(lab, n1_hook_env=("SWITCHOVER_CATCHUP_TIMEOUT=2",), under_unit=True)
        pair.start()
        n1, n2 = pair.sides
        w, probe = pair.under_load(fast=True, interval=0.02, keep=True)

        # 1. Refusals.
        why = refused(pair.d2)
        if "this node is BACKUP: run the switchover on the master's node (198.51.100.11)" \
                not in why:
            raise LabError(f"on the backup: {why}")
        why = refused(pair.d1, "--to", "198.51.100.99")
        if "--to 198.51.100.99: the peer's server is 198.51.100.12" not in why:
            raise LabError(f"--to another address: {why}")

        # 2. The peer cannot replay: the hook gives up, n1 serves again.
        pause_replay(pair.s)
        t_abort = time.monotonic()
        cp = pair.switchover(n1, check=False)
        resume_replay(pair.s)
        if cp.returncode != 5 or "switchover failed" not in cp.stderr:
            raise LabError(f"the aborted switchover: {cp.returncode}\n{cp.stdout}{cp.stderr}")
        if "had not replayed past" not in pair.d1.log_text():
            raise LabError(f"the hook did not say why it gave up:\n{pair.d1.recent_log(15)}")
        w.wait_acknowledged(3, timeout=10, server="n1")
        aborted_outage = pair.write_outage(w, t_abort)
        if [t[1] for t in pair.d1.transitions()] != ["BACKUP", "MASTER"] or \
                [t[1] for t in pair.d2.transitions()] != ["BACKUP"]:
            raise LabError(f"the aborted switchover moved the routers: n1 "
                           f"{pair.d1.transitions()}, n2 {pair.d2.transitions()}")
        assert_single_holder([pair.n1, pair.n2], VIP, pair.n1)
        log(f"aborted switchover: n1 stayed master; writes stopped {aborted_outage:.2f} s")
        pair.s.wait_streaming(pair.p, 10)
        wait_caught_up(pair.p, pair.s)

        # 3. Back and forth.
        outages = []
        for old, new in ((n1, n2), (n2, n1), (n1, n2)):
            t0 = time.monotonic()
            cp = pair.switchover(old)
            took = time.monotonic() - t0
            log(f"switchover {old} -> {new} in {took:.2f} s:\n{cp.stdout.strip()}")
            if new.daemon.state() != "MASTER" or old.daemon.state() != "BACKUP":
                raise LabError(f"after the switchover: {old} {old.daemon.state()}, "
                               f"{new} {new.daemon.state()}")
            assert_single_holder([pair.n1, pair.n2], VIP, new.host)
            if new.pg.is_in_recovery() or not old.pg.is_in_recovery():
                raise LabError("the servers' roles do not follow the VIP")
            old.pg.wait_streaming(new.pg, 10)
            w.wait_acknowledged(3, timeout=10, server=new.host.short)
            outages.append(pair.write_outage(w, t0))
            router = json.loads(old.daemon.ctl("status", "--json").stdout)["routers"][0]
            if router["switchover"]["phase"] != "done":
                raise LabError(f"status after it: {router['switchover']}")
            hooks = "\n".join(pair.hook_lines(old.daemon))
            if "copied from" in old.daemon.log_text():
                raise LabError(f"{old} was rejoined by a copy, not pg_rewind")
            if "switchover exited with status 0" not in hooks:
                raise LabError(f"{old}'s switchover hook: {hooks}")
            wait_caught_up(new.pg, old.pg)
        w.stop()
        probe.check()
        kept = check_no_lost_writes(w, pair.s)
        check_no_lost_writes(w, pair.p)
        log(f"writes through the VIP: {w.summary()}; all {kept} acknowledged on both servers")
        log("write outages (s): " + ", ".join(f"{o:.3f}" for o in outages))
        if max(outages) > 1.0:
            raise LabError(f"a switchover stopped writes {max(outages):.2f} s")

        # 4. The peer's server down: refused. (n1's server now is the one
        # its rejoin hook started, with pg_ctl.) n1's pgvrrpd goes first:
        # with auto_rejoin it starts a standby found down beside a serving
        # master at once, and a server started before pg_ctl stop's next look
        # at postmaster.pid keeps pg_ctl waiting for its new pid.
        pair.d1.kill(signal.SIGKILL)
        pair.p.run_as_postgres([pg_tool("pg_ctl"), "stop", "-D", pair.p.datadir, "-m", "fast"])
        wait_until(lambda: not json.loads(pair.d2.ctl("status", "--json").stdout)
                   ["checks"][0]["peer"]["alive"], 5, 0.05, "n2 to see n1's server down")
        why = refused(pair.d2)
        if "the peer's server (198.51.100.11) does not answer" not in why:
            raise LabError(f"with the peer's server down: {why}")
        print("RESULT pg_switchover outages_ms=" + ",".join(f"{o * 1000:.0f}" for o in outages)
              + f" acknowledged={kept} lost=0", flush=True)


run_test(main)
