#!/usr/bin/env python3
"""Issue 9, item 1 ("busy loop with short leases"): a master at the smallest
vip_lease and advert_interval the parser accepts (1 s, 0.01 s) does not
spin: the old lease refresh (a period of whole seconds: 0 for a lease of 1
or 2) used 72% of a core and sent about 170,000 RTM_NEWADDR a second. This
asserts under 10% (utime + stime from /proc over 10 s) and prints the
figure; the 1% target is measured by the benchmark (bench/footprint.py),
since a timed bound that close does not belong in the suite (0.60% alone,
1.20% once inside the whole suite, same machine). The VIP stays on the
interface all along."""
import time

from addrwatch import AddressWatcher
from netlab import Lab
from pgvrrpd_node import PgvrrpdNode
from processes import LabError, log
from runner import run_test

VIP = "198.51.100.100"
SECONDS = 10


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime, stime in clock ticks


def main():
    with Lab("idle_cpu_short_lease") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        master = PgvrrpdNode(n1, priority=200, advert_interval=0.01, vip_lease=1,
                             virtual_ip=[VIP + "/24"]).start()
        master.wait_state("MASTER", 3)
        time.sleep(1)
        watch = AddressWatcher(n1, VIP)
        pid = master.proc.pid
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(SECONDS)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        share = (c1 - c0) / (t1 - t0) * 100
        log(f"master at vip_lease 1, advert_interval 0.01: {share:.2f}% of a core over "
            f"{t1 - t0:.1f} s ({(c1 - c0) * 1000:.0f} ms of CPU)")
        if share >= 10.0:
            raise LabError(f"the master used {share:.2f}% of a core: the lease refresh spins")
        if watch.events or not n1.has_address(VIP):
            raise LabError(f"the VIP did not stay on n1: {watch.events}")
        print(f"RESULT idle_cpu_short_lease cpu_percent={share:.2f}", flush=True)


run_test(main)
