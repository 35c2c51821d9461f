#!/usr/bin/env python3
"""DESIGN.md, "failback": the old master returns with its PostgreSQL started
as a primary (stale: n2 was promoted meanwhile). It never takes the VIP
back; its stale primary is fenced as soon as its router hears the current
master, then rejoined as a standby of n2; n2 does not flap. (The return
with the server not started is covered by test_pg_server_dies.)

Between the stale server's start and the fence (pgvrrpd must first hear
the master) it takes writes on its real IP: the test measures that window
and checks that two writable servers are never seen once it has passed;
see "Failover policy" in pgvrrpd(8) for why PostgreSQL should not be
started at boot on a pgvrrpd node.

Both daemons run as the systemd unit runs them (root with only the unit's
capabilities), with the hooks as root as in the example configs: promote,
fence and rejoin then run PostgreSQL's programs as the owner of PGDATA."""
import time

from addrwatch import AddressWatcher
from netlab import Lab
from pg_pair import VIP, PgPair
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from replication import writers
from runner import run_test


def main():
    with Lab("pg_failback") as lab:
        pair = PgPair(lab, under_unit=True)
        pair.start()
        w = pair.writer()
        # The whole n1 goes away; n2 takes over.
        pair.n2_takes_over(w)

        # n1 returns: its server starts as the old primary, then pgvrrpd.
        watch_n2 = AddressWatcher(pair.n2, VIP)
        pair.n1_link_back()
        pair.p.start()
        t_stale = time.monotonic()
        if writers([pair.p, pair.s]) != [pair.p, pair.s]:
            raise LabError("the returning n1 was expected to start as a writable stale primary")
        pair.d1.start()
        wait_until(lambda: pair.p not in writers([pair.p]), 10, 0.01,
                   "n1's stale primary to be fenced")
        window = time.monotonic() - t_stale
        log(f"stale primary writable for {window * 1000:.0f} ms after its start "
            f"(until pgvrrpd heard the master and fenced it)")
        probe = pair.two_primaries_probe()
        pair.wait_rejoined()
        time.sleep(1)
        w.stop()
        probe.check()

        assert_single_holder([pair.n1, pair.n2], VIP, pair.n2)
        if watch_n2.events:
            raise LabError(f"the VIP moved on n2 while n1 came back: {watch_n2.events}")
        if pair.d2.state() != "MASTER" or len(pair.d2.transitions()) != 2:
            raise LabError(f"n2 flapped: {pair.d2.transitions()}")
        hooks1 = pair.hook_lines(pair.d1)
        log("n1's hooks:\n  " + "\n  ".join(hooks1))
        order = [h for h in hooks1 if " started " in h]
        kinds = [h.split(": ")[1].split(" ")[0] for h in order]
        if kinds[:2] != ["fence", "rejoin"]:
            raise LabError(f"expected fence then rejoin on n1, got {kinds}: {hooks1}")
        if any(t[1] == "MASTER" for t in pair.d1.transitions()):
            raise LabError(f"returning n1 became master: {pair.d1.transitions()}")
        print(f"RESULT pg_failback stale_window_ms={window * 1000:.0f}", flush=True)


run_test(main)
