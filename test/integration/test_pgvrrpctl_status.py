#!/usr/bin/env python3
"""Issue 10, pgvrrpctl and the control socket: `pgvrrpctl status` (a table)
and `status --json` (schema 1, pgvrrpctl(8)) against the PostgreSQL pair
before and during a failover, each daemon on its own socket (--socket);
the socket is root's only (mode 0600, and a non-root peer is refused by
its credentials too); clear errors and exit statuses for a daemon that is
not running, a user who is not root, an unknown command; a second daemon
on the same socket refuses to start. Prints a transcript of the status
during the failover."""
import json
import os
import stat
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from pgvrrpd_node import PGVRRPCTL_BIN, PgvrrpdNode
from processes import LabError, log, wait_until
from runner import run_test


def status_json(daemon):
    cp = daemon.ctl("status", "--json")
    try:
        return json.loads(cp.stdout)
    except ValueError as e:
        raise LabError(f"status --json is not JSON ({e}): {cp.stdout!r}")


def check_schema(doc, node):
    for key in ("schema", "pgvrrpd", "node", "pid", "uptime_s", "routers", "checks", "packets"):
        if key not in doc:
            raise LabError(f"status --json lacks '{key}': {doc}")
    if doc["schema"] != 1 or doc["node"] != node:
        raise LabError(f"schema/node: {doc['schema']} {doc['node']}")
    router = doc["routers"][0]
    for key in ("name", "vrid", "state", "priority", "master", "takeover", "last_transition",
                "hooks", "vips", "decided", "maintenance", "fencing"):
        if key not in router:
            raise LabError(f"router lacks '{key}': {router}")
    pg = next(c for c in doc["checks"] if c["name"] == "pg")
    for key in ("passing", "reason", "local", "peer", "lag_bytes", "streaming"):
        if key not in pg:
            raise LabError(f"check pg lacks '{key}': {pg}")
    return router, pg


def main():
    with Lab("pgvrrpctl_status") as lab:
        pair = PgPair(lab)
        pair.start()
        mode = stat.S_IMODE(os.stat(pair.d1.control_socket).st_mode)
        if mode != 0o600:
            raise LabError(f"control socket mode {mode:o}, expected 600")

        r1, pg1 = check_schema(status_json(pair.d1), "n1")
        r2, pg2 = check_schema(status_json(pair.d2), "n2")
        if (r1["state"], r1["master"], pg1["local"]["role"], pg1["peer"]["role"]) != \
                ("MASTER", "self", "primary", "standby"):
            raise LabError(f"n1's status: {r1} {pg1}")
        if (r2["state"], r2["master"], pg2["local"]["role"]) != \
                ("BACKUP", "198.51.100.11", "standby"):
            raise LabError(f"n2's status: {r2} {pg2}")
        if r1["priority"] != {"base": 254, "effective": 254}:
            raise LabError(f"n1's priority: {r1['priority']}")
        if not any(h["hook"] == "on_master" and h["success"] for h in r1["hooks"]):
            raise LabError(f"n1's status shows no successful on_master: {r1['hooks']}")
        table = pair.d1.ctl("status").stdout
        if "MASTER" not in table or "this node" not in table or "passing" not in table:
            raise LabError(f"status table:\n{table}")
        log("before the failover, n1:\n" + table)

        # During a failover: n1's server dies; n2's status follows.
        pair.p.stop("immediate")
        transcript = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            transcript.append(pair.d2.ctl("status").stdout)
            doc = status_json(pair.d2)
            if doc["routers"][0]["state"] == "MASTER" and n2_promoted(doc):
                break
            time.sleep(0.1)
        r2, pg2 = check_schema(doc, "n2")
        if r2["state"] != "MASTER" or r2["last_transition"]["to"] != "MASTER":
            raise LabError(f"n2 after the failover: {r2}")
        log("n2 during the failover (first and last answers):\n" + transcript[0] +
            "...\n" + transcript[-1])
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.02, "the VIP on n2")

        # Errors, each with its exit status.
        cp = pair.n1.run([PGVRRPCTL_BIN, "--socket", lab.path("nobody-here.sock"), "status"],
                         check=False)
        expect_error(cp, 3, "pgvrrpd is not running")
        cp = pair.n1.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          PGVRRPCTL_BIN, "--socket", pair.d1.control_socket, "status"],
                         check=False)
        expect_error(cp, 4, "permission denied")
        # The mode opened by hand: the credentials still keep others out.
        os.chmod(pair.d1.control_socket, 0o666)
        cp = pair.n1.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          PGVRRPCTL_BIN, "--socket", pair.d1.control_socket, "status"],
                         check=False)
        os.chmod(pair.d1.control_socket, 0o600)
        expect_error(cp, 1, "permission denied: only root")
        cp = pair.d1.ctl("frobnicate", check=False)
        expect_error(cp, 2, "unknown command or arguments for 'frobnicate'")

        # A second daemon on n1's socket refuses to start, and the first
        # keeps answering.
        second = PgvrrpdNode(pair.n1, name="second", vrid=52, virtual_ip=["198.51.100.101/24"])
        second.socket_path = pair.d1.control_socket
        second.start()
        wait_until(lambda: not second.proc.alive(), 5, 0.05, "the second daemon to give up")
        if "another pgvrrpd answers there" not in second.log_text():
            raise LabError(f"second daemon: {second.log_text()}")
        if status_json(pair.d1)["routers"][0]["name"] != "pg":
            raise LabError("n1's daemon stopped answering")
        log("errors: not running (3), not root (4; 1 with the mode opened), unknown command "
            "(2), a second daemon on the socket refused")
        print(f"RESULT pgvrrpctl_status polls_during_failover={len(transcript)}", flush=True)


def n2_promoted(doc) -> bool:
    pg = next(c for c in doc["checks"] if c["name"] == "pg")
    return pg["local"]["role"] == "primary"


def expect_error(cp, status, text):
    if cp.returncode != status or text not in cp.stderr:
        raise LabError(f"expected exit {status} with '{text}', got {cp.returncode}: "
                       f"{cp.stdout!r} {cp.stderr!r}")


run_test(main)
