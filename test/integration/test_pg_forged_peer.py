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

N2 = "198.51.100.12"

# Runs in the stranger's namespace: IPv4 header and VRRPv3 advert by hand,
# source address forged, TTL 255, to the VRRP group.
FORGER = r'''
import socket, struct, sys, time

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

src, group, prio, count = sys.argv[1], "224.0.0.18", int(sys.argv[2]), int(sys.argv[3])
body = struct.pack("!BBBBH", 0x31, 51, prio, 1, 10)
payload = body + b"\0\0" + socket.inet_aton("198.51.100.100")
pseudo = socket.inet_aton(src) + socket.inet_aton(group) + struct.pack("!BBH", 0, 112, len(payload))
vrrp = body + struct.pack("!H", csum(pseudo + payload)) + payload[8:]
header = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(vrrp), 0, 0, 255, 112, 0,
                     socket.inet_aton(src), socket.inet_aton(group))
header = header[:10] + struct.pack("!H", csum(header)) + header[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
for _ in range(count):
    s.sendto(header + vrrp, (group, 0))
    time.sleep(0.1)
'''


def main():
    with Lab("pg_forged_peer") as lab:
        pair = PgPair(lab)
        stranger = lab.add_host("x", ipv4="198.51.100.66/24")
        pair.start()
        w, probe = pair.under_load()
        script = lab.path("forger.py")
        with open(script, "w") as f:
            f.write(FORGER)
        t0 = time.monotonic()
        stranger.run(["python3", script, N2, "255", "30"], timeout=30)
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
