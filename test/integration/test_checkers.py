#!/usr/bin/env python3
"""The ping and link checkers on a real network (test/checker_probe runs one
checker and prints its verdicts): a ping that stops being answered fails
after its timeout, a send with no route fails at once, and a link that goes
down, or loses its carrier, fails at once from the netlink notification."""
import os
import time

from netlab import Lab
from processes import LabError, log, wait_until
from runner import run_test

PROBE = os.environ["CHECKER_PROBE_BIN"]


class Verdicts:
    """The PASS/FAIL lines a checker_probe has printed so far."""

    def __init__(self, proc):
        self.proc = proc

    def lines(self):
        out = []
        for line in self.proc.log_text().splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] in ("PASS", "FAIL"):
                out.append((float(parts[0]), parts[1], parts[2]))
        return out

    def wait(self, count, verdict, timeout, what):
        """Waits for the count-th verdict line, which must be `verdict`."""
        def ready():
            got = self.lines()
            return got[count - 1] if len(got) >= count else None
        line = wait_until(ready, timeout, what=what)
        if line[1] != verdict:
            raise LabError(f"{what}: expected {verdict}, got {line} (all: {self.lines()})")
        log(f"{what}: {line[1]} {line[2]}")
        return line


def ping(lab, n1, n2):
    peer = n2.ipv4.split("/")[0]
    # interval 0.1, timeout 0.3, rise 1, fall 2
    p = n1.spawn([PROBE, "ping", peer, "0.1", "0.3", "1", "2"], "ping-probe")
    v = Verdicts(p)
    v.wait(1, "PASS", 3, "ping answered")
    if "reply from " + peer not in v.lines()[0][2]:
        raise LabError(f"unexpected reason {v.lines()[0]}")
    # The peer is gone: two timeouts in a row, so the failure comes after
    # about 0.1 + 2 * 0.3 s, not at once and not never.
    t0 = time.monotonic()
    n2.link_down()
    line = v.wait(2, "FAIL", 3, "peer gone")
    took = line[0] - t0
    if not (0.3 <= took <= 1.5) or "no reply from" not in line[2]:
        raise LabError(f"peer gone: failed after {took:.2f} s ({line}), expected 0.3..1.5 s "
                       f"and 'no reply'")
    n2.link_up()
    v.wait(3, "PASS", 5, "peer back")
    p.stop()

    # No route at all (our own link down takes the connected route with it):
    # sendto fails at once; fall 1 makes the first failure the verdict.
    p = n1.spawn([PROBE, "ping", peer, "0.1", "1", "1", "1"], "ping-noroute")
    v = Verdicts(p)
    v.wait(1, "PASS", 3, "ping answered (2)")
    t0 = time.monotonic()
    n1.run(["ip", "link", "set", n1.ifname, "down"])
    line = v.wait(2, "FAIL", 3, "no route")
    if line[0] - t0 > 0.5 or "unreachable" not in line[2]:
        raise LabError(f"no route: expected an immediate 'unreachable' failure, got {line} "
                       f"after {line[0] - t0:.2f} s")
    n1.link_up()
    p.stop()

    # IPv6 too.
    peer6 = n2.ipv6.split("/")[0]
    p = n1.spawn([PROBE, "ping", peer6, "0.1", "0.3", "1", "1"], "ping6-probe")
    v = Verdicts(p)
    v.wait(1, "PASS", 5, "ping6 answered")
    n2.link_down()
    v.wait(2, "FAIL", 3, "ping6 peer gone")
    n2.link_up()
    p.stop()


def link(lab, n1):
    p = n1.spawn([PROBE, "link", n1.ifname], "link-probe")
    v = Verdicts(p)
    v.wait(1, "PASS", 3, "link up at start")
    # Administratively down.
    t0 = time.monotonic()
    n1.run(["ip", "link", "set", n1.ifname, "down"])
    line = v.wait(2, "FAIL", 2, "link set down")
    if line[0] - t0 > 0.5:
        raise LabError(f"link down seen after {line[0] - t0:.2f} s, expected at once")
    n1.link_up()
    v.wait(3, "PASS", 3, "link set up")
    # Carrier lost: the switch port goes down, eth0 stays up but not RUNNING.
    lab.switch.run(["ip", "link", "set", n1.swport, "down"])
    v.wait(4, "FAIL", 2, "carrier lost")
    lab.switch.run(["ip", "link", "set", n1.swport, "up"])
    v.wait(5, "PASS", 3, "carrier back")
    p.stop()

    p = n1.spawn([PROBE, "link", "nosuch0"], "link-missing")
    v = Verdicts(p)
    line = v.wait(1, "FAIL", 3, "missing interface")
    if "No such device" not in line[2]:
        raise LabError(f"missing interface: {line}")
    p.stop()


def main():
    with Lab("checkers") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        ping(lab, n1, n2)
        link(lab, n1)


if __name__ == "__main__":
    run_test(main)
