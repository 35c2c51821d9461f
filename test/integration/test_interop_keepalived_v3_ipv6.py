#!/usr/bin/env python3
"""pgvrrpd with keepalived: election both ways, SIGKILL and SIGTERM takeover (VRRPv3, IPv6, advert_int 0.1)."""
import interop_scenario
from runner import run_test

run_test(lambda: interop_scenario.run("interop_keepalived_v3_ipv6", family=6, interval=0.1, version=3))
