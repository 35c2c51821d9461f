#!/usr/bin/env python3
"""DESIGN.md, "lagging standby": the standby is far behind (replay paused)
when the master's PostgreSQL dies. n2 must not promote past max_lag; it
logs why and holds. Once replay resumes and it has caught up with the
primary's last known LSN, the guard clears and it takes over by itself (no
master has appeared meanwhile), with no acknowledged write lost."""
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from processes import LabError, log, wait_until
from replication import pause_replay, resume_replay
from runner import run_test


def main():
    with Lab("pg_lagging_standby") as lab:
        pair = PgPair(lab, max_lag="1MB")
        pair.start()
        probe = pair.two_primaries_probe()
        pause_replay(pair.s)
        # ~8 MB of WAL the standby receives but does not replay.
        pair.p.psql("CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad "
                    "FROM generate_series(1, 15000) g")
        pair.p.psql("INSERT INTO writes(note) VALUES ('before the fault')")
        acked = int(pair.p.psql("SELECT max(id) FROM writes"))
        time.sleep(0.5)  # the checks see the primary's LSN and the lag
        lag = pair.p.lsn() - pair.s.replay_lsn()
        log(f"standby replay lag before the fault: {lag} bytes")
        if lag < 2 * 1024 * 1024:
            raise LabError(f"could not build a lag over max_lag: {lag} bytes")
        t_fault = time.monotonic()
        pair.p.stop("immediate")
        pair.d1.wait_state("FAULT", 3)
        # "takeover held: ..." or, when the peer still answered as primary
        # a moment before, "takeover still held: ...": the lag is the reason.
        held = "held: local standby is"
        wait_until(lambda: held in pair.d2.log_text(), 5, 0.02,
                   "n2 to hold its takeover because of the lag")
        time.sleep(2)
        if pair.d2.state() != "BACKUP" or not pair.s.is_in_recovery():
            raise LabError(f"n2 promoted past max_lag: {pair.d2.transitions()}")
        if pair.n2.has_address(VIP):
            raise LabError("n2 took the VIP while lagging")
        line = [l for l in pair.d2.log_text().splitlines() if held in l][0]
        log(f"n2 held: {line.split('state=BACKUP: ')[-1]}")

        # Replay resumes: it catches up and takes over by itself.
        resume_replay(pair.s)
        pair.d2.wait_state("MASTER", 20)
        wait_until(lambda: pair.n2.has_address(VIP), 10, 0.02, "the VIP on n2")
        took = time.monotonic() - t_fault
        reason = pair.d2.transitions()[-1][2]
        if reason != "master down timer expired, takeover guard cleared" and \
                "resigned" not in reason:
            raise LabError(f"unexpected takeover reason {reason!r}")
        if pair.s.is_in_recovery():
            raise LabError("n2 holds the VIP but is still in recovery")
        if pair.s.psql(f"SELECT count(*) FROM writes WHERE id = {acked}") != "1":
            raise LabError(f"write {acked}, acknowledged before the fault, is missing on n2")
        # The VIP goes on as soon as the server takes writes; the promote
        # hook returns a little later (pg_promote polls every 100 ms).
        wait_until(lambda: any("on_master exited with status 0" in h
                               for h in pair.hook_lines(pair.d2)), 10, 0.05,
                   "n2's promote hook to succeed")
        time.sleep(0.5)
        probe.check()
        print(f"RESULT pg_lagging_standby lag_bytes={lag} takeover_after_resume_s={took:.1f}",
              flush=True)


run_test(main)
