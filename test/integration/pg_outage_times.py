#!/usr/bin/env python3
"""Write outage through the VIP when the master's PostgreSQL dies and when
the master's whole server dies, at 0.1 s adverts, over several runs: a
table of median / min / max (ms), from the last write acknowledged before
the fault to the first one acknowledged after it. The client is vip_writer
(test/tools, built by CMake): an INSERT every 10 ms, each on a fresh
connection, 0.5 s connect deadline, several in flight. --writer psql uses
the old psql-per-write Writer (every ~50 ms) for comparison; --keep makes
vip_writer keep one connection and reconnect after an error.

    python3 test/integration/pg_outage_times.py --runs 5

Runs as root, in network namespaces (netlab.py, pglab.py). Not part of
ctest: test_pg_dies / test_pg_server_dies assert the behaviour; this
reports the figures. --daemon keepalived runs the same lab under
keepalived (keepalived_pair.py) for a first comparison; the benchmark
against keepalived (issue 4) comes later."""
import argparse
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgvrrpd_node  # noqa: E402
from netlab import Lab, log, wait_until  # noqa: E402
from keepalived_pair import KeepalivedPgPair  # noqa: E402
from pg_pair import VIP, PgPair  # noqa: E402
from pglab import wait_caught_up  # noqa: E402


def one_run(case: str, writer: str, keep: bool, daemon: str) -> float:
    with Lab("pg_outage_times") as lab:
        pair = PgPair(lab) if daemon == "pgvrrpd" else KeepalivedPgPair(lab)
        pair.start()
        w = pair.writer(fast=True, keep=keep) if writer == "fast" else pair.writer()
        time.sleep(0.5)
        wait_caught_up(pair.p, pair.s)
        t_fault = time.monotonic()
        if case == "pg dies":
            pair.p.stop("immediate")
        else:
            if daemon == "pgvrrpd":
                pair.d1.kill(signal.SIGKILL)
            else:
                pair.k1.kill(signal.SIGKILL)
            pair.p.kill()
            pair.n1.link_down()
        wait_until(lambda: pair.n2.has_address(VIP), 10, 0.01, "the VIP on n2")
        w.wait_acknowledged(3, timeout=10, server="n2")
        w.stop()
        outage = pair.write_outage(w, t_fault)
        log(f"{daemon}, {case}: outage {outage * 1000:.0f} ms; {w.summary()}")
        if daemon == "keepalived":
            log(f"n2 notify_master: {pair.promote_log('n2').strip()!r}")
        return outage


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pgvrrpd", default=pgvrrpd_node.PGVRRPD_BIN)
    parser.add_argument("--writer", choices=("fast", "psql"), default="fast")
    parser.add_argument("--keep", action="store_true",
                        help="vip_writer keeps one connection (reconnects on error)")
    parser.add_argument("--daemon", choices=("pgvrrpd", "keepalived"), default="pgvrrpd",
                        help="who runs the pair (keepalived: keepalived_pair.py's config)")
    parser.add_argument("--case", choices=("pg dies", "server dies"), action="append")
    args = parser.parse_args()
    pgvrrpd_node.PGVRRPD_BIN = os.path.abspath(args.pgvrrpd)
    rows = []
    for case in args.case or ("pg dies", "server dies"):
        ms = [one_run(case, args.writer, args.keep, args.daemon) * 1000 for _ in range(args.runs)]
        rows.append((case, statistics.median(ms), min(ms), max(ms), ms))
    how = ("psql per write, ~50 ms" if args.writer == "psql" else
           "vip_writer, 10 ms, " + ("one kept connection" if args.keep else "fresh connections"))
    print(f"\nwrite outage through the VIP, {args.daemon}, advert_interval 0.1 s, "
          f"{args.runs} runs each ({how})")
    print("| case        | median ms | min ms | max ms | runs (ms) |")
    print("|-------------|-----------|--------|--------|-----------|")
    for case, med, lo, hi, ms in rows:
        print(f"| {case:11} | {med:9.0f} | {lo:6.0f} | {hi:6.0f} | "
              f"{', '.join(f'{x:.0f}' for x in ms)} |")


if __name__ == "__main__":
    main()
