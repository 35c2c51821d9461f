#!/usr/bin/env python3
"""Write outage through the VIP, pgvrrpd against keepalived, on the lab of
the integration tests (pg_pair.py / keepalived_pair.py): n1 PostgreSQL 15
primary, n2 streaming standby, a client cl writing through the VIP.

Three faults on the master n1, each run for both daemons back to back, the
order swapped every run so that machine drift hits both alike:
  pg dies      pg_ctl stop -m immediate
  server dies  daemon and PostgreSQL SIGKILLed, n1's link down
  daemon dies  the daemon SIGKILLed, PostgreSQL left running; restarted
               after 1 s (systemd's Restart= with RestartSec=1)
The fault lands at a random moment (0-1 s after the standby caught up), so
it meets keepalived's 1 s check cycle and both daemons' advert timers at
every phase rather than always at the same one.

Per run, from the client's side (vip_writer, test/tools: an INSERT every
10 ms on a fresh connection through the VIP; a second one straight at n2's
own address to see when it becomes writable):
  outage       last write acknowledged before the fault to the first after it
  VIP          the fault to the VIP appearing on n2 (netlink event in n2)
  promotion    the fault to the first write n2 itself acknowledged
  2 primaries  a probe sampling every ~100 ms whether both servers accept
               writes over their own addresses; and the state at the end
  lost         writes acknowledged through the VIP (before or after the
               fault) missing on the server that holds the VIP at the end

    python3 bench/failover.py --runs 10            # or --quick
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                                "integration"))

import pgvrrpd_node  # noqa: E402
from addrwatch import AddressWatcher  # noqa: E402
from keepalived_pair import KeepalivedPgPair  # noqa: E402
from netlab import Lab  # noqa: E402
from percentile import pct  # noqa: E402
from pg_pair import VIP, PgPair  # noqa: E402
from processes import LabError, log  # noqa: E402
from replication import wait_caught_up, writers  # noqa: E402
from writer import FAST, Writer  # noqa: E402

SCENARIOS = ("pg dies", "server dies", "daemon dies")
DAEMONS = ("pgvrrpd", "keepalived")
RESTART_AFTER = 1.0   # systemd RestartSec=1
SETTLE = 2.0          # after the VIP moved (or the restart): let both sides settle
CONFIGS: dict[str, str] = {}
PGVRRPD_BIN = pgvrrpd_node.PGVRRPD_BIN


@dataclasses.dataclass
class Run:
    scenario: str
    daemon: str
    delay: float                      # s from "caught up" to the fault (random)
    outage: float | None = None       # s
    vip: float | None = None          # s to the VIP on n2; None: it never moved
    promotion: float | None = None    # s to n2 writable; None: never promoted
    two_primaries_seen: int = 0       # proven overlaps of writable answers (two_primaries.py)
    two_primaries_end: bool = False
    vip_holders: list = dataclasses.field(default_factory=list)
    acknowledged: int = 0
    lost: int = 0
    lost_acked_ms: list = dataclasses.field(default_factory=list)  # from the fault
    error: str = ""


# --baseline: an older pgvrrpd build run as a third daemon, "baseline", on
# the same lab and machine, to show what a change did to the figures.
BASELINE_BIN: str | None = None


def make_pair(lab: Lab, daemon: str):
    if daemon == "keepalived":
        return KeepalivedPgPair(lab)
    baseline = daemon == "baseline"
    # Builds before the `peer` key reject it; they obeyed any source.
    return PgPair(lab, pgvrrpd_bin=BASELINE_BIN if baseline else PGVRRPD_BIN,
                  peer_keys=not baseline)


def first_after(times, t0: float) -> float | None:
    later = [t for t in times if t >= t0]
    return min(later) - t0 if later else None


# Seconds between the writers' attempts: the measurement's resolution. Both
# writers keep one healthy session (vip_writer --keep) and open a new one
# only when none is idle, so every write after the fault is on a fresh
# connection, and before it the servers are spared a backend process per
# attempt: on a virtual machine where page faults are expensive (perf: 55 ms
# of CPU per PostgreSQL connection), a connection per 10 ms was more than two
# cores, and every write timed out.
WRITER_INTERVAL = 0.01
DIRECT_INTERVAL = 0.01


def one_run(scenario: str, daemon: str, delay: float, logs: str | None = None) -> Run:
    run = Run(scenario, daemon, delay)
    with Lab("bench_failover") as lab:
        pair = make_pair(lab, daemon)
        CONFIGS[daemon] = pair.config("n1")
        pair.start()
        w = pair.writer(fast=True, interval=WRITER_INTERVAL, keep=True)
        # n2 straight, on one kept session, one attempt at a time (its INSERTs
        # are refused, read-only, until the promotion ends; n2 never breaks it).
        direct = Writer(pair.cl, [pair.s], note="direct", keep=True, max_inflight=1,
                        **{**FAST, "interval": WRITER_INTERVAL}).start()
        probe = pair.two_primaries_probe()
        vip_on_n2 = AddressWatcher(pair.n2, VIP)
        time.sleep(0.5)
        wait_caught_up(pair.p, pair.s)
        time.sleep(delay)
        t_fault = time.monotonic()
        if scenario == "pg dies":
            pair.p.stop("immediate")
        elif scenario == "server dies":
            pair.kill_n1_server()
        else:
            pair.kill_n1_daemon()
            time.sleep(RESTART_AFTER - (time.monotonic() - t_fault))
            pair.restart_n1_daemon()
        if scenario != "daemon dies":
            try:
                vip_on_n2.wait_present(10)
                w.wait_acknowledged(3, timeout=10, server="n2")
            except LabError as e:
                run.error = str(e).splitlines()[0][:200]
        time.sleep(SETTLE)
        w.stop()
        direct.stop()
        probe.stop()
        run.outage = pair.write_outage(w, t_fault) if not run.error else None
        run.vip = first_after([t for t, k in vip_on_n2.events if k == "present"], t_fault)
        run.promotion = first_after([r.end for r in direct.results if r.ok], t_fault)
        run.two_primaries_seen = len(probe.violations)
        run.two_primaries_end = len(writers([pair.p, pair.s])) > 1
        run.vip_holders = [h.short for h in (pair.n1, pair.n2) if h.has_address(VIP)]
        run.acknowledged, run.lost, run.lost_acked_ms = lost_writes(pair, w, t_fault)
        log(f"{daemon}, {scenario}: {run}")
        if logs:
            keep_logs(lab, logs)
    return run


def lost_writes(pair, w, t_fault: float) -> tuple[int, int, list[float]]:
    """(acknowledged, missing on the server that answered through the VIP
    last, when each missing one was acknowledged in ms from the fault).
    Rows are told apart by their note: ids repeat across a split brain. A
    write acknowledged by n1 in the last milliseconds before the fault may
    not have reached the asynchronous standby yet: that is the loss
    asynchronous replication allows, and the times show it."""
    acked = [r for r in w.results if r.ok]
    last = max(acked, key=lambda r: r.end).server
    node = pair.p if last == "n1" else pair.s
    have = set(node.psql("SELECT note FROM writes").splitlines())
    lost = [r for r in acked if r.note not in have]
    return len(acked), len(lost), sorted(round((r.end - t_fault) * 1000, 1) for r in lost)


def keep_logs(lab: Lab, dest: str) -> None:
    """The daemons' and hooks' logs of a run (not PostgreSQL's data)."""
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(lab.tmpdir):
        if name.endswith(".log") and name.startswith(("n1", "n2")):
            shutil.copy(lab.path(name), dest)


def ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.0f}"


def median_outage(runs: list[Run], scenario: str, daemon: str) -> float | None:
    out = [r.outage for r in runs
           if r.scenario == scenario and r.daemon == daemon and r.outage is not None]
    return statistics.median(out) if out else None


def summarize(runs: list[Run]) -> str:
    head = ("| scenario | daemon | runs | outage median ms | outage p90 ms | VIP on n2 median ms "
            "| promotion median ms | runs promoted | runs with 2 primaries (seen / at end) "
            "| lost writes (runs) | ratio pgvrrpd/keepalived (median outage) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for scenario in SCENARIOS:
        medians = {}
        for daemon in DAEMONS:
            rs = [r for r in runs if r.scenario == scenario and r.daemon == daemon]
            if not rs:
                continue
            out = [r.outage for r in rs if r.outage is not None]
            vip = [r.vip for r in rs if r.vip is not None]
            pro = [r.promotion for r in rs if r.promotion is not None]
            medians[daemon] = median_outage(runs, scenario, daemon)
            failed = len(rs) - len(out)
            cells = [scenario, daemon, f"{len(rs)}" + (f" ({failed} failed)" if failed else ""),
                     ms(medians[daemon]), ms(pct(out, 90)) if out else "-",
                     ms(statistics.median(vip)) if vip else "never moved",
                     ms(statistics.median(pro)) if pro else "none",
                     f"{len(pro)}/{len(rs)}",
                     f"{sum(r.two_primaries_seen > 0 for r in rs)} / "
                     f"{sum(r.two_primaries_end for r in rs)}",
                     f"{sum(r.lost for r in rs)} ({sum(r.lost > 0 for r in rs)})", ""]
            if daemon == "keepalived" and medians.get("pgvrrpd") and medians["keepalived"]:
                cells[-1] = f"{medians['pgvrrpd'] / medians['keepalived']:.2f}"
            if daemon == "baseline" and medians.get("pgvrrpd") and medians["baseline"]:
                cells[-1] = f"pgvrrpd/baseline {medians['pgvrrpd'] / medians['baseline']:.2f}"
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_all(runs: int, scenarios=SCENARIOS, seed: int = 1, json_path: str | None = None,
            logs: str | None = None) -> list[Run]:
    """`runs` runs of each scenario for each daemon, alternating the daemons.
    logs: a directory to keep each run's daemon logs in."""
    rng = random.Random(seed)
    done: list[Run] = []
    for i in range(runs):
        for scenario in scenarios:
            order = DAEMONS if i % 2 == 0 else DAEMONS[::-1]
            for daemon in order:
                dest = logs and os.path.join(
                    logs, f"{len(done) + 1:03}-{scenario.replace(' ', '_')}-{daemon}")
                delay = rng.uniform(0, 1)
                try:
                    done.append(one_run(scenario, daemon, delay, dest))
                except LabError as e:   # counted and shown, the others still run
                    done.append(Run(scenario, daemon, delay, error=str(e).splitlines()[0][:200]))
                if json_path:
                    with open(json_path, "w") as f:
                        json.dump([dataclasses.asdict(r) for r in done], f, indent=1)
    return done


def configs() -> str:
    """n1's configuration under each daemon, as the last runs had them."""
    return "".join(f"\n{daemon}, n1:\n\n```\n{text}```\n" for daemon, text in CONFIGS.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="runs per scenario and daemon")
    parser.add_argument("--quick", action="store_true", help="one run of each (CI smoke run)")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--seed", type=int, default=1, help="for the random fault moments")
    parser.add_argument("--json", help="write every run's figures here as they come")
    parser.add_argument("--logs", help="keep each run's daemon and hook logs under this directory")
    parser.add_argument("--pgvrrpd", default=pgvrrpd_node.PGVRRPD_BIN)
    parser.add_argument("--baseline", metavar="PGVRRPD",
                        help="an older pgvrrpd build to run as a third daemon ('baseline')")
    parser.add_argument("--writer-interval-ms", type=float, default=WRITER_INTERVAL * 1000,
                        help="between write attempts (default 10)")
    args = parser.parse_args()
    globals()["PGVRRPD_BIN"] = os.path.abspath(args.pgvrrpd)
    if args.baseline:
        globals()["BASELINE_BIN"] = os.path.abspath(args.baseline)
        globals()["DAEMONS"] = DAEMONS + ("baseline",)
    globals()["WRITER_INTERVAL"] = args.writer_interval_ms / 1000
    print(summarize(run_all(1 if args.quick else args.runs, args.scenario or SCENARIOS,
                            args.seed, args.json, args.logs)))


if __name__ == "__main__":
    main()
