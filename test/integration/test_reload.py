#!/usr/bin/env python3
"""Issue 10, reload (pgvrrpctl reload and SIGHUP) on a master with a backup
peer: node and a metrics file are applied at once; an invalid file, or a
change to the router that is MASTER, changes nothing and says why (every
error as file:line, the router named). Routers come and go: one added on
both nodes (tracking the check router pg already has) starts and settles as
master on n1, a changed backup router restarts with its new priority, a
router removed from the master hands its VIP to the peer. Router pg, kept
unchanged by all of it on n1, never flaps and keeps its VIP throughout."""
import json
import os
import signal
import time

from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log, wait_until
from runner import run_test

VIP = "198.51.100.100"
WEB_VIP = "198.51.100.101"


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
                                            virtual_ip=VIP + "/24", track="alive")
            nodes[host.short].add_check("alive", type="exec", command="/bin/true",
                                        interval="0.5")
        d1, d2 = nodes["n1"], nodes["n2"]
        d1.start()
        d1.wait_state("MASTER", 5)
        d2.start()
        d2.wait_state("BACKUP", 5)
        before = (len(d1.transitions("pg")), len(d2.transitions("pg")))

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

        # 3. A change to the router that is MASTER here is refused: it would
        # hand the VIP and the primary over.
        with open(d1.ini_path, "w") as f:
            f.write(good.replace("priority = 200", "priority = 150"))
        cp = d1.ctl("reload", check=False)
        if cp.returncode != 1 or "router pg changed and is MASTER here" not in cp.stderr:
            raise LabError(f"a changed master router: {cp.returncode} {cp.stderr}")
        status = json.loads(d1.ctl("status", "--json").stdout)["routers"][0]
        if status["priority"]["base"] != 200:
            raise LabError(f"the refused reload changed the priority: {status['priority']}")
        with open(d1.ini_path, "w") as f:
            f.write(good)

        # 4. Router web added on both nodes, tracking the check pg has: it
        # starts with the check's verdict known (else the check would hold
        # its takeover), and n1 becomes its master.
        # n1 first: preempt is off, so the first master of web keeps it.
        for d, prio in ((d1, 200), (d2, 100)):
            d.add_router("web", 52, priority=prio, advert_interval=0.1,
                         virtual_ip=WEB_VIP + "/24", track="alive")
            rewrite(d)
            cp = d.ctl("reload")
            if "starting web" not in cp.stdout or "1 router unchanged" not in cp.stdout:
                raise LabError(f"{d.host.short}: adding web: {cp.stdout}")
            d.wait_state("MASTER" if d is d1 else "BACKUP", 5, router="web")
        wait_until(lambda: n1.has_address(WEB_VIP), 3, 0.05, "web's VIP on n1")
        if "check alive has no verdict" in d1.log_text():
            raise LabError("web waited for a verdict the check already had")

        # 5. On the backup, pg changed (priority 100 -> 120): it restarts
        # there and stays BACKUP; n1 sees nothing.
        d2.routers["pg"]["priority"] = 120
        rewrite(d2)
        cp = d2.ctl("reload")
        if not cp.stdout.startswith("reloading: restarting pg") \
                or "reloaded: 2 routers running, started pg" not in cp.stdout:
            raise LabError(f"n2: restarting pg: {cp.stdout}")
        d2.wait_state("BACKUP", 5)
        wait_until(lambda: json.loads(d2.ctl("status", "--json").stdout)["routers"][0]["master"]
                   is not None, 3, 0.05, "n2's restarted pg hearing the master")
        n2_pg = json.loads(d2.ctl("status", "--json").stdout)["routers"][0]
        if n2_pg["name"] != "pg" or n2_pg["priority"]["base"] != 120 \
                or n2_pg["master"] != "198.51.100.11":
            raise LabError(f"n2's restarted pg: {n2_pg}")

        # 5b. On the backup, the check both routers track changed: both
        # restart with a new checker, and settle as backups again.
        d2.checks["alive"]["interval"] = "0.4"
        rewrite(d2)
        cp = d2.ctl("reload")
        if not cp.stdout.startswith("reloading: restarting pg, web") \
                or "reloaded: 2 routers running, started pg, web" not in cp.stdout:
            raise LabError(f"n2: a changed check: {cp.stdout}")
        for router in ("pg", "web"):
            d2.wait_state("BACKUP", 5, router=router)
        wait_until(lambda: all(r["master"] is not None for r in
                               json.loads(d2.ctl("status", "--json").stdout)["routers"]),
                   3, 0.05, "n2's restarted routers hearing their master")
        n2_pg_transitions = len(d2.transitions("pg"))

        # 6. web removed from the master: it resigns, n2 takes web's VIP.
        del d1.routers["web"]
        rewrite(d1)
        cp = d1.ctl("reload")
        if "stopping web" not in cp.stdout or "reloaded: 1 router running" not in cp.stdout:
            raise LabError(f"n1: removing web: {cp.stdout}")
        d2.wait_state("MASTER", 5, router="web")
        wait_until(lambda: not n1.has_address(WEB_VIP), 3, 0.05, "web's VIP gone from n1")
        assert_single_holder([n1, n2], WEB_VIP, n2)
        routers = [r["name"] for r in json.loads(d1.ctl("status", "--json").stdout)["routers"]]
        if routers != ["pg"]:
            raise LabError(f"n1 still runs {routers}")
        if len(d2.transitions("pg")) != n2_pg_transitions:
            raise LabError(f"n2's pg moved when n1 removed web: {d2.transitions('pg')}")

        # Throughout: pg never moved on n1, the VIP on n1 only.
        if len(d1.transitions("pg")) != before[0] or d1.state() != "MASTER" \
                or d2.state() != "BACKUP":
            raise LabError(f"pg flapped during the reloads: n1 {d1.transitions('pg')}, "
                           f"n2 {d2.transitions('pg')}")
        assert_single_holder([n1, n2], VIP, n1)
        log("reload: metrics and node applied; an invalid file and a change to the master's "
            "router refused with file:line and the router named; web added (master on n1), "
            "pg restarted on the backup, web removed from n1 (n2 took it over); pg on n1 "
            "never moved")


run_test(main)
