#!/usr/bin/env python3
"""Issue 11, synchronous = on under repeated failovers: the master's whole
server killed at random moments under a writer committing as fast as it
can through the VIP (sync_kills.py), 10 times, n1 and n2 in turn: after
each, every acknowledged write is on the new primary. The same kills 50
times, with off and strict beside, are bench/sync_loss.py's loss table;
10 here keep the suite short."""
from processes import LabError, log
from runner import run_test
from sync_kills import run

KILLS = 10


def main():
    r = run("on", KILLS, seed=11, latency_window=3)
    log(f"on: {r['kills_done']} kills, {r['acked_total']} acknowledged writes, "
        f"{r['lost_total']} lost; outages (s) {[round(x, 3) for x in r['outage_s']]}")
    if r["errors"] or r["kills_done"] != KILLS:
        raise LabError(f"not every kill ended with the pair back: {r['errors']}")
    if r["lost_total"]:
        raise LabError(f"acknowledged writes lost with synchronous = on: {r['lost_per_kill']}")
    print(f"RESULT pg_sync_kills kills={r['kills_done']} acked={r['acked_total']} lost=0 "
          f"commit_median_ms={r['median_ms']:.2f} commit_p99_ms={r['p99_ms']:.2f}", flush=True)


run_test(main)
