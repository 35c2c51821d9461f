"""Planned handovers (pgvrrpctl switchover), back and forth, on the lab of
the failover benchmark (pg_pair.py) with its writer: an INSERT through the
VIP every 10 ms on a kept session, a new connection (500 ms deadline) when
none is idle; the two-primaries probe on both real IPs.

Per switchover: the write outage (the longest gap between acknowledged
writes from the last one before the command to one second of writes on the
new primary), the handover as pgvrrpd measured it (the command to the peer
serving), and the whole command (until the old primary streams from the
new one). Over all of them: acknowledged writes missing on either server at
the end (both must hold every one), and probe samples with two writable
servers.

    python3 bench/switchover.py --count 20

Runs as root, in network namespaces only (198.51.100.0/24)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))

from netlab import Lab  # noqa: E402
from pg_pair import VIP, PgPair  # noqa: E402
from pgvrrpd_node import assert_single_holder  # noqa: E402
from processes import LabError, log  # noqa: E402
from replication import wait_caught_up  # noqa: E402

WRITER_INTERVAL = 0.01


@dataclasses.dataclass
class Switchover:
    old: str
    new: str
    outage: float | None = None
    handover: float | None = None   # pgvrrpd: the command to the peer serving
    command: float | None = None    # pgvrrpctl switchover, to the old primary streaming
    error: str = ""


@dataclasses.dataclass
class Result:
    switchovers: list[Switchover]
    acknowledged: int = 0
    lost: int = 0
    two_primaries_samples: int = 0
    probe_samples: int = 0
    error: str = ""


def gap_since(w, t0: float) -> float | None:
    """The longest gap between consecutive acknowledged writes, from the
    last one before t0 on."""
    acks = sorted(r.end for r in w.results if r.ok)
    before = [t for t in acks if t < t0]
    if not before:
        return None
    after = [t for t in acks if t >= before[-1]]
    return max((b - a for a, b in zip(after, after[1:])), default=None)


def handover_seconds(side) -> float | None:
    router = json.loads(side.daemon.ctl("status", "--json").stdout)["routers"][0]
    return (router.get("switchover") or {}).get("handover_s")


def run(count: int, writer_interval: float = WRITER_INTERVAL, under_unit: bool = False) -> Result:
    """under_unit: the daemons run as the shipped systemd unit runs them (its
    sandbox, as postgres with two capabilities; pg_pair.PgPair)."""
    result = Result([])
    with Lab("bench_switchover") as lab:
        pair = PgPair(lab, under_unit=under_unit)
        pair.start()
        w, probe = pair.under_load(fast=True, interval=writer_interval, keep=True)
        sides = pair.sides
        for i in range(count):
            old, new = sides[i % 2], sides[(i + 1) % 2]
            s = Switchover(str(old), str(new))
            result.switchovers.append(s)
            try:
                wait_caught_up(old.pg, new.pg)
                time.sleep(0.5)
                t0 = time.monotonic()
                pair.switchover(old)
                s.command = time.monotonic() - t0
                s.handover = handover_seconds(old)
                w.wait_acknowledged(3, timeout=10, server=new.host.short)
                time.sleep(1.0)
                s.outage = gap_since(w, t0)
                assert_single_holder([pair.n1, pair.n2], VIP, new.host)
                log(f"switchover {i + 1}/{count} {old} -> {new}: outage "
                    f"{s.outage * 1000:.0f} ms, handover {s.handover * 1000:.0f} ms, "
                    f"command {s.command:.2f} s")
            except LabError as e:
                s.error = str(e).splitlines()[0][:200]
                result.error = f"switchover {i + 1}: {s.error}"
                log(result.error)
                break
        w.stop()
        probe.stop()
        result.two_primaries_samples = len(probe.violations)
        result.probe_samples = probe.samples
        acked = {r.note for r in w.results if r.ok}
        result.acknowledged = len(acked)
        if not result.error:
            final = sides[count % 2].pg
            standby = sides[(count + 1) % 2].pg
            wait_caught_up(final, standby)
        missing = set()
        for node in (pair.p, pair.s):
            try:
                have = set(node.psql("SELECT note FROM writes").splitlines())
            except LabError:
                continue
            missing |= acked - have
        result.lost = len(missing)
    return result


def ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.0f}"


def summarize(r: Result) -> str:
    done = [s for s in r.switchovers if s.outage is not None]
    out = [s.outage for s in done]
    hand = [s.handover for s in done if s.handover is not None]
    cmd = [s.command for s in done if s.command is not None]
    lines = ["| switchovers | outage median ms | outage p90 ms | outage max ms "
             "| handover median ms | whole command median s | lost acknowledged writes "
             "| probe samples with 2 writable servers |",
             "|---|---|---|---|---|---|---|---|"]
    p90 = sorted(out)[max(0, -(-9 * len(out) // 10) - 1)] if out else None
    lines.append("| " + " | ".join([
        f"{len(done)} of {len(r.switchovers)}" + (" (stopped: " + r.error + ")" if r.error else ""),
        ms(statistics.median(out)) if out else "-", ms(p90), ms(max(out)) if out else "-",
        ms(statistics.median(hand)) if hand else "-",
        f"{statistics.median(cmd):.2f}" if cmd else "-",
        f"{r.lost} of {r.acknowledged}",
        f"{r.two_primaries_samples} of {r.probe_samples}"]) + " |")
    lines += ["", "Each switchover's outage (ms), in order: " +
              ", ".join(ms(s.outage) for s in r.switchovers)]
    return "\n".join(lines)


def safety_failures(r: Result) -> list[str]:
    out = []
    if r.error:
        out.append(f"switchover: {r.error}")
    if r.lost:
        out.append(f"switchover: {r.lost} acknowledged writes lost")
    if r.two_primaries_samples:
        out.append("switchover: two writable servers seen")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--writer-interval-ms", type=float, default=WRITER_INTERVAL * 1000)
    parser.add_argument("--under-unit", action="store_true",
                        help="run pgvrrpd as packaging/pgvrrpd.service does: in its sandbox, "
                             "as postgres with CAP_NET_RAW and CAP_NET_ADMIN only")
    args = parser.parse_args()
    r = run(args.count, args.writer_interval_ms / 1000, args.under_unit)
    print(summarize(r))
    sys.exit(1 if safety_failures(r) else 0)


if __name__ == "__main__":
    main()
