#!/usr/bin/env python3
"""Issue 11, synchronous = on, first steps in the lab (real PostgreSQL 15):
n1's pgvrrpd names n2's standby in synchronous_standby_names (FIRST 1);
n2's server killed: writes stall, n1 goes through "leaving" (ANY 1) to
asynchronous after sync_grace, and writes continue; n2's server back: named
again; then n1's whole server dies under a writer: n2 promotes by itself
(its last reading of n1 said synchronous, and is fresh) and every write
acknowledged anywhere is on n2. Not yet: the 50-kill loss table, strict,
the lagging standby, the partitions (issue 11)."""
import json
import re
import signal
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from processes import LabError, log, wait_until
from runner import run_test

GRACE = 2.0


def names(pg) -> str:
    return pg.psql("SHOW synchronous_standby_names").strip()


def main():
    with Lab("pg_sync") as lab:
        pair = PgPair(lab)
        for d in (pair.d1, pair.d2):
            d.routers["pg"].update(synchronous="on", sync_grace=GRACE)
        pair.start()

        # 1. The standby streams: n1 names it.
        wait_until(lambda: names(pair.p).startswith("FIRST 1 ("), 10, 0.1,
                   lambda: f"n1 naming its standby (now '{names(pair.p)}')")
        sync = json.loads(pair.d1.ctl("status", "--json").stdout)["routers"][0]["synchronous"]
        if sync["mode"] != "on" or sync["standby_healthy"] is not True \
                or sync["last_change"]["to"] != "synchronous":
            raise LabError(f"n1's status: {sync}")
        log(f"n1 runs with synchronous_standby_names = {names(pair.p)}")

        # 2. The standby's server dies: commits wait, then n1 leaves
        # synchronous replication (leaving, then asynchronous) and they go on.
        # A write every 50 ms: at every 10 ms, the sessions the stall broke
        # come back as a storm of new connections this machine's postmaster
        # (a fork each, tens of ms) cannot accept as fast; its accept queue
        # fills and the connections time out long after the stall ended.
        w = pair.writer()
        time.sleep(1)
        # n2's pgvrrpd first: it would start the server again at once.
        pair.d2.kill(signal.SIGKILL)
        t_kill = time.monotonic()
        pair.s.kill()
        def steps():
            return re.findall(r"synchronous replication \(on\): (\w+)", pair.d1.log_text())
        wait_until(lambda: steps()[-1] == "asynchronous", GRACE + 5, 0.05,
                   lambda: f"n1 going asynchronous: {steps()}")
        w.wait_acknowledged(5, timeout=5)
        stall = pair.write_outage(w, t_kill)
        steps = steps()
        if steps[-2:] != ["leaving", "asynchronous"] or names(pair.p) != "":
            raise LabError(f"n1's steps after the standby died: {steps}, now '{names(pair.p)}'")
        log(f"standby killed: writes stalled {stall:.3f} s (sync_grace {GRACE} s), then went on")
        if stall > GRACE + 0.2:
            raise LabError(f"writes stalled {stall:.3f} s, more than sync_grace + 0.2 s")
        w.stop()

        # 3. Back: named again.
        pair.s.start()
        pair.d2.start()
        pair.d2.wait_state("BACKUP", 5)
        wait_until(lambda: names(pair.p).startswith("FIRST 1 ("), 15, 0.1,
                   lambda: f"n1 naming its standby again (now '{names(pair.p)}')")

        # 4. n1's whole server dies: n2 promotes by itself, nothing lost.
        w = pair.writer(fast=True)
        time.sleep(1)
        pair.n2_takes_over(w)
        w.stop()
        acked = {r.id for r in w.results if r.ok}
        have = {int(x) for x in pair.s.psql("SELECT id FROM writes").split()}
        missing = sorted(acked - have)
        if missing:
            raise LabError(f"acknowledged writes missing on n2: {missing[:20]}")
        log(f"n1 died under synchronous replication: n2 promoted by itself, all {len(acked)} "
            f"acknowledged writes on it ({w.summary()})")


run_test(main)
