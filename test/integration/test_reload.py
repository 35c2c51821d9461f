#!/usr/bin/env python3
"""Issue 10, reload (pgvrrpctl reload and SIGHUP) on a master with a backup
peer: what reload may apply is applied at once (node, a metrics file); an
invalid file, or one that changes a router, changes nothing and says why
(every error as file:line, the routers named); the master never flaps and
keeps its VIP throughout."""
import json
import os
import signal
import time

from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log, wait_until
from runner import run_test

VIP = "198.51.100.100"


def rewrite(d: PgvrrpdNode) -> None:
    with open(d.ini_path, "w") as f:
        f.write(d.ini_text())


def main():
    with Lab("reload") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        nodes = {}
        for host, prio in ((n1, 200), (n2, 100)):
            nodes[host.short] = PgvrrpdNode(host, priority=prio, advert_interval=0.1,
                                            virtual_ip=VIP + "/24")
        d1, d2 = nodes["n1"], nodes["n2"]
        d1.start()
        d1.wait_state("MASTER", 5)
        d2.start()
        d2.wait_state("BACKUP", 5)
        before = (len(d1.transitions()), len(d2.transitions()))

        # 1. Applied: a metrics file, a new node name.
        metrics = lab.path("n1.prom")
        d1.global_keys["metrics_file"] = metrics
        d1.global_keys["metrics_interval"] = "1"
        rewrite(d1)
        cp = d1.ctl("reload")
        if "reloaded: metrics to" not in cp.stdout or "1 router unchanged" not in cp.stdout:
            raise LabError(f"reload with a metrics file: {cp.stdout}")
        wait_until(lambda: os.path.exists(metrics), 3, 0.05, "the metrics file")
        text = open(d1.ini_path).read().replace("node = n1", "node = east")
        with open(d1.ini_path, "w") as f:
            f.write(text)
        d1.kill(signal.SIGHUP)
        wait_until(lambda: "node n1 -> east" in d1.log_text(), 3, 0.05, "the SIGHUP reload")
        if json.loads(d1.ctl("status", "--json").stdout)["node"] != "east":
            raise LabError("status does not show the new node name")

        # 2. An invalid file: nothing changes, every error with its line.
        good = open(d1.ini_path).read()
        bad = good.replace("priority = 200", "priority = 300").replace(
            "advert_interval = 0.1", "advert_interval = fast")
        with open(d1.ini_path, "w") as f:
            f.write(bad)
        lines = bad.splitlines()
        prio_line = lines.index("priority = 300") + 1
        adv_line = lines.index("advert_interval = fast") + 1
        cp = d1.ctl("reload", check=False)
        for line in (prio_line, adv_line):
            if cp.returncode != 1 or f"{d1.ini_path}:{line}:" not in cp.stderr:
                raise LabError(f"the invalid file's errors ({d1.ini_path}:{line}): "
                               f"{cp.returncode} {cp.stderr}")
        if f"reload: {d1.ini_path}:{prio_line}:" not in d1.log_text():
            raise LabError("the errors are not logged as file:line")
        mtime = os.path.getmtime(metrics)
        time.sleep(2.2)
        if os.path.getmtime(metrics) == mtime:
            raise LabError("the metrics file stopped after the refused reload")

        # 3. A router change needs a restart: refused, the router named.
        with open(d1.ini_path, "w") as f:
            f.write(good.replace("priority = 200", "priority = 150"))
        cp = d1.ctl("reload", check=False)
        if cp.returncode != 1 or "routers changed: pg" not in cp.stderr \
                or "need a restart" not in cp.stderr:
            raise LabError(f"a changed router: {cp.returncode} {cp.stderr}")
        status = json.loads(d1.ctl("status", "--json").stdout)["routers"][0]
        if status["priority"]["base"] != 200:
            raise LabError(f"the refused reload changed the priority: {status['priority']}")

        # Throughout: no transition on either node, the VIP on n1 only.
        after = (len(d1.transitions()), len(d2.transitions()))
        if after != before or d1.state() != "MASTER" or d2.state() != "BACKUP":
            raise LabError(f"a node flapped during the reloads: n1 {d1.transitions()}, "
                           f"n2 {d2.transitions()}")
        assert_single_holder([n1, n2], VIP, n1)
        log("reload: metrics and node applied; an invalid file and a router change refused "
            "with file:line and the router named; no transition")


run_test(main)
