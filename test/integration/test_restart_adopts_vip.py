#!/usr/bin/env python3
"""Start-up with the VIP already on the interface (left by a killed run):
kept without a gap when the node becomes master again, removed as soon as
another master is heard."""
import signal
import time

from addrwatch import AddressWatcher
from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log
from runner import run_test

VIP = "198.51.100.100"
KEYS = {"advert_interval": 0.1, "virtual_ip": [VIP + "/24"], "vip_lease": 3}


def main():
    with Lab("restart_adopts_vip") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")

        # -- alone: killed and restarted within the lease, the VIP never goes
        a = PgvrrpdNode(n1, priority=150, **KEYS).start()
        a.wait_state("MASTER", 3)
        watch = AddressWatcher(n1, VIP)
        a.kill(signal.SIGKILL)
        a.proc.wait(2)
        a.start()
        a.wait_state("MASTER", 3)
        reasons = [t[2] for t in a.transitions()]
        if reasons[0] != "startup, holding VIPs until decided":
            raise LabError(f"restarted node did not see its leftover VIP: {a.transitions()}")
        # Past the old lease: the new run must have refreshed it.
        time.sleep(3.5)
        gaps = [e for e in watch.events if e[1] == "absent"]
        if gaps or not n1.has_address(VIP):
            raise LabError(f"the VIP left n1 while it was restarted: events {watch.events}")
        log("restart within the lease: VIP kept without a gap")
        watch.stop()
        a.stop()

        # -- another master is up: the leftover VIP goes at the first advert
        b = PgvrrpdNode(n2, priority=100, **KEYS).start()
        b.wait_state("MASTER", 3)
        n1.run(["ip", "addr", "add", VIP + "/24", "dev", "eth0", "valid_lft", "30",
                "preferred_lft", "30"])
        watch = AddressWatcher(n1, VIP)
        t0 = time.monotonic()
        a.start()
        gone = watch.wait_absent(2) - t0
        a.wait_state("BACKUP", 1)
        log(f"leftover VIP removed {gone * 1000:.0f} ms after start-up beside a master")
        if gone > 0.5:
            raise LabError(f"leftover VIP stayed {gone * 1000:.0f} ms beside a live master")
        time.sleep(1)
        assert_single_holder([n1, n2], VIP, n2)
        if b.state() != "MASTER" or a.state() != "BACKUP":
            raise LabError(f"roles changed: n1 {a.transitions()}, n2 {b.transitions()}")
        print(f"RESULT restart_adopts_vip leftover_removed_ms={gone * 1000:.0f}", flush=True)


run_test(main)
