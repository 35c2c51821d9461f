#!/usr/bin/env python3
"""DESIGN.md, "partition": the master is isolated but alive. With a witness
(the gateway) it loses the witness, goes FAULT, drops the VIP and fences its
PostgreSQL; n2 takes over. When the partition heals, n1's server is
rejoined as a standby of n2. Never two writable servers."""
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from replication import writers
from runner import run_test


def main():
    with Lab("pg_partition") as lab:
        pair = PgPair(lab, witness=True)
        pair.start()
        w, probe = pair.under_load()
        sw = lab.switch
        port = pair.n1.swport
        sw.run(["nft", "add table bridge part"])
        sw.run(["nft", "add chain bridge part isolate { type filter hook forward priority 0 ; }"])
        sw.run(["nft", f"add rule bridge part isolate iifname {port} drop"])
        sw.run(["nft", f"add rule bridge part isolate oifname {port} drop"])
        t_part = time.monotonic()
        pair.d1.wait_state("FAULT", 3)
        # Fenced: n1's server refuses writes (a fast shutdown is under way).
        wait_until(lambda: not writers([pair.p]), 5, 0.02, "n1's server to be fenced")
        t_fenced = time.monotonic() - t_part
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.01, "the VIP on n2")
        t_taken = time.monotonic() - t_part
        log(f"partition: n1 fenced after {t_fenced * 1000:.0f} ms, n2 master with the VIP "
            f"after {t_taken * 1000:.0f} ms")
        if pair.n1.has_address(VIP):
            raise LabError("isolated n1 kept the VIP")
        reason = [t for t in pair.d1.transitions() if t[1] == "FAULT"][0][2]
        if "check witness failed" not in reason:
            raise LabError(f"n1 went FAULT for another reason: {reason}")
        w.wait_acknowledged(3, timeout=10, server="n2")
        # Writes acknowledged before the partition (replication had caught
        # up just before) are on the new primary.
        pair.check_writes_kept(w, t_part, pair.s)

        # Heal: n1 comes back as a standby of n2, the VIP stays on n2.
        sw.run(["nft", "delete table bridge part"])
        pair.wait_rejoined()
        time.sleep(0.5)
        w.stop()
        probe.check()
        assert_single_holder([pair.n1, pair.n2], VIP, pair.n2)
        hooks1 = pair.hook_lines(pair.d1)
        for hook in ("fence", "rejoin"):
            if not any(f"{hook} exited with status 0" in h for h in hooks1):
                raise LabError(f"n1's {hook} hook did not run and succeed: {hooks1}")
        print(f"RESULT pg_partition fenced_ms={t_fenced * 1000:.0f} "
              f"takeover_ms={t_taken * 1000:.0f}", flush=True)


run_test(main)
