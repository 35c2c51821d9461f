#!/usr/bin/env python3
"""Gratuitous ARP: a burst of garp_repeat announcements garp_delay apart on
becoming master, one every garp_refresh while master, and one at once when a
lower-priority advert is heard (a healed split: two masters, the client's
ARP entry left pointing at the wrong one)."""
import time

from capture import Capture, read_fields
from netlab import Lab
from pgvrrpd_node import PgvrrpdNode
from processes import LabError, log, wait_until
from runner import run_test

VIP = "198.51.100.100"
KEYS = {"advert_interval": 0.1, "virtual_ip": [VIP + "/24"]}
TOLERANCE = 0.08


def garps(pcap, mac):
    """Times (epoch) of gratuitous ARPs for the VIP sent from `mac`."""
    rows = read_fields(pcap, ["frame.time_epoch", "eth.src", "arp.src.proto_ipv4",
                              "arp.dst.proto_ipv4"], display_filter="arp.isgratuitous")
    return [float(r["frame.time_epoch"]) for r in rows
            if r["eth.src"] == mac and r["arp.src.proto_ipv4"] == VIP]


def burst_and_refresh(lab, n1):
    cap = Capture(lab, capture_filter="arp", name="garp").start()
    node = PgvrrpdNode(n1, priority=150, garp_repeat=4, garp_delay=0.2, garp_refresh=1,
                       **KEYS).start()
    node.wait_state("MASTER", 3)
    time.sleep(3.2)
    node.stop()
    cap.stop()
    times = garps(cap.pcap, n1.mac)
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    log(f"gratuitous ARP gaps (s): {gaps}")
    # 4 in the burst (3 gaps of 0.2 s); the last burst one is followed by
    # refreshes 1 s apart.
    if len(gaps) < 5:
        raise LabError(f"expected a burst of 4 then refreshes, got {len(times)} ARPs: {gaps}")
    burst, refresh = gaps[:3], gaps[3:]
    if any(abs(g - 0.2) > TOLERANCE for g in burst):
        raise LabError(f"burst gaps {burst}, expected 0.2 s (garp_delay)")
    if any(abs(g - 1.0) > TOLERANCE for g in refresh):
        raise LabError(f"refresh gaps {refresh}, expected 1 s (garp_refresh)")


def split_heal(lab, n1, n2, client):
    # No periodic refresh: only the re-announcement can heal the client.
    keys = dict(KEYS, garp_refresh=0)
    a = PgvrrpdNode(n1, priority=150, **keys).start()
    a.wait_state("MASTER", 3)
    if not client.ping(VIP):
        raise LabError("client cannot ping the VIP on n1")
    # Split: the switch drops VRRP between the nodes; ARP still flows.
    sw = lab.switch
    sw.run(["nft", "add table bridge split"])
    sw.run(["nft", "add chain bridge split vrrp_drop { type filter hook forward priority 0 ; }"])
    sw.run(["nft", "add rule bridge split vrrp_drop ip protocol 112 drop"])
    b = PgvrrpdNode(n2, priority=100, **keys).start()
    b.wait_state("MASTER", 3)
    # n2's gratuitous ARP has pointed the client at n2: the stale entry.
    wait_until(lambda: client.neigh_mac(VIP) == n2.mac, 2, 0.02,
               "n2's announcement to reach the client during the split")
    log("split: both nodes MASTER, client's ARP entry points at n2")
    t_heal = time.monotonic()
    sw.run(["nft", "delete table bridge split"])
    b.wait_state("BACKUP", 1)
    wait_until(lambda: client.neigh_mac(VIP) == n1.mac, 1, 0.005,
               "client's ARP entry to point at n1 again after the split healed")
    healed = time.monotonic() - t_heal
    log(f"split healed: client's ARP entry back on n1 after {healed * 1000:.0f} ms")
    if a.state() != "MASTER" or len(a.transitions()) != 2:
        raise LabError(f"n1 left MASTER during the split heal: {a.transitions()}")
    if healed > 0.5:
        raise LabError(f"client's ARP entry healed only after {healed * 1000:.0f} ms")
    if not client.ping(VIP):
        raise LabError("client cannot ping the VIP after the split healed")
    print(f"RESULT garp split_heal_ms={healed * 1000:.0f}", flush=True)
    a.stop()
    b.stop()


def main():
    with Lab("garp") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        client = lab.add_host("cl", ipv4="198.51.100.20/24")
        burst_and_refresh(lab, n1)
        split_heal(lab, n1, n2, client)


run_test(main)
