#!/usr/bin/env python3
"""Issue 11's loss table: acknowledged writes lost when the primary's whole
server dies, N times in a row, with synchronous = off, on and strict, and
what synchronous replication costs a commit (median and p99 of the
writer's commits in a window without faults). How each kill is made and
counted: test/integration/sync_kills.py. Patroni's rows (--patroni) come
from patroni_sync.py: the same writer and server settings, in a lab of its
own with one etcd.

    python3 bench/sync_loss.py --kills 50                 # off, on, strict
    python3 bench/sync_loss.py --kills 5 --modes on       # a quick look
    python3 bench/sync_loss.py --kills 50 --patroni       # and Patroni's rows

Exit status 1 when on or strict lost an acknowledged write (the guarantee),
or a kill did not converge. Runs as root, in network namespaces only
(198.51.100.0/24)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))

from sync_kills import run  # noqa: E402

def table(rows: list[dict]) -> str:
    lines = ["| system, mode | kills | acknowledged writes | lost | kills that lost | "
             "outage median | outage max | commit median | commit p99 |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        outage = r.get("outage_s") or r.get("outage_per_kill") or [0.0]
        lines.append(
            f"| {r.get('system', 'pgvrrpd')}, {r['mode']} | {r['kills_done']} | "
            f"{r.get('acked_total', 0)} | {r['lost_total']} | "
            f"{sum(1 for x in r['lost_per_kill'] if x)} | "
            f"{statistics.median(outage) * 1000:.0f} ms | {max(outage) * 1000:.0f} ms | "
            f"{r['median_ms']:.2f} ms | {r['p99_ms']:.2f} ms |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--modes", default="off,on,strict")
    ap.add_argument("--patroni", action="store_true", help="add Patroni's rows (patroni_sync.py)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    rows = []
    started = time.monotonic()
    for mode in args.modes.split(","):
        rows.append(run(mode, args.kills, args.seed))
    if args.patroni:
        import patroni_sync  # noqa: E402 (optional: needs patroni and etcd)
        for synchronous in (False, True):
            r = patroni_sync.run(args.kills, synchronous, args.seed)
            r.update(system="Patroni", mode="synchronous_mode" if synchronous else "asynchronous")
            rows.append(r)
    print(f"\n{table(rows)}\n\n{args.kills} kills per row; took "
          f"{(time.monotonic() - started) / 60:.1f} min")
    for r in rows:
        for e in r.get("errors", []):
            print(f"{r.get('system', 'pgvrrpd')}, {r['mode']}: {e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    bad = [r for r in rows if r.get("errors") or r["kills_done"] < args.kills or
           (r.get("system", "pgvrrpd") == "pgvrrpd" and r["mode"] != "off" and r["lost_total"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
