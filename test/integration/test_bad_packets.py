#!/usr/bin/env python3
"""Malformed and unexpected adverts sent at a running master are counted
per reason and dropped; the master stays master and keeps its VIP."""
import re

from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log
from runner import run_test
from vrrp_forge import run_in

VIP = "198.51.100.100"
GROUP = "224.0.0.18"

# Runs in the sender's namespace (vrrp_forge): each case 3 times, with its TTL.
SENDER = r'''
src, dst = sys.argv[1], sys.argv[2]
s = vrrp_socket()
cases = {
    "bad_checksum": (advert(src, dst, bad_sum=True), 255),
    "bad_ttl": (advert(src, dst), 1),
    "unknown_vrid": (advert(src, dst, vrid=99), 255),
    "too_short": (advert(src, dst)[:6], 255),
    "bad_version": (advert(src, dst, vt=0x41), 255),
    "bad_type": (advert(src, dst, vt=0x32), 255),
    "address_count_mismatch": (advert(src, dst, addrs=("198.51.100.100", "198.51.100.101")), 255),
    "address_mismatch": (advert(src, dst, addrs=("198.51.100.199",)), 255),
    "bad_version_v2_packet": (advert_v2(), 255),
}
for name, (data, ttl) in cases.items():
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    for _ in range(3):
        s.sendto(data, (dst, 0))
'''

EXPECTED = {"bad_checksum": 3, "bad_ttl": 3, "unknown_vrid": 3, "too_short": 3,
            "bad_type": 3, "address_count_mismatch": 3, "address_mismatch": 3,
            # version nibble 4 in the codec, and a v2 packet to a v3 router
            # in the receive filter: both bad_version
            "bad_version": 6}


def main():
    with Lab("bad_packets") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        master = PgvrrpdNode(n1, priority=100, advert_interval=0.1,
                             virtual_ip=[VIP + "/24"]).start()
        master.wait_state("MASTER", 3)
        run_in(n2, SENDER, "198.51.100.12", GROUP)
        stats = master.statistics()
        log(stats)
        counts = dict(re.findall(r"(\w+)=(\d+)", stats.split("dropped:")[1]))
        got = {k: int(v) for k, v in counts.items()}
        if got != EXPECTED:
            raise LabError(f"drop counters {got}, expected {EXPECTED}")
        if master.transitions()[-1][1] != "MASTER" or len(master.transitions()) != 2:
            raise LabError(f"bad packets changed the master's state: {master.transitions()}")
        assert_single_holder([n1, n2], VIP, n1)
        logged = set(master.drops())
        if logged != set(EXPECTED):
            raise LabError(f"drop reasons logged {sorted(logged)}, expected {sorted(EXPECTED)}")


run_test(main)
