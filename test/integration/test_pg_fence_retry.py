#!/usr/bin/env python3
"""Issue 9, "a fence that fails is never retried": the old master returns
with its PostgreSQL started as a stale primary, and its first fence fails
(the stop command refuses once, as a wrong PG_STOP_COMMAND or a server slow
to stop would). The stale primary keeps taking writes on its real IP until
pgvrrpd fences it again, RetryBackoff::kFirst (5 s) later, logging an error;
then the rejoin makes it a standby of n2, and n2 never moves."""
import time

from netlab import Lab
from pg_pair import VIP, PgPair, ScriptDir
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from replication import writers
from runner import run_test

# The fence hook execs PG_STOP_COMMAND; this one fails the first time.
STOP_FAILS_ONCE = """#!/bin/sh
marker="$PGDATA/../stop-refused-once"
if [ ! -e "$marker" ]; then
  : > "$marker"
  echo "test: not stopping the server this time" >&2
  exit 1
fi
exec "$PGBIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 30
"""


def main():
    with Lab("pg_fence_retry") as lab:
        scripts = ScriptDir(lab, "pgvrrpd-test-stop-", {"stop": STOP_FAILS_ONCE})
        pair = PgPair(lab, n1_hook_env=(f"PG_STOP_COMMAND={scripts.script('stop')}",))
        pair.start()
        w = pair.writer()
        pair.kill_n1_server()
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.01, "the VIP on n2")
        w.wait_acknowledged(3, timeout=10, server="n2")

        pair.n1.link_up()
        pair.n1.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)
        pair.p.start()
        pair.d1.start()

        def fence_runs():
            return [h for h in pair.hook_lines(pair.d1) if "fence exited with" in h]
        wait_until(fence_runs, 15, 0.02, lambda: f"n1's first fence: {pair.hook_lines(pair.d1)}")
        t_failed = time.monotonic()
        if "status 0" in fence_runs()[0]:
            raise LabError(f"the first fence was meant to fail: {fence_runs()}")
        if writers([pair.p]) != [pair.p]:
            raise LabError("the stale primary stopped taking writes though its fence failed")
        wait_until(lambda: pair.p not in writers([pair.p]), 15, 0.05,
                   lambda: f"the fence to be retried; n1's hooks: {pair.hook_lines(pair.d1)}")
        retry_after = time.monotonic() - t_failed
        log(f"stale primary fenced by the retry {retry_after:.1f} s after the first fence failed")
        pair.wait_rejoined()
        time.sleep(0.5)
        w.stop()

        assert_single_holder([pair.n1, pair.n2], VIP, pair.n2)
        if "fencing it again (attempt 2)" not in pair.d1.log_text():
            raise LabError("no error logged for the second fence")
        kinds = [h.split(": ")[1].split(" ")[0] for h in pair.hook_lines(pair.d1)
                 if " started " in h]
        if kinds[:3] != ["fence", "fence", "rejoin"]:
            raise LabError(f"expected fence, fence, rejoin on n1: {pair.hook_lines(pair.d1)}")
        if pair.d2.state() != "MASTER" or len(pair.d2.transitions()) != 2:
            raise LabError(f"n2 flapped: {pair.d2.transitions()}")
        print(f"RESULT pg_fence_retry retry_after_s={retry_after:.1f}", flush=True)


run_test(main)
