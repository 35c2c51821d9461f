#!/usr/bin/env python3
"""Issue 9, "forged adverts stop the primary", with the peer's address
forged: a third host sends adverts for the pair's VRID with n2's source
address (raw IP, which peer = cannot tell from n2's own) at priority 255,
every 0.1 s for 3 s. n1's pgvrrpd asks n2's PostgreSQL: it answers as a
standby, so n2's node is not master, and n1 does not yield, drop the VIP or
fence its primary. Writes through the VIP go on, all to n1."""
import time

from pg_pair import VIP, PgPair
from netlab import Lab
from pgvrrpd_node import assert_single_holder
from processes import LabError, log
from runner import run_test
from vrrp_forge import run_in

N2 = "198.51.100.12"

# Runs in the stranger's namespace (vrrp_forge): the IPv4 header by hand,
# its source address forged, TTL 255, to the VRRP group.
FORGER = r'''
src, prio, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
packet = with_ipv4_header(src, GROUP, advert(src, prio=prio))
s = ip_socket()
for _ in range(count):
    s.sendto(packet, (GROUP, 0))
    time.sleep(0.1)
'''


def main():
    with Lab("pg_forged_peer") as lab:
        pair = PgPair(lab)
        stranger = lab.add_host("x", ipv4="198.51.100.66/24")
        pair.start()
        w, probe = pair.under_load()
        t0 = time.monotonic()
        run_in(stranger, FORGER, N2, "255", "30")
        t1 = time.monotonic()
        time.sleep(1)
        w.stop()
        probe.check()

        if len(pair.d1.transitions()) != 2 or pair.d1.state() != "MASTER":
            raise LabError(f"n1 obeyed the forged adverts: {pair.d1.transitions()}")
        if pair.d2.state() != "BACKUP" or len(pair.d2.transitions()) != 1:
            raise LabError(f"n2 moved: {pair.d2.transitions()}")
        if any("fence" in h for h in pair.hook_lines(pair.d1)):
            raise LabError(f"n1 fenced its primary: {pair.hook_lines(pair.d1)}")
        said = "not yielding to the priority 255 advert from 198.51.100.12: the peer's " \
               "PostgreSQL answers as a standby"
        if said not in pair.d1.log_text():
            raise LabError("n1 did not say why it kept mastership")
        assert_single_holder([pair.n1, pair.n2], VIP, pair.n1)
        during = [r for r in w.results if t0 <= r.start <= t1]
        bad = [r for r in during if not r.ok or r.server != "n1"]
        if not during or bad:
            raise LabError(f"writes through the VIP during the forgery: {len(during)} attempts, "
                           f"failed or elsewhere: {bad[:5]}")
        log(f"{len(during)} writes through the VIP during the forgery, all acknowledged by n1")
        print(f"RESULT pg_forged_peer writes_during={len(during)}", flush=True)


run_test(main)
