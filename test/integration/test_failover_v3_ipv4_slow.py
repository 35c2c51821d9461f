#!/usr/bin/env python3
"""Two pgvrrpd nodes: election, SIGKILL and SIGTERM takeover (family=4, interval=1, simultaneous_start=True)."""
import failover_scenario
from runner import run_test

run_test(lambda: failover_scenario.run("failover_v3_ipv4_slow", family=4, interval=1, simultaneous_start=True))
