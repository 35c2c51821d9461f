#!/usr/bin/env python3
"""pgvrrpd with keepalived: election both ways, SIGKILL and SIGTERM takeover (VRRPv2, IPv4, advert_int 1, auth_type PASS = pgvrrpd auth_pass)."""
import interop_scenario
from runner import run_test

run_test(lambda: interop_scenario.run("interop_keepalived_v2_auth", family=4, interval=1, version=2, auth="pgpair"))
