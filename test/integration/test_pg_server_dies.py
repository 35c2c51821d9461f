#!/usr/bin/env python3
"""DESIGN.md, "server dies": the master's processes and link are gone. n2
takes over after Master_Down_Interval (its guard clears as soon as n1's
server stops answering), promotes, and writes through the VIP resume; no
human needed. Then n1 comes back (its PostgreSQL not started, as after a
crash): it never takes the VIP back, and the rejoin hook makes its server a
standby of n2 (the "failback" row); a first rejoin that fails is tried
again."""
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from runner import run_test


def main():
    with Lab("pg_server_dies") as lab:
        pair = PgPair(lab)
        pair.start()
        w, probe = pair.under_load()
        t_fault = time.monotonic()
        pair.kill_n1_server()
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.01, "the VIP on n2")
        w.wait_acknowledged(5, timeout=10, server="n2")
        outage = pair.write_outage(w, t_fault)
        log(f"writes through the VIP: {w.summary()}")
        pair.check_writes_kept(w, t_fault, pair.s)
        if pair.s.is_in_recovery():
            raise LabError("n2 holds the VIP but its server is still in recovery")

        # The old master returns, its server down: rejoined, no failback.
        t_back = time.monotonic()
        pair.n1.link_up()
        # The VIP went with the crash (a reboot, or its lease ran out).
        pair.n1.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)
        # Its first rejoin fails (the hook, run as postgres, cannot reach
        # n2's server yet; pgvrrpd's own checks, as root, can): pgvrrpd tries
        # again FencePolicy::kRejoinFirstRetry (5 s) later.
        pair.n1.run(["nft", "add table inet rejoin_block"])
        pair.n1.run(["nft", "add chain inet rejoin_block out "
                            "{ type filter hook output priority 0 ; }"])
        pair.n1.run(["nft", "add rule inet rejoin_block out meta skuid postgres "
                            "tcp dport 5432 reject with tcp reset"])
        pair.d1.start()
        wait_until(lambda: any("rejoin exited with status" in h and "status 0" not in h
                               for h in pair.hook_lines(pair.d1)), 30, 0.05,
                   lambda: f"n1's first rejoin to fail: {pair.hook_lines(pair.d1)}")
        pair.n1.run(["nft", "delete table inet rejoin_block"])
        pair.wait_rejoined()
        runs = [h for h in pair.hook_lines(pair.d1) if "rejoin started" in h]
        if len(runs) != 2 or "rejoin failed" not in pair.d1.log_text():
            raise LabError(f"expected a failed rejoin, then one retry: {pair.hook_lines(pair.d1)}")
        time.sleep(1)
        w.stop()
        probe.check()
        assert_single_holder([pair.n1, pair.n2], VIP, pair.n2)
        if pair.d2.state() != "MASTER" or len(pair.d2.transitions()) != 2:
            raise LabError(f"n2 flapped when n1 came back: {pair.d2.transitions()}")
        hooks1 = pair.hook_lines(pair.d1)
        if not any("rejoin exited with status 0" in h for h in hooks1):
            raise LabError(f"n1's rejoin hook did not run and succeed: {hooks1}")
        late = [r for r in w.results if r.ok and r.start > t_back]
        if not late or any(r.server != "n2" for r in late):
            raise LabError(f"writes after n1 came back did not all go to n2: {w.summary()}")
        print(f"RESULT pg_server_dies write_outage_ms={outage * 1000:.0f}", flush=True)


run_test(main)
