#!/usr/bin/env python3
"""pgvrrpd against keepalived, measured side by side in one run on the same
lab: the write outage of three faults (failover.py), pgvrrpd's planned
handover (switchover.py: keepalived has none), and what each daemon costs to
run (footprint.py). Prints one markdown report: the machine, the
tables, the targets met or missed, the configurations both daemons ran.

    sudo ./packaging/bench.sh            # installs, builds, then this
    python3 bench/benchmark.py           # full: 10 runs per scenario and daemon (~15 min)
    python3 bench/benchmark.py --quick   # one run of each, short windows (~2 min)

Runs as root, in network namespaces only (198.51.100.0/24); needs the build
(build/pgvrrpd, build/test/vip_writer)."""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))

import failover  # noqa: E402
import pgvrrpd_node  # noqa: E402
from pgvrrpd_node import skew_time  # noqa: E402
from pg_pair import N2_PRIORITY  # noqa: E402
from keepalived_lab import keepalived_version  # noqa: E402
from pglab import PG_BIN  # noqa: E402

ADVERT_INTERVAL = 0.1


def first_line(argv: list[str]) -> str:
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError as e:
        return f"({e})"
    return ((cp.stdout or cp.stderr).strip().splitlines() or ["?"])[0]


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    with open("/etc/debian_version") as f:
        debian = f.read().strip()
    return "\n".join([
        f"- {os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM",
        f"- Debian {debian}, Linux {platform.release()}",
        f"- {first_line([pgvrrpd_node.PGVRRPD_BIN, '--version'])}; "
        f"{keepalived_version()}; "
        f"{first_line([os.path.join(PG_BIN, 'postgres'), '--version'])}",
    ])


def targets(runs: list[failover.Run]) -> list[str]:
    """The issue's failover targets, each judged on this run's figures."""
    def med(scenario, daemon):
        return failover.median_outage(runs, scenario, daemon)

    def line(ok: bool, text: str) -> str:
        return f"- {'met' if ok else 'MISSED'}: {text}"

    out = []
    pg, ka = med("pg dies", "pgvrrpd"), med("pg dies", "keepalived")
    if pg is not None and ka:
        out.append(line(pg <= 0.3 and pg <= 0.1 * ka,
                        f"PostgreSQL dies: median outage {pg * 1000:.0f} ms <= 300 ms and "
                        f"<= 0.1 x keepalived's {ka * 1000:.0f} ms "
                        f"(ratio {pg / ka:.3f})"))
    sd = med("server dies", "pgvrrpd")
    if sd is not None:
        bound = 3 * ADVERT_INTERVAL + skew_time(N2_PRIORITY, ADVERT_INTERVAL) + 0.15
        out.append(line(sd <= bound, f"server dies: median outage {sd * 1000:.0f} ms <= "
                                     f"3 x advert_interval + Skew_Time + 150 ms = "
                                     f"{bound * 1000:.0f} ms"))
    dd = [r for r in runs if r.scenario == "daemon dies" and r.daemon == "pgvrrpd"]
    if dd:
        promoted = sum(r.promotion is not None for r in dd)
        two = sum(r.two_primaries_seen > 0 or r.two_primaries_end for r in dd)
        worst = max((r.outage for r in dd if r.outage is not None), default=None)
        kd = [r for r in runs if r.scenario == "daemon dies" and r.daemon == "keepalived"]
        beside = (f" (keepalived: {sum(r.promotion is not None for r in kd)} promotions, "
                  f"{sum(r.two_primaries_seen > 0 or r.two_primaries_end for r in kd)} runs "
                  f"with two writable primaries, of {len(kd)})") if kd else ""
        out.append(line(promoted == 0 and two == 0,
                        f"daemon dies: {promoted} promotions and {two} runs with two writable "
                        f"primaries in {len(dd)} runs{beside}"))
        out.append(line(worst is not None and worst <= 0.1,
                        f"daemon dies: worst write outage of {len(dd)} runs "
                        f"{'-' if worst is None else f'{worst * 1000:.0f} ms'} <= 100 ms"))
    failed = [r for r in runs if r.error]
    if failed:
        out.append(f"- {len(failed)} runs failed: " +
                   "; ".join(f"{r.daemon} {r.scenario}: {r.error}" for r in failed[:5]))
    return out


def safety_failures(runs: list[failover.Run]) -> list[str]:
    """What --check fails on: runs that did not complete, and pgvrrpd runs
    that left two writable primaries or promoted when only the daemon died."""
    out = [f"{r.daemon} {r.scenario}: run failed: {r.error}" for r in runs if r.error]
    for r in runs:
        if r.daemon != "pgvrrpd":
            continue
        if r.two_primaries_seen or r.two_primaries_end:
            out.append(f"pgvrrpd {r.scenario}: two writable primaries")
        if r.scenario == "daemon dies" and r.promotion is not None:
            out.append("pgvrrpd daemon dies: n2 was promoted")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="one run per scenario and daemon, short footprint windows")
    parser.add_argument("--runs", type=int, default=10, help="runs per scenario and daemon")
    parser.add_argument("--seed", type=int, default=1, help="for the random fault moments")
    parser.add_argument("--skip-footprint", action="store_true")
    parser.add_argument("--skip-failover", action="store_true")
    parser.add_argument("--skip-switchover", action="store_true")
    parser.add_argument("--switchovers", type=int, default=20,
                        help="back and forth (--quick: 2)")
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a run failed or pgvrrpd broke a safety rule (two "
                             "writable primaries, a promotion when only the daemon died); "
                             "timing targets are reported, never asserted")
    parser.add_argument("--json", help="every failover run's figures, as they come")
    parser.add_argument("--pgvrrpd", default=pgvrrpd_node.PGVRRPD_BIN)
    parser.add_argument("--writer-interval-ms", type=float,
                        default=failover.WRITER_INTERVAL * 1000,
                        help="between write attempts (default 10; the outage's resolution)")
    args = parser.parse_args()
    pgvrrpd_node.PGVRRPD_BIN = failover.PGVRRPD_BIN = os.path.abspath(args.pgvrrpd)
    runs = 1 if args.quick else args.runs
    failover.WRITER_INTERVAL = args.writer_interval_ms / 1000
    started = time.monotonic()

    report = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
              f"with `python3 bench/benchmark.py{' --quick' if args.quick else ''}`"
              f"{f' --runs {runs}' if not args.quick and runs != 10 else ''}"
              f"{f' --writer-interval-ms {args.writer_interval_ms:g}' if failover.WRITER_INTERVAL != 0.01 else ''}:", "",
              machine(), ""]
    if not args.skip_failover:
        done = failover.run_all(runs, seed=args.seed, json_path=args.json)
        broken = safety_failures(done)
        report += [f"## Failover: write outage through the VIP ({runs} runs per scenario "
                   "and daemon, alternating)", "", failover.summarize(done), "",
                   "### Targets", "", *targets(done), ""]
    broken_switchover = []
    if not args.skip_switchover:
        import switchover
        switchover.WRITER_INTERVAL = failover.WRITER_INTERVAL
        count = 2 if args.quick else args.switchovers
        result = switchover.run(count, failover.WRITER_INTERVAL)
        broken_switchover = switchover.safety_failures(result)
        report += [f"## Switchover: {count} planned handovers back and forth (pgvrrpd only)",
                   "", switchover.summarize(result), ""]
    if not args.skip_footprint:
        import footprint
        report += [footprint.run(quick=args.quick), ""]
    if not args.skip_failover:
        report += ["## Configurations", "", failover.configs(), ""]
    report.append(f"(benchmark took {(time.monotonic() - started) / 60:.1f} min)")
    text = "\n".join(report)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    broken = (broken if not args.skip_failover else []) + broken_switchover
    if args.check and broken:
        print("\n".join(["", "check failed:", *broken]))
        sys.exit(1)


if __name__ == "__main__":
    main()
