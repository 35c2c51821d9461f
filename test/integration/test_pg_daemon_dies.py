#!/usr/bin/env python3
"""DESIGN.md, "daemon dies": pgvrrpd on the master is SIGKILLed while its
PostgreSQL keeps running. n2 must not promote while n1's server answers as
primary; writes through the VIP keep working (the VIP stays until its
lease); pgvrrpd restarted (as systemd would, after 1 s) adopts the VIP
without a gap and n2 stays backup."""
import signal
import time

from addrwatch import AddressWatcher
from netlab import Lab
from pg_pair import VIP, PgPair
from pgvrrpd_node import assert_single_holder
from processes import LabError, log
from runner import run_test


def main():
    with Lab("pg_daemon_dies") as lab:
        pair = PgPair(lab)
        # libpq would fill what the conninfo leaves out from these: with
        # PGSSLMODE=require the peer check (to a server without TLS) would
        # fail, and n2 would promote beside n1's living primary; with
        # PGSERVICE naming no service every check would fail. pgvrrpd unsets
        # them.
        pg_env = {"PGSSLMODE": "require", "PGSERVICE": "nowhere", "PGCONNECT_TIMEOUT": "1"}
        pair.d2.env = pg_env
        pair.start()
        w = pair.writer()
        probe = pair.two_primaries_probe()
        watch = AddressWatcher(pair.n1, VIP)
        t_kill = time.monotonic()
        pair.d1.kill(signal.SIGKILL)
        time.sleep(1.0)  # systemd's RestartSec=1
        pair.d1.start()
        pair.d1.wait_state("MASTER", 5)
        time.sleep(1.5)  # past the old lease: the new run must refresh it
        w.stop()
        probe.check()

        if [e for e in watch.events if e[1] == "absent"] or not pair.n1.has_address(VIP):
            raise LabError(f"the VIP left n1 while its daemon was restarted: {watch.events}")
        assert_single_holder([pair.n1, pair.n2], VIP, pair.n1)
        if not pair.s.is_in_recovery():
            raise LabError("n2 promoted its server beside a living primary")
        if any(t[1] == "MASTER" for t in pair.d2.transitions()):
            raise LabError(f"n2 became master while n1's server was primary: "
                           f"{pair.d2.transitions()}")
        ignored = [line for line in pair.d2.log_text().splitlines()
                   if "ignoring the environment variables" in line]
        if not ignored or not all(name in ignored[0] for name in pg_env):
            raise LabError(f"n2 did not say it ignored the PG* variables of its environment: "
                           f"{ignored}")
        held = "takeover held: PostgreSQL on the peer still answers as primary"
        if held not in pair.d2.log_text():
            raise LabError("n2 did not log why it held back its takeover")
        first = pair.d1.transitions()[0][2]
        if first != "startup, holding VIPs until decided":
            raise LabError(f"restarted n1 did not hold its leftover VIP: {first}")
        failed = [r for r in w.results if not r.ok and r.start >= t_kill]
        gaps = [g for _, g in w.outages()]
        log(f"writes through the VIP: {w.summary()}")
        if failed:
            raise LabError(f"{len(failed)} writes through the VIP failed while the daemon was "
                           f"down: {failed[:3]}")
        print(f"RESULT pg_daemon_dies failed_writes=0 outages_ms={[round(g * 1000) for g in gaps]}",
              flush=True)


run_test(main)
