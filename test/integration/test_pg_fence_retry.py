#!/usr/bin/env python3
"""Issue 9, "a fence that fails is never retried": the old master returns
with its PostgreSQL started as a stale primary, and its first fence fails
(pg_ctl refuses to stop it, fast and immediate, as a server slow to stop
or a broken binary would; the hook's own fallback cannot help). The stale primary keeps taking writes on its real IP until
pgvrrpd fences it again, RetryBackoff::kFirst (5 s) later, logging an error;
then the rejoin makes it a standby of n2, and n2 never moves."""
import json
import os
import time

from netlab import Lab
from pg_pair import VIP, PgPair, ScriptDir
from pglab import PG_BIN
from pgvrrpd_node import assert_single_holder
from processes import LabError, log, wait_until
from replication import writers
from runner import run_test

# PGBIN for n1's hooks: the real programs, but a pg_ctl that refuses its
# first two stops (the fence's fast and immediate ones).
PG_CTL_REFUSES_TWO_STOPS = f"""#!/bin/sh
marker="$PGDATA/../pg_ctl-stops-refused"
if [ "$1" = stop ]; then
  refused=$(cat "$marker" 2>/dev/null || echo 0)
  if [ "$refused" -lt 2 ]; then
    echo $((refused + 1)) > "$marker"
    echo "test: pg_ctl not stopping the server this time" >&2
    exit 1
  fi
fi
exec {PG_BIN}/pg_ctl "$@"
"""


def main():
    with Lab("pg_fence_retry") as lab:
        bin_dir = ScriptDir(lab, "pgvrrpd-test-bin-", {"pg_ctl": PG_CTL_REFUSES_TWO_STOPS})
        for program in os.listdir(PG_BIN):
            if program != "pg_ctl":
                os.symlink(os.path.join(PG_BIN, program), bin_dir.script(program))
        pair = PgPair(lab, n1_hook_env=(f"PGBIN={bin_dir.path}",))
        pair.start()
        w = pair.writer()
        pair.n2_takes_over(w)

        pair.n1_link_back()
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
        # pgvrrpctl status shows the retry coming (issue 9, item 4).
        fencing = json.loads(pair.d1.ctl("status", "--json").stdout)["routers"][0]["fencing"]
        if fencing["next_retry_in_s"] is None or fencing["fence_runs"] != 1:
            raise LabError(f"status does not show the fence retry: {fencing}")
        log(f"status while waiting: {fencing}")
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
