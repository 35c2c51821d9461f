#!/usr/bin/env python3
"""Issue 10, metrics: the PostgreSQL pair with metrics_file set on both
daemons. The file is parsed with the rules of the Prometheus text format
(every sample's family announced by one HELP and one TYPE line before it,
each family's samples in one group, valid metric and label names, escaped
label values, float values, counters named *_total, no series twice), and
its values must say what the lab shows: n1 MASTER with its on_master run,
n2 BACKUP following; after n1's server dies, n2 MASTER, a transition
counted, its promote counted as a success. The file is replaced whole (a
rename): a reader never sees it half written."""
import os
import time

from metrics_text import read, value
from netlab import Lab
from pg_pair import PgPair
from processes import LabError, log, wait_until
from runner import run_test


def main():
    with Lab("metrics_file") as lab:
        pair = PgPair(lab)
        paths = {}
        for short, d in (("n1", pair.d1), ("n2", pair.d2)):
            paths[short] = lab.path(f"{short}-pgvrrpd.prom")
            d.global_keys = {"metrics_file": paths[short], "metrics_interval": 1}
        pair.start()
        wait_until(lambda: os.path.exists(paths["n2"]), 5, 0.05, "n2's metrics file")
        time.sleep(1.2)  # a rewrite after n1's on_master ended
        m1, m2 = read(paths["n1"]), read(paths["n2"])
        if value(m1, "pgvrrpd_router_state", router="pg", state="MASTER") != 1 or \
                value(m1, "pgvrrpd_router_state", router="pg", state="BACKUP") != 0:
            raise LabError("n1's metrics do not say MASTER")
        if value(m2, "pgvrrpd_router_state", router="pg", state="BACKUP") != 1:
            raise LabError("n2's metrics do not say BACKUP")
        if value(m1, "pgvrrpd_hook_runs_total", router="pg", hook="on_master",
                 result="success") != 1:
            raise LabError("n1's on_master run is not counted")
        if value(m1, "pgvrrpd_router_priority", router="pg", kind="effective") != 254:
            raise LabError("n1's effective priority")
        if value(m1, "pgvrrpd_pg_role", check="pg", server="local", role="primary") != 1 or \
                value(m2, "pgvrrpd_pg_role", check="pg", server="local", role="standby") != 1 or \
                value(m2, "pgvrrpd_pg_up", check="pg", server="peer") != 1:
            raise LabError("the pg facts in the metrics are wrong")
        if ("pgvrrpd_pg_lag_bytes", frozenset({("check", "pg")})) not in m2:
            raise LabError("n2 (a standby) has no lag_bytes")
        sent = value(m1, "pgvrrpd_adverts_sent_total", router="pg")
        received = value(m2, "pgvrrpd_adverts_received_total")
        if sent < 5 or received < 5:
            raise LabError(f"adverts sent {sent} / received {received}")
        log(f"before: {len(m1)} series on n1, {len(m2)} on n2; n1 sent {sent:.0f} adverts")

        pair.p.stop("immediate")
        pair.d2.wait_state("MASTER", 5)

        # The promotion can take up to wal_retrieve_retry_interval (5 s):
        # a promote request that finds the startup process "waiting for WAL
        # to become available" after its WAL receiver died waits that long.
        def promote_counted():
            m = read(paths["n2"])
            return ("pgvrrpd_hook_runs_total",
                    frozenset({("router", "pg"), ("hook", "on_master"),
                               ("result", "success")})) in m
        wait_until(promote_counted, 10, 0.1, "n2's promote counted in its metrics")
        m2 = read(paths["n2"])
        # n2 takes over on n1's priority 0 advert, or a moment later if its
        # own connection to n1's dying server had not failed yet (the guard).
        to_master = {labels: v for (name, labels), v in m2.items()
                     if name == "pgvrrpd_router_transitions_total"
                     and ("to", "MASTER") in labels}
        reasons = {dict(labels)["reason"] for labels in to_master}
        if value(m2, "pgvrrpd_router_state", router="pg", state="MASTER") != 1 or \
                sum(to_master.values()) != 1 or \
                not reasons <= {"master_resigned", "takeover_guard_cleared"} or \
                value(m2, "pgvrrpd_router_transitions_total", router="pg", to="BACKUP",
                      reason="startup") != 1:
            raise LabError(f"n2's metrics after the takeover: transitions to MASTER {to_master}")
        if value(m2, "pgvrrpd_hook_runs_total", router="pg", hook="on_master",
                 result="success") != 1:
            raise LabError("n2's promote is not counted")
        if value(m2, "pgvrrpd_pg_role", check="pg", server="local", role="primary") != 1:
            raise LabError("n2's server not a primary in the metrics")
        if os.path.exists(paths["n2"] + ".tmp"):
            raise LabError("a temporary file was left behind")
        log(f"after the takeover: n2 MASTER, 1 transition to MASTER, promote counted; "
            f"{len(m2)} series")
        print(f"RESULT metrics_file series_n1={len(m1)} series_n2={len(m2)}", flush=True)


run_test(main)
