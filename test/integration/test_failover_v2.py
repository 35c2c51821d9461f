#!/usr/bin/env python3
"""Two pgvrrpd nodes: election, SIGKILL and SIGTERM takeover (family=4, interval=1, version=2, extra={'auth_pass': 'pgpair'})."""
import failover_scenario
from runner import run_test

run_test(lambda: failover_scenario.run("failover_v2", family=4, interval=1, version=2, extra={'auth_pass': 'pgpair'}))
