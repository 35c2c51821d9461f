#!/usr/bin/env python3
"""Issue 9, "chaos soak": the PostgreSQL pair (with the witness) under random
faults (chaos.py: the daemon or PostgreSQL killed or frozen on either node,
link down, one- and two-way partitions, forged adverts), each held 1-4 s,
healed, then waited for until the pair has converged, while a client writes
through the VIP and the two-primaries probe runs. Checked: never two
servers writable at one instant (probe), and after every fault the pair
converges within 60 s to one VIP holder that is the writable primary with
the other streaming from it and caught up. Counted: acknowledged writes lost (the
asynchronous standby may miss the last ones before a failover), the longest
write outage. Prints a table.

    python3 test/integration/test_chaos_soak.py --faults 200 [--seed N]
    (ctest: 8 faults, or CHAOS_FAULTS)
"""
import argparse
import collections
import os
import random
import shutil
import tempfile
import time

from chaos import FAULTS, Chaos
from netlab import Lab
from pg_pair import PgPair
from processes import LabError, log
from runner import run_test

CONVERGE_TIMEOUT = 60


def keep_logs(lab: Lab) -> str:
    """A failure after minutes of faults needs whole logs, not the tails the
    lab prints: every log of the lab's temp dir, copied where teardown
    leaves it."""
    dest = tempfile.mkdtemp(prefix="chaos-soak-logs-", dir="/tmp")
    for name in os.listdir(lab.tmpdir):
        if name.endswith(".log"):
            shutil.copy(lab.path(name), dest)
    return dest


def main(faults: int, seed: int, keep_lost_logs: bool = False) -> None:
    rng = random.Random(seed)
    with Lab("chaos") as lab:
        pair = PgPair(lab, witness=True)
        stranger = lab.add_host("x", ipv4="198.51.100.66/24")
        pair.start()
        w, probe = pair.under_load()
        chaos = Chaos(pair, stranger, rng)
        counts = collections.Counter()
        not_converged: list[str] = []
        converge_times = []
        t0 = time.monotonic()
        injected: list[tuple[float, str]] = []  # (time.monotonic(), "kind on node")
        for i in range(faults):
            kind, node = rng.choice(FAULTS), rng.choice(chaos.nodes)
            hold = rng.uniform(1, 4)
            log(f"fault {i + 1}/{faults}: {kind} on {node}, held {hold:.1f} s")
            injected.append((time.monotonic(), f"{kind} on {node}"))
            heal = chaos.inject(kind, node)
            counts[kind] += 1
            time.sleep(hold)
            heal()
            took, reason = chaos.wait_converged(CONVERGE_TIMEOUT)
            if reason:
                not_converged.append(f"{kind} on {node}: {reason}")
                log(f"NOT CONVERGED after {kind} on {node}: {reason}")
                raise LabError(f"the pair did not converge within {CONVERGE_TIMEOUT} s "
                               f"after {kind} on {node}: {reason} (every log of the run "
                               f"kept in {keep_logs(lab)})")
            converge_times.append(took)
        elapsed = time.monotonic() - t0
        w.stop()
        probe.stop()
        overlaps = probe.violations
        master = next(n for n in chaos.nodes if n.host.has_address("198.51.100.100"))
        acked = [r for r in w.results if r.ok]
        have = set(master.pg.psql("SELECT note FROM writes").splitlines())
        lost = [r for r in acked if r.note not in have]
        longest = max((g for _, g in w.outages()), default=0.0)
        # Which fault each lost write followed, and by how much: a write
        # acknowledged as the fault struck, before the asynchronous standby
        # had it, is lost when the old primary is rewound (seen: within
        # 0.1 s of a SIGSTOP of the primary's PostgreSQL, whose backend
        # answered before its WAL sender sent the commit).
        by_fault = collections.Counter()
        after_ms = []
        details = []
        for r in lost:
            later = [(t, what) for t, what in injected if t >= r.end]
            earlier = [(t, what) for t, what in injected if t < r.end]
            if earlier:
                by_fault[f"{earlier[-1][1]} (server {r.server})"] += 1
                after_ms.append((r.end - earlier[-1][0]) * 1000)
            # Wall-clock time, to find the write in the daemons' logs.
            wall = time.strftime("%H:%M:%S", time.localtime(time.time() - (time.monotonic() - r.end)))
            details.append(f"{r.note} on {r.server} acknowledged at {wall}"
                           + (f", {r.end - earlier[-1][0]:.1f} s after {earlier[-1][1]}"
                              if earlier else "")
                           + (f", {later[0][0] - r.end:.1f} s before {later[0][1]}"
                              if later else ""))

        print("\n| fault | injected |\n|---|--:|")
        for k in FAULTS:
            print(f"| {k} | {counts[k]} |")
        print(f"| all | {faults} |\n")
        print("| invariant | violations |\n|---|--:|")
        print(f"| two servers writable at one instant (probe, {probe.samples} samples) "
              f"| {len(overlaps)} |")
        print(f"| not converged within {CONVERGE_TIMEOUT} s to one VIP holder = the writable "
              f"primary, the other streaming from it, caught up | {len(not_converged)} |\n")
        print(f"writes acknowledged {len(acked)}, lost {len(lost)}; longest write outage "
              f"{longest:.2f} s; convergence after healing: median "
              f"{sorted(converge_times)[len(converge_times) // 2]:.1f} s, worst "
              f"{max(converge_times):.1f} s; {elapsed / 60:.1f} min\n", flush=True)
        if lost:
            after_ms.sort()
            if after_ms:
                print(f"lost writes: acknowledged {after_ms[0]:.0f} to {after_ms[-1]:.0f} ms "
                      f"(median {after_ms[len(after_ms) // 2]:.0f}) after the fault before "
                      f"them; by that fault: {dict(by_fault.most_common(12))}", flush=True)
            for line in details[:20]:
                print(f"  lost: {line}")
            if keep_lost_logs:
                print(f"  (every log of the run kept in {keep_logs(lab)})", flush=True)
            print(flush=True)
        if overlaps:
            kept = keep_logs(lab)
            raise LabError(f"two writable primaries: {overlaps[:3]} (every log of the run "
                           f"kept in {kept})")
        print(f"RESULT chaos_soak faults={faults} overlaps={len(overlaps)} "
              f"not_converged={len(not_converged)} lost={len(lost)} "
              f"longest_outage_s={longest:.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", type=int, default=int(os.environ.get("CHAOS_FAULTS", "8")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "1")))
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep every log of the run in /tmp/chaos-soak-logs-* when writes "
                             "were lost too (a failure always keeps them)")
    args = parser.parse_args()
    # About 10 s a fault; ctest (TIMEOUT 300) runs the default 8.
    run_test(lambda: main(args.faults, args.seed, args.keep_logs),
             timeout=100 + 20 * args.faults)
