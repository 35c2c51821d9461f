#!/usr/bin/env python3
"""Preemption: off by default (a working master keeps the VIP, checked in
the failover tests); with preempt = true a higher-priority node takes over
(RFC 5798 6.4.2); the address owner (priority 255) always does (RFC 5798
6.1)."""
import time

from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder, master_down_interval
from processes import LabError
from runner import run_test

VIP = "198.51.100.100"
KEYS = {"advert_interval": 0.1, "virtual_ip": [VIP + "/24"]}


def takeover_by(lab, low_host, high_host, **high_keys):
    low = PgvrrpdNode(low_host, priority=100, **KEYS).start()
    low.wait_state("MASTER", 3)
    high = PgvrrpdNode(high_host, **KEYS, **high_keys).start()
    prio = high_keys["priority"]
    high.wait_state("MASTER", master_down_interval(prio, 0.1) + 1)
    low.wait_state("BACKUP", 1)
    reason = low.transitions()[-1][2]
    if reason != f"higher priority advert from {high_host.ipv4.split('/')[0]} (priority {prio})":
        raise LabError(f"n1 gave up for an unexpected reason: {reason}")
    time.sleep(0.5)
    assert_single_holder([low_host, high_host], VIP, high_host)
    return low, high


def main():
    with Lab("preempt") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        low, high = takeover_by(lab, n1, n2, priority=200, preempt=True)
        low.stop()
        high.stop()

        low, owner = takeover_by(lab, n1, n2, priority=255)
        # The owner is master at once, without waiting Master_Down_Interval.
        if owner.transitions()[0][2] != "startup as address owner (priority 255)":
            raise LabError(f"owner did not start as master: {owner.transitions()}")
        low.stop()
        owner.stop()


run_test(main)
