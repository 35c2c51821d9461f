#!/usr/bin/env python3
"""pgvrrpd against the tools a team picks instead (issue 12), in one lab,
one run, with the same writer and the same faults. Each tool is a
Contender (bench/peer_lab.py): its own lab of n1 (primary), n2 (standby),
cl (client) and, where it needs one, a third host; its configuration is
filled from bench/peers/<tool>/, where every setting that is not the
default says why and where its documentation says so.

Faults, on the primary's node n1, at a random moment 0-1 s after the
standby caught up:
  pg dies       PostgreSQL killed (SIGQUIT: pg_ctl stop -m immediate)
  server dies   every process of n1 frozen and SIGKILLed, its link down;
                after the observation, n1 boots again (link up, the tool
                started as at boot): the failback
  daemon dies   the tool's daemon on n1 SIGKILLed, PostgreSQL left
                running; restarted 1 s later (systemd's RestartSec=1)
  link down     n1's link down, everything on it running; back up after
                the observation
  nodes cut     n1 and n2 cut from each other at the bridge, both still
                reaching the client (and the third host); healed after
                the observation, and not before MIN_CUT (20 s)

Per run, from the client's side (test/tools/vip_writer through the
tool's way to the primary, an INSERT every 10 ms on a kept session; a
second one on n2's own address):
  outage        the longest gap between acknowledged writes from the last
                one before the fault to the end of the observation
  VIP on n2     the fault to the VIP appearing on n2 (tools with a VIP)
  promotion     the fault to n2's first acknowledged write of its own
  2 primaries   the probe proved both servers writable at once while the
                fault lasted, or after it ended (the failback, the heal, the
                daemon's restart), or both were writable when the run ended
  lost          writes acknowledged (before or after the fault) missing on
                the primary at the end, after recovery
  by hand       what the operator had to do to get two healthy nodes back
                when the tool did not within RECOVER_WAIT: the tool's
                documented procedure, run and named here

  stalled       no write acknowledged for as long as the fault lasted (the
                outage is then at least the fault's length, not a failover)

    python3 bench/compare.py --runs 5                     # every tool
    python3 bench/compare.py --quick --check --tools pgvrrpd,patroni-fast
    python3 bench/compare.py --from-json runs.json        # the table again

--check (ctest's quick entry): exit 1 unless every run ended with the pair
whole (by itself or by the tool's documented repair), one primary and
never two writable at the end, and no acknowledged write lost when only the
HA daemon died. Safety only: timing is printed, never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))

from addrwatch import AddressWatcher  # noqa: E402
from failover import first_after, ms  # noqa: E402
from netlab import Lab  # noqa: E402
from peer_autofailover import AutoFailover  # noqa: E402
from peer_lab import VIP  # noqa: E402
from peer_patroni import DOCUMENTED, FAST as PATRONI_FAST, PatroniVip  # noqa: E402
from peer_pgpool import Pgpool  # noqa: E402
from peer_repmgr import Repmgr  # noqa: E402
from peer_vrrp import (KeepalivedContender, PgvrrpdContender,  # noqa: E402
                       PgvrrpdSyncContender)
from percentile import pct  # noqa: E402
from processes import LabError, log  # noqa: E402
from replication import wait_caught_up, writers  # noqa: E402
from two_primaries import TwoPrimariesProbe  # noqa: E402
from writer import FAST, Writer  # noqa: E402

TOOLS = {
    "pgvrrpd": PgvrrpdContender,
    "pgvrrpd-sync": PgvrrpdSyncContender,
    "pgvrrpd-strict": lambda lab: PgvrrpdSyncContender(lab, "strict"),
    "keepalived": KeepalivedContender,
    "patroni": lambda lab: PatroniVip(lab, DOCUMENTED),
    "patroni-fast": lambda lab: PatroniVip(lab, PATRONI_FAST),
    "repmgr": Repmgr,
    "pgpool": Pgpool,
    "pg_auto_failover": AutoFailover,
}
# strict holds writes for as long as the standby is away (by design, and
# 65 s a fault here): measured on request, not in the default run.
DEFAULT_TOOLS = [t for t in TOOLS if t != "pgvrrpd-strict"]
SCENARIOS = ("pg dies", "server dies", "daemon dies", "link down", "nodes cut")
# As bench/failover.py's writer: an attempt every 10 ms on a kept session,
# new attempts while earlier ones wait (up to vip_writer's 64): a
# connection that hangs on a moved VIP must not hold back the next.
WRITER = {**FAST, "interval": 0.01, "keep": True}
RESTART_AFTER = 1.0     # systemd RestartSec=1
FAILOVER_WAIT = 60.0    # s for writes to be acknowledged again after a fault
OBSERVE = 5.0           # s after that (or after the fault, when nothing moves)
# A cut between the nodes lasts at least this long: a blip of a few seconds
# ends before most tools' health checks have failed twice, and what is
# measured is what a partition does.
MIN_CUT = 20.0
RECOVER_WAIT = 45.0     # s for the tool to make the pair whole by itself


@dataclasses.dataclass
class Run:
    tool: str
    scenario: str
    delay: float
    name: str = ""
    machines: str = ""
    has_vip: bool = True
    outage: float | None = None
    vip: float | None = None
    promotion: float | None = None
    two_primaries_seen: int = 0        # proven overlaps while the fault lasted
    two_primaries_after: int = 0       # ... once it ended (failback, heal, restart)
    two_primaries_end: bool = False
    acknowledged: int = 0
    lost: int = 0
    lost_acked_ms: list = dataclasses.field(default_factory=list)
    stalled: bool = False               # no write acknowledged for as long as the fault lasted
    recovered_in: float | None = None   # s from the restore to a whole pair, by itself
    by_hand: list = dataclasses.field(default_factory=list)
    error: str = ""


def outage_after(w: Writer, t_fault: float, t_end: float) -> float | None:
    """The longest gap between consecutive acknowledgements from the last
    one before the fault to t_end (a gap still open at t_end counts to it)."""
    acks = sorted(r.end for r in w.results if r.ok and r.end <= t_end)
    before = [t for t in acks if t < t_fault]
    if not before:
        return None
    series = [before[-1]] + [t for t in acks if t >= t_fault] + [t_end]
    return max(b - a for a, b in zip(series, series[1:]))


def fault(c, scenario: str) -> None:
    if scenario == "pg dies":
        c.kill_postgres("n1")
    elif scenario == "server dies":
        c.kill_server("n1")
    elif scenario == "daemon dies":
        t = time.monotonic()
        c.kill_daemon("n1")
        time.sleep(max(0.0, RESTART_AFTER - (time.monotonic() - t)))
        c.restart_daemon("n1")
    elif scenario == "link down":
        c.n1.link_down()
    elif scenario == "nodes cut":
        c.lab.cut(c.n1, c.n2)
    else:
        raise ValueError(scenario)


def restore(c, scenario: str) -> None:
    """What ends the fault: the node boots, the link or the network heals."""
    if scenario == "server dies":
        c.server_back("n1")
    elif scenario == "link down":
        c.n1.link_up()
    elif scenario == "nodes cut":
        c.lab.heal()


def acknowledged_after(w: Writer, t: float) -> int:
    return sum(1 for r in list(w.results) if r.ok and r.start >= t)


def one_run(tool: str, scenario: str, delay: float) -> Run:
    run = Run(tool, scenario, delay)
    with Lab("bench_compare") as lab:
        c = TOOLS[tool](lab)
        run.name, run.machines, run.has_vip = c.name, c.machines, c.has_vip
        c.start()
        w = c.writer(note="vip", **WRITER)
        w.wait_acknowledged(5, timeout=20)
        direct = Writer(c.cl, [c.pg["n2"]], note="direct", keep=True, max_inflight=1,
                        user=c.client_user,
                        **{**FAST, "interval": WRITER["interval"]}).start()
        probe = TwoPrimariesProbe(lab, c.cl, [c.pg["n1"], c.pg["n2"]])
        vip_on_n2 = AddressWatcher(c.n2, VIP) if c.has_vip else None
        time.sleep(0.5)
        wait_caught_up(c.pg["n1"], c.pg["n2"])
        time.sleep(delay)
        t_fault = time.monotonic()
        fault(c, scenario)
        deadline = time.monotonic() + FAILOVER_WAIT
        while time.monotonic() < deadline and acknowledged_after(w, t_fault + 0.05) < 3:
            time.sleep(0.05)
        time.sleep(OBSERVE)
        if scenario == "nodes cut":
            time.sleep(max(0.0, t_fault + MIN_CUT - time.monotonic()))
        t_observed = time.monotonic()
        run.outage = outage_after(w, t_fault, t_observed)
        if vip_on_n2:
            run.vip = first_after([t for t, k in vip_on_n2.events if k == "present"], t_fault)
        run.promotion = first_after([r.end for r in direct.results if r.ok], t_fault)
        # Not an error of the run: a tool that keeps the client waiting for
        # as long as the fault lasts (the outage column then shows how long
        # the fault was made to last, a lower bound).
        run.stalled = acknowledged_after(w, t_fault + 0.05) < 3
        # The fault ends; the pair must become whole again, by itself or by hand.
        t_restore_wall = time.time()   # the probe's answers carry wall-clock times
        restore(c, scenario)
        t_restore = time.monotonic()
        deadline = t_restore + RECOVER_WAIT
        missing = c.healthy()
        while missing and time.monotonic() < deadline:
            time.sleep(0.5)
            missing = c.healthy()
        if missing is None:
            run.recovered_in = round(time.monotonic() - t_restore, 1)
        else:
            log(f"{tool}, {scenario}: not whole after {RECOVER_WAIT:.0f} s ({missing}): by hand")
            # The node the fault hit, unless the tool kept it the primary.
            stale = "n2" if c.primary() == "n1" else "n1"
            try:
                run.by_hand = c.repair(stale)
            except LabError as e:
                run.by_hand = [f"failed: {str(e).splitlines()[0][:120]}"]
        time.sleep(1)
        w.stop()
        direct.stop()
        probe.stop()
        found = probe.violations
        run.two_primaries_seen = sum(1 for v in found if v[3] < t_restore_wall)
        run.two_primaries_after = len(found) - run.two_primaries_seen
        run.two_primaries_end = len(writers([c.pg["n1"], c.pg["n2"]])) > 1
        primary = c.primary()
        acked = [r for r in w.results if r.ok]
        run.acknowledged = len(acked)
        if primary:
            have = set(c.pg[primary].psql("SELECT note FROM writes", timeout=60).splitlines())
            lost = [r for r in acked if r.note not in have]
            run.lost = len(lost)
            run.lost_acked_ms = sorted(round((r.end - t_fault) * 1000, 1) for r in lost)
        else:
            run.error = run.error or "no single primary at the end"
        if hasattr(c, "events"):    # the tool's own record of its decisions
            log(f"{tool}, {scenario}: the tool's events:\n{c.events()}")
        log(f"{tool}, {scenario}: {run}")
    return run


def summarize(runs: list[Run], tools: list[str], scenarios: list[str]) -> str:
    head = ("| scenario | tool | machines | runs | outage median ms | outage p90 ms "
            "| VIP on n2 median ms | promotion median ms "
            "| runs with 2 primaries (during the fault / after it / at end) "
            "| lost writes (runs) | whole again by itself (median s) | by hand |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for scenario in scenarios:
        for tool in tools:
            rs = [r for r in runs if r.scenario == scenario and r.tool == tool]
            if not rs:
                continue
            out = [r.outage for r in rs if r.outage is not None]
            vip = [r.vip for r in rs if r.vip is not None]
            pro = [r.promotion for r in rs if r.promotion is not None]
            rec = [r.recovered_in for r in rs if r.recovered_in is not None]
            hand = sorted({"; ".join(r.by_hand) for r in rs if r.by_hand})
            failed = sum(1 for r in rs if r.error)
            stalled = sum(1 for r in rs if r.stalled)
            at_least = "≥ " if stalled else ""
            cells = [scenario, rs[0].name or tool, rs[0].machines,
                     f"{len(rs)}" + (f" ({failed} failed)" if failed else "")
                     + (f" ({stalled} stalled for the whole fault)" if stalled else ""),
                     at_least + ms(statistics.median(out)) if out else "-",
                     at_least + ms(pct(out, 90)) if out else "-",
                     (ms(statistics.median(vip)) if vip else "never moved")
                     if rs[0].has_vip else "no VIP",
                     ms(statistics.median(pro)) if pro else "none",
                     f"{sum(r.two_primaries_seen > 0 for r in rs)} / "
                     f"{sum(r.two_primaries_after > 0 for r in rs)} / "
                     f"{sum(r.two_primaries_end for r in rs)}",
                     f"{sum(r.lost for r in rs)} ({sum(r.lost > 0 for r in rs)})",
                     f"{len(rec)}/{len(rs)}" + (f" ({statistics.median(rec):.1f})" if rec
                                                 else ""),
                     " / ".join(hand) or "nothing"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_all(runs: int, tools: list[str], scenarios: list[str], seed: int = 1,
            json_path: str | None = None) -> list[Run]:
    """`runs` runs of each scenario for each tool, the tools' order
    rotated every run so that drift of the machine hits all alike."""
    rng = random.Random(seed)
    done: list[Run] = []
    for i in range(runs):
        for scenario in scenarios:
            order = tools[i % len(tools):] + tools[:i % len(tools)]
            for tool in order:
                delay = rng.uniform(0, 1)
                try:
                    done.append(one_run(tool, scenario, delay))
                except LabError as e:   # counted and shown, the others still run
                    done.append(Run(tool, scenario, delay, error=str(e).splitlines()[0][:200]))
                if json_path:
                    with open(json_path, "w") as f:
                        json.dump([dataclasses.asdict(r) for r in done], f, indent=1)
    return done


def safety_failures(runs: list[Run]) -> list[str]:
    """What --check fails on (safety, never timing)."""
    bad = []
    for r in runs:
        what = f"{r.tool}, {r.scenario}"
        if r.error:
            bad.append(f"{what}: {r.error}")
        if r.two_primaries_end:
            bad.append(f"{what}: two writable primaries at the end")
        if any(step.startswith("failed") for step in r.by_hand):
            bad.append(f"{what}: not whole again, even by hand: {r.by_hand}")
        if r.scenario == "daemon dies" and r.lost:
            bad.append(f"{what}: {r.lost} acknowledged writes lost when only the daemon died")
    return bad


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario and tool")
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                        help="comma-separated, of: " + ", ".join(TOOLS) +
                        " (default: all but pgvrrpd-strict)")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write every run's figures here as they come")
    parser.add_argument("--from-json", metavar="FILE",
                        help="no run: the table of the runs a --json FILE holds")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 on a safety failure (see above)")
    args = parser.parse_args()
    tools = args.tools.split(",")
    for t in tools:
        if t not in TOOLS:
            parser.error(f"unknown tool {t!r}: one of {', '.join(TOOLS)}")
    scenarios = args.scenario or list(SCENARIOS)
    if args.from_json:
        with open(args.from_json) as f:
            runs = [Run(**r) for r in json.load(f)]
        tools = [t for t in tools if any(r.tool == t for r in runs)]
    else:
        runs = run_all(1 if args.quick else args.runs, tools, scenarios, args.seed, args.json)
    print(summarize(runs, tools, scenarios))
    for r in runs:
        if r.error:
            print(f"{r.tool}, {r.scenario}: {r.error}")
    if args.check and (bad := safety_failures(runs)):
        print("SAFETY FAILURES:\n  " + "\n  ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
