#!/usr/bin/env python3
"""Two pgvrrpd nodes: election, SIGKILL and SIGTERM takeover (family=4, interval=0.1)."""
import failover_scenario
from runner import run_test

run_test(lambda: failover_scenario.run("failover_v3_ipv4_fast", family=4, interval=0.1))
