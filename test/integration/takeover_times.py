#!/usr/bin/env python3
"""Measures pgvrrpd takeover times over several runs of the two-node
failover scenario and prints a table (median, min, max in ms).

    python3 test/integration/takeover_times.py --runs 5

Runs as root, in network namespaces (see netlab.py). Not part of ctest: the
tests assert the bounds, this reports the figures."""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import failover_scenario  # noqa: E402
import pgvrrpd_node  # noqa: E402
from pgvrrpd_node import master_down_interval, skew_time  # noqa: E402

CASES = [("v3 IPv4", dict(family=4, interval=0.1)),
         ("v3 IPv4", dict(family=4, interval=1.0)),
         ("v3 IPv6", dict(family=6, interval=0.1)),
         ("v2 IPv4", dict(family=4, interval=1.0, version=2))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pgvrrpd", default=pgvrrpd_node.PGVRRPD_BIN)
    args = parser.parse_args()
    pgvrrpd_node.PGVRRPD_BIN = os.path.abspath(args.pgvrrpd)
    rows = []
    for label, params in CASES:
        results = [failover_scenario.run("takeover_times", **params) for _ in range(args.runs)]
        interval = params["interval"]
        for key, bound in (("sigkill_takeover",
                            master_down_interval(failover_scenario.LOW, interval)),
                           ("sigterm_takeover", skew_time(failover_scenario.HIGH, interval))):
            ms = [r[key] * 1000 for r in results]
            rows.append((label, interval, key.split("_")[0].upper(), statistics.median(ms),
                         min(ms), max(ms), bound * 1000))
    print(f"\n{args.runs} runs per case; SIGKILL bound = Master_Down_Interval of the backup "
          "(priority 100), SIGTERM bound = Skew_Time of the backup (priority 150)")
    print(f"| {'case':8} | interval | signal  | median ms | min ms | max ms | RFC timer ms |")
    print("|----------|----------|---------|-----------|--------|--------|--------------|")
    for label, interval, sig, med, lo, hi, bound in rows:
        print(f"| {label:8} | {interval:6.1f} s | {sig:7} | {med:9.0f} | {lo:6.0f} | {hi:6.0f} "
              f"| {bound:12.0f} |")


if __name__ == "__main__":
    main()
