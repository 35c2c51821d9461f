#!/usr/bin/env python3
"""Issue 10, pgvrrpctl promote --force and maintenance on|off, on the
PostgreSQL pair.

1. The lagging standby case: n2's replay is paused far past max_lag when
   n1's server dies; n2 holds its takeover. `promote --force` without a
   confirmation does nothing; with --yes n2 takes over at once, promotes
   and takes the VIP. Forcing where nothing is held is refused.
2. Maintenance: n1 (rejoined as n2's standby) is put in maintenance; n2's
   server dies and n1 does not take over, status and log say why; with
   maintenance off it takes over."""
import json
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from processes import LabError, log, wait_until
from replication import pause_replay
from runner import run_test


def router(daemon):
    return json.loads(daemon.ctl("status", "--json").stdout)["routers"][0]


def main():
    with Lab("pgvrrpctl_control") as lab:
        pair = PgPair(lab, max_lag="1MB")
        pair.start()

        cp = pair.d1.ctl("promote", "--force", "--yes", check=False)
        if cp.returncode != 1 or "no takeover to force: the router is MASTER" not in cp.stderr:
            raise LabError(f"forcing on a master: {cp.returncode} {cp.stderr}")

        # 1. The lagging standby.
        pause_replay(pair.s)
        pair.p.psql("CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad "
                    "FROM generate_series(1, 15000) g")
        time.sleep(0.5)
        pair.p.stop("immediate")
        wait_until(lambda: router(pair.d2)["takeover"]["held"], 5, 0.05,
                   "n2 to hold its takeover (lag)")
        held = router(pair.d2)["takeover"]["reason"]
        if "local standby is" not in held:
            raise LabError(f"n2 held for another reason: {held}")
        cp = pair.d2.ctl("promote", "--force", check=False)  # stdin is not a terminal
        if cp.returncode != 1 or "give --yes" not in cp.stderr or pair.d2.state() != "BACKUP":
            raise LabError(f"an unconfirmed promote --force: {cp.returncode} {cp.stderr}")
        t0 = time.monotonic()
        cp = pair.d2.ctl("promote", "--force", "--yes")
        if "takeover forced" not in cp.stdout or "lost for good" not in cp.stderr:
            raise LabError(f"promote --force --yes: {cp.stdout} {cp.stderr}")
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 10, 0.02, "the VIP on n2")
        took = time.monotonic() - t0
        if pair.s.is_in_recovery():
            raise LabError("n2 holds the VIP but is still in recovery")
        if "takeover forced (pgvrrpctl promote --force)" not in pair.d2.log_text():
            raise LabError("the forced takeover is not logged")
        log(f"promote --force: n2 held ({held}); forced, VIP on n2 after {took:.2f} s")

        # 2. Maintenance on n1, once it is n2's standby again.
        pair.wait_rejoined()
        cp = pair.d1.ctl("maintenance", "on")
        if "router pg: maintenance on" not in cp.stdout or not router(pair.d1)["maintenance"]:
            raise LabError(f"maintenance on: {cp.stdout}")
        table = pair.d1.ctl("status").stdout
        if "maintenance mode: will not become master" not in table:
            raise LabError(f"status in maintenance:\n{table}")
        pair.s.stop("immediate")
        wait_until(lambda: router(pair.d1)["takeover"]["held"], 5, 0.05,
                   "n1 to hold its takeover (maintenance)")
        time.sleep(1)
        if pair.d1.state() != "BACKUP" or not pair.p.is_in_recovery():
            raise LabError(f"n1 took over in maintenance: {pair.d1.transitions()}")
        if "maintenance mode (pgvrrpctl maintenance off ends it)" not in pair.d1.log_text():
            raise LabError("the held takeover does not name maintenance in the log")
        cp = pair.d1.ctl("promote", "--force", "--yes", check=False)
        if cp.returncode != 1 or "maintenance mode is on" not in cp.stderr:
            raise LabError(f"promote --force in maintenance: {cp.stderr}")
        cp = pair.d1.ctl("maintenance", "off", "--router", "pg")
        pair.d1.wait_state("MASTER", 5)
        wait_until(lambda: pair.n1.has_address(VIP), 10, 0.02, "the VIP on n1")
        cp = pair.d1.ctl("maintenance", "on", "--router", "nope", check=False)
        if cp.returncode != 1 or "unknown router 'nope'" not in cp.stderr:
            raise LabError(f"an unknown router: {cp.stderr}")
        log("maintenance: n1 held while n2's server was down; off: n1 took over")
        print(f"RESULT pgvrrpctl_control forced_takeover_s={took:.2f}", flush=True)


run_test(main)
