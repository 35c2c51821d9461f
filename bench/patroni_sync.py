#!/usr/bin/env python3
"""Patroni with and without synchronous_mode, on the lab pgvrrpd's figures
come from (issue 11): acknowledged writes lost when the primary's whole
server dies, the write outage of each failover, and what synchronous
replication costs each commit.

The lab: one etcd 3.4 (Debian's etcd-server; Patroni needs a DCS, and it
runs in a namespace of its own, "et", 198.51.100.30), two nodes n1
(198.51.100.11) and n2 (198.51.100.12) each running Patroni 3.0.2 with its
PostgreSQL 15, and a client cl (198.51.100.20) running the harness's
vip_writer (test/integration/writer.py) with writer.FAST (an INSERT every
10 ms, 0.5 s connect and 1 s statement deadlines), --keep (one pooled
session while it stays healthy) and --max-inflight 2 (WRITER). It writes
to each node's own address, one vip_writer per node (Writers below says
why not libpq's host=n1,n2 target_session_attrs=read-write): as a client
behind a proxy or VIP that follows the leader at once would, so the
outage is Patroni's own.
PostgreSQL runs with pglab.COMMON_CONF's settings (fsync off,
synchronous_commit on, wal_log_hints, 16MB shared_buffers, ...), read from
pglab itself so that both labs stay alike; Patroni adds
synchronous_standby_names in synchronous mode, replication slots, and its
own listen_addresses, port and cluster_name. pg_rewind runs with
--no-sync and pg_basebackup with --no-sync, as in pgvrrpd's lab.

One lab per call. n1 bootstraps, n2 clones it; the writer starts; a 10 s
window without faults gives the commit latency (acknowledged INSERTs only,
start to acknowledgement, on the kept session to the leader). Then
`kills` times: the pair is whole again (the replica streams and, in
synchronous mode, Patroni names it the sync standby in PostgreSQL and in
etcd, which alone lets it promote), the leader has acknowledged writes, a
random 0.5-2 s (seeded) passes, and the leader's server dies: every
process in its namespace (Patroni, the postmaster and its children, a
pg_rewind if any) frozen then SIGKILLed, its link down, as
pg_pair.PgPair.kill_n1_server does to pgvrrpd's n1. Then the other node
must become leader and acknowledge writes; every write acknowledged so far
(by either node) must be on it, compared by the row's note (ids repeat
across a failover: the sequence is WAL-logged ahead). The dead node's link
comes back and its Patroni starts again: it rejoins as a replica (crash
recovery, then pg_rewind, else a new base backup) and is the next victim.

    python3 bench/patroni_sync.py --kills 5 --mode sync [--json FILE] [--seed 1]
    python3 bench/patroni_sync.py --kills 5 --mode async

Runs as root, in network namespaces only (198.51.100.0/24); needs the build
(build/test/vip_writer) and the packages patroni, etcd-server, etcd-client
(packaging/setup.sh installs them).

run(kills, synchronous, seed=1) returns a dict (what bench/sync_loss.py
reads; run()'s other keywords change the timing, the window, the client),
every time in seconds unless the key says _ms:
  mode              "sync" or "async"
  kills, kills_done requested, and completed with their loss measured
  acked_total       writes acknowledged in the whole run
  lost_total        sum of lost_per_kill
  lost_per_kill     per kill: acknowledged writes (up to the measure, after
                    the new leader acknowledged 3) missing on the new
                    leader and not already counted at an earlier kill
  lost_acked_ms     per kill: when each of its lost writes was acknowledged,
                    in ms from the kill (negative: before it); "the kill"
                    is the first SIGSTOP, from when the server answers
                    nothing
  lost_final        acknowledged writes missing on the last leader when the
                    writer has stopped (should equal lost_total)
  outage_per_kill   per kill: pg_pair.PgPair.write_outage, the longest gap
                    between consecutive acknowledgements from the last
                    one before the kill to the measure
  outage_median, outage_max
  promotion_per_kill per kill: the kill to the new leader's first
                    acknowledged write
  killed            per kill: the node killed ("n1"/"n2")
  seconds_per_kill  wall time of the kill loop divided by kills_done
  commit            {"median_ms", "p90_ms", "p99_ms", "count", "window"}: the
                    steady-state window's acknowledged writes
  median_ms, p99_ms the same two numbers at top level
  patroni           {"ttl", "loop_wait", "retry_timeout",
                    "maximum_lag_on_failover", "synchronous_mode", "version"}
  ttl, loop_wait, retry_timeout  the same three at top level
  pg_parameters     the PostgreSQL settings given to Patroni
  client            the writers' writer.Writer keywords
  link_first        whether the link went down before the SIGKILL
  patroni_anomalies {log line: count} of ANOMALIES found in Patroni's logs
  rejoined_by       {"pg_rewind", "base backup", "neither"}: how the killed
                    nodes came back, from Patroni's logs
  error             "" or why the run stopped early
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                                "integration"))

from netlab import Host, Lab  # noqa: E402
from percentile import pct  # noqa: E402
from pg_pair import PgPair  # noqa: E402
from pglab import (LAB_SUBNETS, PG_USER, PORT, WRITES_TABLE,  # noqa: E402
                   PgNode, _as_postgres)
from peer_lab import kill_host, lab_bin_dir, pglab_parameters  # noqa: E402
from peer_patroni import patroni_version, start_etcd  # noqa: E402
from processes import LabError, log, wait_until  # noqa: E402
from writer import FAST, Writer  # noqa: E402

ETCD_ADDR = "198.51.100.30"
NODE_ADDRS = {"n1": "198.51.100.11", "n2": "198.51.100.12"}
CLIENT_ADDR = "198.51.100.20"
REST_PORT = 8008
SCOPE = "bench"

# Patroni's timing, the fastest that ran here. 3.0.2 validates only that
# they are integers; its documentation asks ttl >= loop_wait + 2 *
# retry_timeout (5 here), and that of later releases (3.2) gives minimums:
# ttl 20, loop_wait 1, retry_timeout 3 (--ttl 20 --retry-timeout 3).
# Tried on this lab (2 cores shared with other labs):
#   retry_timeout 1: no failover at all. The survivor first asks the dead
#     member's REST API, with a fixed 2 s timeout (ha.fetch_node_status),
#     and its leader-key write then fails every cycle ("Error
#     communicating with DCS", 12 minutes before the run gave up).
#   ttl 2: a live leader lost its lease ("Primary (n1) is still alive"
#     on the replica) and the third kill did not fail over; etcd 3.4 also
#     raises any lease below 2 s to 2 s.
#   ttl 3, loop_wait 1, retry_timeout 2: ran, none of ANOMALIES logged.
# loop_wait 1 is the smallest integer that is not a busy loop. The outage
# is about ttl (the lease of a dead leader running out) plus that 2 s.
TTL, LOOP_WAIT, RETRY_TIMEOUT = 3, 1, 2
MAXIMUM_LAG_ON_FAILOVER = 1048576      # Patroni's default

STEADY_WINDOW = 10.0     # s of writes without a fault for the commit latency
READY_TIMEOUT = 120.0    # a rejoin may take a crash recovery, pg_rewind, a base backup
FAILOVER_TIMEOUT = 60.0
KILL_DELAY = (0.5, 2.0)  # s after the pair is whole and writing, before the kill
# The client's manner on top of writer.FAST: a pooled session (--keep),
# and at most one attempt waiting beside the running one. With
# vip_writer's 64, a server slowed by the machine's load (other labs)
# got a new connection every 10 ms, each a backend to fork, and the pile
# fed itself: a writer at a live standby connected not once in 25 s.
WRITER = {"keep": True, "max_inflight": 2}
# Patroni's log lines that mean its timing did not hold in the run: a
# leader losing its lock, a replica finding the leader key gone while the
# primary is alive, the DCS out of reach. None is expected in a run that
# kills only leaders.
ANOMALIES = ("Demoting self", "failed to update leader lock", "is still alive",
             "Error communicating with DCS")


class PatroniNode:
    """Patroni and its PostgreSQL on one lab host. The PgNode (init=False: an
    empty data directory that Patroni's bootstrap or clone fills) gives the
    directories and psql over the node's own unix socket; Patroni owns the
    server."""

    def __init__(self, lab: Lab, host: Host, synchronous: bool, rest_client: Host,
                 timing: dict[str, int], bin_dir: str):
        self.lab, self.host, self.name = lab, host, host.short
        self.addr = NODE_ADDRS[self.name]
        self.rest_client = rest_client
        self.pg = PgNode(host, init=False)
        self.config_path = os.path.join(self.pg.dir, "patroni.yml")
        self.proc = None
        self.starts = 0
        hba = ["local all all trust", "local replication all trust",
               "host all all 127.0.0.1/32 trust"]
        hba += [f"host {db} all {net} trust" for db in ("all", "replication")
                for net in LAB_SUBNETS]
        pg_settings = {
            "use_pg_rewind": True,
            # A dead leader that cannot be rewound (or whose timeline went
            # another way) is cloned afresh, so every kill is followed by
            # a whole pair again.
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
            "use_slots": True,
        }
        self.config = {
            "scope": SCOPE,
            "name": self.name,
            "log": {"level": "INFO"},
            "restapi": {"listen": f"{self.addr}:{REST_PORT}",
                        "connect_address": f"{self.addr}:{REST_PORT}"},
            "etcd3": {"hosts": [f"{ETCD_ADDR}:2379"]},
            "bootstrap": {
                "dcs": {
                    **timing,
                    "maximum_lag_on_failover": MAXIMUM_LAG_ON_FAILOVER,
                    "synchronous_mode": synchronous,
                    "postgresql": {**pg_settings, "parameters": pglab_parameters()},
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, "no-sync"],
                "pg_hba": hba,
            },
            "postgresql": {
                **pg_settings,
                "listen": f"{self.addr}:{PORT}",
                "connect_address": f"{self.addr}:{PORT}",
                "data_dir": self.pg.datadir,
                "bin_dir": bin_dir,
                "pgpass": os.path.join(self.pg.dir, "pgpass"),
                "authentication": {
                    "superuser": {"username": PG_USER, "password": "postgres"},
                    "replication": {"username": "replicator", "password": "replicator"},
                    "rewind": {"username": PG_USER, "password": "postgres"},
                },
                # The servers run with fsync off (as pglab's): pg_basebackup
                # need not fsync what it writes (pg_rewind: lab_bin_dir).
                "basebackup": [{"checkpoint": "fast"}, "no-sync"],
                "parameters": {"unix_socket_directories": self.pg.sockdir},
                "pg_hba": hba,
                "use_unix_socket": True,
            },
            "watchdog": {"mode": "off"},
        }
        # YAML is a superset of JSON: no YAML writer needed.
        self.pg._write(self.config_path, json.dumps(self.config, indent=1))

    def __repr__(self):
        return f"PatroniNode({self.name})"

    def start(self) -> None:
        self.starts += 1
        self.proc = self.host.spawn(_as_postgres(["patroni", self.config_path], self.pg.dir),
                                    f"patroni-{self.starts}")

    def rest(self, path: str = "patroni") -> dict | None:
        """GET http://NODE:8008/PATH from the client's namespace (the lab's
        addresses exist only inside its namespaces), JSON or None."""
        url = f"http://{self.addr}:{REST_PORT}/{path}"
        cp = self.rest_client.run(["curl", "-s", "-m", "1", url], check=False, timeout=5)
        try:
            return json.loads(cp.stdout) if cp.stdout else None
        except ValueError:
            return None

    def is_leader(self) -> bool:
        st = self.rest()
        return bool(st and st.get("role") in ("master", "primary") and st.get("state") == "running")

    def kill_server(self, link_first: bool = False) -> float:
        """The whole server dies: every process in the node's namespace
        (Patroni, the postmaster, whatever Patroni was running) frozen and
        SIGKILLed, the link down (peer_lab.kill_host, which says how and
        what link_first changes). Returns when the server stopped answering."""
        return kill_host(self.lab, self.host, link_first)

    def revive(self) -> None:
        self.host.link_up()
        self.start()


class Writers:
    """The client: one vip_writer per node, each aimed at that node's own
    address (writer.FAST and WRITER), together what PgPair.write_outage reads
    (.results, .summary()). A writer is started at a node before it is to
    be promoted and stopped once its node died, so in the steady state one
    writer runs, at the leader. (Not libpq's host=n1,n2
    target_session_attrs=read-write: vip_writer's connect deadline covers
    the whole host list, and a dead first host, which sends no RST, holds
    every new connection until then; with a 5 s deadline, such a writer
    had still not reached n2 30 s after n1 died. The outage would be the
    client's, not Patroni's.)"""

    def __init__(self, client: Host, options: dict | None = None):
        self.client = client
        self.options = {**FAST, **WRITER, **(options or {})}
        self.writers: list[Writer] = []

    def add(self, node: "PatroniNode") -> Writer:
        w = Writer(self.client, [node.addr], note=f"{node.name}-{len(self.writers)}",
                   **self.options).start()
        self.writers.append(w)
        return w

    @property
    def results(self) -> list:
        return [r for w in self.writers for r in list(w.results)]

    def summary(self) -> str:
        return "; ".join(f"{w.note}: {w.summary()}" for w in self.writers)

    def stop(self) -> None:
        for w in self.writers:
            w.stop()


def acked_by(w: Writer, addr: str, after: float = 0.0) -> list:
    return [r for r in w.results if r.ok and r.server_addr == addr and r.end >= after]


def wait_acked_by(w: Writer, addr: str, count: int, timeout: float) -> None:
    want = len(acked_by(w, addr)) + count
    wait_until(lambda: len(acked_by(w, addr)) >= want, timeout, 0.02,
               lambda: f"{count} writes acknowledged by {addr} ({w.summary()}; "
                       f"last: {w.results[-1:]})")


def wait_whole(leader: PatroniNode, replica: PatroniNode, synchronous: bool,
               timeout: float = READY_TIMEOUT) -> None:
    """The pair is whole again: leader leads, the replica streams from it and,
    in synchronous mode, is the sync standby both in PostgreSQL
    (pg_stat_replication.sync_state) and in etcd (/sync, which alone lets
    Patroni promote it)."""
    last: list = [None, None]

    def whole():
        st, rst = last[0], last[1] = leader.rest(), replica.rest()
        if not (st and rst and st.get("role") in ("master", "primary")
                and st.get("state") == "running" and rst.get("role") == "replica"
                and rst.get("state") == "running"):
            return False
        rep = [r for r in st.get("replication", []) if r.get("application_name") == replica.name]
        if not rep or rep[0].get("state") != "streaming":
            return False
        return not synchronous or (rep[0].get("sync_state") == "sync"
                                   and rst.get("sync_standby") is True)
    wait_until(whole, timeout, 0.2,
               lambda: f"{replica} streaming from leader {leader}"
                       f"{' as its sync standby' if synchronous else ''}; last /patroni: "
                       f"leader {last[0]}, replica {last[1]}; replica's log:\n"
                       f"{replica.proc.log_tail(15) if replica.proc else ''}")


def notes_on(node: PatroniNode) -> set[str]:
    return set(node.pg.psql("SELECT note FROM writes", timeout=60).splitlines())


def commit_latency(w: Writer, t0: float, t1: float) -> dict:
    lat = [(r.end - r.start) * 1000 for r in list(w.results)
           if r.ok and t0 <= r.start and r.end <= t1]
    if not lat:
        raise LabError(f"no acknowledged write in the steady-state window: {w.summary()}")
    return {"median_ms": round(statistics.median(lat), 2), "p90_ms": round(pct(lat, 90), 2),
            "p99_ms": round(pct(lat, 99), 2),
            "count": len(lat), "window": round(t1 - t0, 1)}


def run(kills: int, synchronous: bool, seed: int = 1, ttl: int = TTL,
        loop_wait: int = LOOP_WAIT, retry_timeout: int = RETRY_TIMEOUT,
        window: float = STEADY_WINDOW, logs: str | None = None,
        writer: dict | None = None, link_first: bool = False) -> dict:
    """One lab, `kills` kills of the leader's server; the figures as the
    module docstring lists them. ttl, loop_wait, retry_timeout: Patroni's
    timing; window: seconds of the commit latency's steady state (the
    module's defaults unless trying others); logs: a directory to copy the
    run's Patroni (with PostgreSQL's), etcd and vip_writer logs to;
    writer: writer.Writer keywords over writer.FAST and WRITER (say
    {"interval": 0.002}, to match another bench's client); link_first:
    see PatroniNode.kill_server. A lab that
    cannot be set up raises LabError; a failure among the kills ends the
    run with the figures so far and "error" set."""
    rng = random.Random(seed)
    timing = {"ttl": ttl, "loop_wait": loop_wait, "retry_timeout": retry_timeout}
    result = {
        "mode": "sync" if synchronous else "async", "kills": kills, "kills_done": 0,
        "acked_total": 0, "lost_total": 0, "lost_per_kill": [], "lost_acked_ms": [],
        "lost_final": None,
        "outage_per_kill": [], "outage_median": None, "outage_max": None,
        "promotion_per_kill": [], "killed": [], "seconds_per_kill": None,
        "commit": None, "median_ms": None, "p99_ms": None,
        "patroni": {**timing,
                    "maximum_lag_on_failover": MAXIMUM_LAG_ON_FAILOVER,
                    "synchronous_mode": synchronous, "version": patroni_version()},
        **timing,
        "link_first": link_first,
        "pg_parameters": pglab_parameters(), "client": {**FAST, **WRITER, **(writer or {})},
        "patroni_anomalies": {}, "rejoined_by": {},
        "error": "",
    }
    with Lab("patroni_sync") as lab:
        et = lab.add_host("et", ipv4=f"{ETCD_ADDR}/24")
        hosts = {name: lab.add_host(name, ipv4=f"{addr}/24") for name, addr in NODE_ADDRS.items()}
        cl = lab.add_host("cl", ipv4=f"{CLIENT_ADDR}/24")
        start_etcd(lab, et, ETCD_ADDR)
        bin_dir = lab_bin_dir(lab)
        nodes = {name: PatroniNode(lab, h, synchronous, cl, timing, bin_dir)
                 for name, h in hosts.items()}
        n1, n2 = nodes["n1"], nodes["n2"]

        # n1 alone first, so that it bootstraps and n2 clones it.
        n1.start()
        wait_until(n1.is_leader, 60, 0.2,
                   lambda: f"n1 to bootstrap and lead; its log:\n{n1.proc.log_tail(20)}")
        n1.pg.psql(WRITES_TABLE)
        n2.start()
        wait_whole(n1, n2, synchronous)
        leader, replica = n1, n2

        writers = Writers(cl, writer)
        w_leader = writers.add(leader)
        wait_acked_by(w_leader, leader.addr, 20, 20)
        time.sleep(1)
        t0 = time.monotonic()
        time.sleep(window)
        result["commit"] = commit_latency(w_leader, t0, time.monotonic())
        result["median_ms"] = result["commit"]["median_ms"]
        result["p99_ms"] = result["commit"]["p99_ms"]
        log(f"commit latency over {window:g} s: {result['commit']}")

        lost: set[str] = set()
        loop_start = time.monotonic()
        try:
            for k in range(kills):
                wait_whole(leader, replica, synchronous)
                wait_acked_by(w_leader, leader.addr, 3, 20)
                # Refused (read-only) until the replica is promoted; its
                # first acknowledgement is the promotion as a client sees it.
                w_replica = writers.add(replica)
                wait_until(lambda: any("read-only" in r.error for r in w_replica.results), 20,
                           0.02, lambda: f"a session of {w_replica} on the replica before the "
                                         f"kill ({w_replica.summary()})")
                time.sleep(rng.uniform(*KILL_DELAY))
                t_fault = leader.kill_server(link_first)
                wait_until(replica.is_leader, FAILOVER_TIMEOUT, 0.05,
                           lambda: f"{replica} to lead after {leader} died; its log:\n"
                                   f"{replica.proc.log_tail(20)}")
                wait_acked_by(w_replica, replica.addr, 3, 20)
                t_measure = time.monotonic()
                have = notes_on(replica)
                acked = {r.note: r.end for r in writers.results if r.ok and r.end < t_measure}
                new_lost = (acked.keys() - have) - lost
                lost |= new_lost
                result["lost_per_kill"].append(len(new_lost))
                result["lost_acked_ms"].append(
                    sorted(round((acked[n] - t_fault) * 1000, 1) for n in new_lost))
                result["outage_per_kill"].append(round(PgPair.write_outage(writers, t_fault), 3))
                result["promotion_per_kill"].append(
                    round(min(r.end for r in acked_by(w_replica, replica.addr, t_fault))
                          - t_fault, 3))
                result["killed"].append(leader.name)
                result["kills_done"] += 1
                log(f"kill {k + 1}/{kills} of {leader.name}: lost {len(new_lost)}, outage "
                    f"{result['outage_per_kill'][-1]} s, promotion "
                    f"{result['promotion_per_kill'][-1]} s")
                w_leader.stop()     # its node is dead; it comes back as a replica
                leader.revive()
                leader, replica, w_leader = replica, leader, w_replica
            # The last victim back as well, so that the final count is on a
            # pair in its steady state and no kill is left half-handled.
            wait_whole(leader, replica, synchronous)
        except LabError as e:
            result["error"] = str(e).splitlines()[0][:300]
            log(f"run stopped early: {e}")
        if result["kills_done"]:
            result["seconds_per_kill"] = round((time.monotonic() - loop_start)
                                               / result["kills_done"], 1)
        writers.stop()
        texts = "".join(p.log_text() for p in lab.procs if "patroni" in p.name)
        result["patroni_anomalies"] = {a: texts.count(a) for a in ANOMALIES if a in texts}
        rewound = texts.count("pg_rewind exit code=0")
        # The first base backup is n2's clone at the start.
        cloned = max(0, texts.count("replica has been created using basebackup") - 1)
        result["rejoined_by"] = {"pg_rewind": rewound, "base backup": cloned,
                                 "neither": result["kills_done"] - rewound - cloned}
        acked_all = {r.note for r in writers.results if r.ok}
        result["acked_total"] = len(acked_all)
        result["lost_total"] = sum(result["lost_per_kill"])
        try:
            result["lost_final"] = len(acked_all - notes_on(leader))
        except LabError as e:
            result["error"] = result["error"] or str(e).splitlines()[0][:300]
        if result["outage_per_kill"]:
            result["outage_median"] = round(statistics.median(result["outage_per_kill"]), 3)
            result["outage_max"] = max(result["outage_per_kill"])
        if logs:
            os.makedirs(logs, exist_ok=True)
            for name in os.listdir(lab.tmpdir):
                if name.endswith((".log", ".out")):
                    shutil.copy(lab.path(name), logs)
        if result["error"]:
            lab.dump_logs(30)
    return result


def table(results: list[dict]) -> str:
    head = ("| system | kills | acknowledged writes | lost (kills with loss) "
            "| outage median / max s | commit median ms | commit p99 ms "
            "| Patroni ttl / loop_wait / retry_timeout | s per kill |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        lossy = sum(1 for n in r["lost_per_kill"] if n)
        done = f"{r['kills_done']}" + (f" of {r['kills']}" if r["kills_done"] != r["kills"] else "")
        out = ("-" if r["outage_median"] is None
               else f"{r['outage_median']:.2f} / {r['outage_max']:.2f}")
        lines.append("| " + " | ".join([
            f"Patroni {r['patroni']['version'].split()[-1]}, synchronous_mode "
            f"{'on' if r['mode'] == 'sync' else 'off'}",
            done, str(r["acked_total"]), f"{r['lost_total']} ({lossy})", out,
            f"{r['median_ms']}", f"{r['p99_ms']}",
            f"{r['ttl']} / {r['loop_wait']} / {r['retry_timeout']}",
            "-" if r["seconds_per_kill"] is None else f"{r['seconds_per_kill']}"]) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5, help="kills of the leader's server")
    parser.add_argument("--mode", choices=("sync", "async"), default="sync",
                        help="Patroni's synchronous_mode on (sync) or off (async)")
    parser.add_argument("--seed", type=int, default=1, help="for the random kill moments")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--ttl", type=int, default=TTL)
    parser.add_argument("--loop-wait", type=int, default=LOOP_WAIT)
    parser.add_argument("--retry-timeout", type=int, default=RETRY_TIMEOUT)
    parser.add_argument("--window", type=float, default=STEADY_WINDOW,
                        help="seconds of writes without a fault for the commit latency")
    parser.add_argument("--logs", help="copy the run's logs to this directory")
    parser.add_argument("--link-first", action="store_true",
                        help="the dead node's link down before the SIGKILL, not after")
    args = parser.parse_args()
    r = run(args.kills, args.mode == "sync", args.seed, args.ttl, args.loop_wait,
            args.retry_timeout, args.window, args.logs, link_first=args.link_first)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    print(table([r]))
    print(f"\nlost per kill {r['lost_per_kill']} (acknowledged at ms from the kill: "
          f"{[x for k in r['lost_acked_ms'] for x in k]})\n"
          f"outage per kill (s) {r['outage_per_kill']}\n"
          f"promotion per kill (s) {r['promotion_per_kill']}\n"
          f"killed {r['killed']}; rejoined by {r['rejoined_by']}\n"
          f"commit latency {r['commit']}\n"
          f"Patroni's log: {r['patroni_anomalies'] or 'no sign of a timing trouble'}\n")
    print(f"RESULT patroni mode={r['mode']} kills={r['kills_done']}/{r['kills']} "
          f"acked={r['acked_total']} lost={r['lost_total']} lost_final={r['lost_final']} "
          f"outage_median_s={r['outage_median']} commit_median_ms={r['median_ms']} "
          f"commit_p99_ms={r['p99_ms']} ttl={r['ttl']} loop_wait={r['loop_wait']} "
          f"retry_timeout={r['retry_timeout']} s_per_kill={r['seconds_per_kill']}"
          + (f" error={r['error']!r}" if r["error"] else ""))
    sys.exit(1 if r["error"] else 0)


if __name__ == "__main__":
    main()
