#!/usr/bin/env python3
"""The postgres checker against real PostgreSQL 15, through `checker_probe
postgres` (a PostgresChecker in an EventLoop printing JSON lines, t =
CLOCK_MONOTONIC, the same clock as time.monotonic()).

Scenarios, each timed: a primary passes with role primary; SIGQUIT (pg_ctl
stop -m immediate) and SIGKILL of the postmaster fail at once (< 100 ms); a
restarted server passes again; a SIGSTOPped postmaster + backends fails at
the query timeout; a standby streaming from a primary in a second namespace
shows role standby, streaming, lag ~0, the peer primary's LSN; the primary
stopped: the standby's peer facts keep the last LSN/timeline with their
time, last_streaming_at stays; promoted with fast poll: role primary and the
new timeline at once.

PostgreSQL runs only inside the lab's namespaces, in the foreground, started
with setpriv (which execs, so the Proc's pid is the postmaster's and SIGKILL
/ SIGSTOP reach it directly). A minimal setup; pglab.py will replace it.
"""
from __future__ import annotations

import json
import os
import signal
import time

from netlab import Host, Lab
from processes import LabError, children, log, wait_until
from runner import run_test

PGBIN = "/usr/lib/postgresql/15/bin"
PROBE = os.environ.get("CHECKER_PROBE_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "test", "checker_probe")
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
INTERVAL_MS, TIMEOUT_MS = 200, 300
FAST_FAIL_MS = 100
MONITOR = "pgvrrpd"


class Pg:
    """One PostgreSQL server on a lab host (data dir and socket dir in the lab's temp dir)."""

    def __init__(self, lab: Lab, host: Host):
        self.lab, self.host = lab, host
        self.ip = host.ipv4.split("/")[0]
        self.data = lab.path(f"{host.short}-data")
        self.sock = lab.path(f"{host.short}-sock")
        self.proc = None
        for d in (self.data, self.sock):
            os.makedirs(d, mode=0o700, exist_ok=True)
            os.chown(d, _uid("postgres"), _gid("postgres"))
        # The checker's role: pg_monitor is all kFactsQuery needs.
        self.conninfo = f"host={self.sock} port=5432 user={MONITOR} dbname=postgres"
        self.tcp_conninfo = f"hostaddr={self.ip} port=5432 user={MONITOR} dbname=postgres"

    def pg(self, *args, timeout=60):
        return self.host.run(AS_POSTGRES + list(args), timeout=timeout)

    def initdb(self) -> "Pg":
        self.pg(f"{PGBIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                "--no-sync", "--locale=C", "-E", "UTF8")
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            f.write("host all all 198.51.100.0/24 trust\n"
                    "host replication all 198.51.100.0/24 trust\n")
        return self

    def basebackup(self, primary: "Pg") -> "Pg":
        self.pg(f"{PGBIN}/pg_basebackup", "-h", primary.ip, "-U", "postgres", "-D", self.data,
                "-R", "-X", "stream", "-c", "fast", "--no-sync")
        return self

    def start(self, timeout: float = 30) -> "Pg":
        self.proc = self.host.spawn(AS_POSTGRES + [
            f"{PGBIN}/postgres", "-D", self.data,
            "-c", f"listen_addresses={self.ip}", "-c", f"unix_socket_directories={self.sock}",
            "-c", "fsync=off", "-c", "wal_level=replica", "-c", "hot_standby=on",
            "-c", "max_wal_senders=5", "-c", "wal_keep_size=256MB",
            "-c", "wal_receiver_status_interval=1s", "-c", "log_min_messages=info"],
            f"postgres-{int(time.monotonic() * 1000) % 100000}")
        wait_until(lambda: self.host.run([f"{PGBIN}/pg_isready", "-q", "-h", self.sock],
                                         check=False).returncode == 0,
                   timeout, step=0.05, what=f"{self.host.short}: PostgreSQL accepting connections")
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT): does not wait for clients like the peer's checker."""
        if self.proc and self.proc.alive():
            self.proc.stop(timeout=10, sig=signal.SIGINT)

    def sql(self, query: str) -> str:
        return self.pg(f"{PGBIN}/psql", "-h", self.sock, "-U", "postgres", "-At", "-c", query).stdout.strip()

    def children(self) -> list[int]:
        return children(self.proc.pid)

    def wait_gone(self, timeout: float = 15) -> None:
        """Until the postmaster and every child of it have exited (shared memory free)."""
        kids = self.children()
        self.proc.wait(timeout)

        def gone():
            return not any(os.path.exists(f"/proc/{p}") for p in kids)
        wait_until(gone, timeout, step=0.05, what=f"{self.host.short}: postgres children exit")


def _uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def _gid(name):
    import pwd
    return pwd.getpwnam(name).pw_gid


class Probe:
    """`checker_probe postgres` on a host; its JSON lines read back from the log."""

    def __init__(self, host: Host, conninfo: str, peer: str | None = None, name: str = "probe"):
        argv = [PROBE, "postgres", "--conninfo", conninfo, "--interval-ms", str(INTERVAL_MS),
                "--timeout-ms", str(TIMEOUT_MS)]
        if peer:
            argv += ["--peer-conninfo", peer]
        self.proc = host.spawn(argv, name)

    def events(self) -> list[dict]:
        out = []
        for line in self.proc.log_text().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def wait(self, pred, timeout: float, what: str, after: float = 0.0) -> dict:
        def find():
            return next((e for e in self.events() if e["t"] >= after and pred(e)), None)
        return wait_until(find, timeout, step=0.005,
                          what=f"{what} (last events: {self.events()[-3:]})")

    def verdict(self, passing: bool, timeout: float, after: float = 0.0) -> dict:
        return self.wait(lambda e: e["event"] == "verdict" and e["passing"] == passing, timeout,
                         f"verdict passing={passing}", after)

    def facts(self, pred, timeout: float, what: str, after: float = 0.0) -> dict:
        return self.wait(lambda e: e["event"] == "facts" and pred(e), timeout, what, after)

    def last_facts(self) -> dict:
        return [e for e in self.events() if e["event"] == "facts"][-1]

    def signal(self, sig: int) -> None:
        self.proc.kill(sig)


def check(cond, message):
    if not cond:
        raise LabError(message)


def main():
    results = {}
    with Lab("pgcheck") as lab:
        os.chmod(lab.tmpdir, 0o755)  # postgres traverses to its data and socket dirs
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        p1 = Pg(lab, n1).initdb().start()
        p1.sql(f"CREATE ROLE {MONITOR} LOGIN IN ROLE pg_monitor")
        probe1 = Probe(n1, p1.conninfo, peer=p2_conninfo(n2), name="probe1")

        # 1. A primary: passing, role primary, its LSN and timeline; the peer is down (a fact).
        probe1.verdict(True, 10)
        f = probe1.facts(lambda e: e["role"] == "primary", 5, "role primary")
        check(f["current_lsn"] and f["timeline"] == 1 and f["receive_lsn"] is None,
              f"primary facts: {f}")
        check(not f["peer_alive"] and "refused" in f["peer_error"].lower(),
              f"peer down while n2 has no server: {f}")
        log(f"primary: lsn {f['current_lsn']} timeline {f['timeline']} system "
            f"{f['system_identifier']}; peer: {f['peer_error']}")

        # 2. pg_ctl stop -m immediate (SIGQUIT to the postmaster): failing at once.
        for how, sig in (("immediate stop (SIGQUIT)", signal.SIGQUIT),
                         ("SIGKILL of the postmaster", signal.SIGKILL)):
            t0 = time.monotonic()
            p1.proc.kill(sig)
            e = probe1.verdict(False, 5, after=t0)
            ms = (e["t"] - t0) * 1000
            log(f"{how}: failing after {ms:.1f} ms: {e['reason']}")
            results[f"detect {how}"] = ms
            check(ms < FAST_FAIL_MS, f"{how}: failure reported after {ms:.1f} ms, "
                  f"expected < {FAST_FAIL_MS} ms")
            p1.wait_gone()
            t1 = time.monotonic()
            p1.start()
            e = probe1.verdict(True, 5, after=t1)
            log(f"restarted: passing {(e['t'] - t1) * 1000:.0f} ms after the start command "
                f"(backoff up to the {INTERVAL_MS} ms interval)")

        # 3. SIGSTOP of the postmaster and its backends: accepts, never answers.
        kids = p1.children()
        t0 = time.monotonic()
        for pid in [p1.proc.pid] + kids:
            os.kill(pid, signal.SIGSTOP)
        probe1.signal(signal.SIGUSR1)  # poll_now: the query goes out now, times out at TIMEOUT_MS
        e = probe1.verdict(False, 5, after=t0)
        ms = (e["t"] - t0) * 1000
        log(f"SIGSTOPped server: failing after {ms:.1f} ms (timeout {TIMEOUT_MS} ms): {e['reason']}")
        results["detect hung server (poll_now + timeout)"] = ms
        check(TIMEOUT_MS <= ms < TIMEOUT_MS + 60, f"hung server failed after {ms:.1f} ms, "
              f"expected the {TIMEOUT_MS} ms timeout")
        for pid in [p1.proc.pid] + kids:
            os.kill(pid, signal.SIGCONT)
        t1 = time.monotonic()
        e = probe1.verdict(True, 5, after=t1)
        log(f"SIGCONT: passing again after {(e['t'] - t1) * 1000:.0f} ms")
        # Without poll_now: the next query goes out within one interval, so
        # timeout <= detection <= interval + timeout.
        time.sleep(0.05)
        kids = p1.children()
        t0 = time.monotonic()
        for pid in [p1.proc.pid] + kids:
            os.kill(pid, signal.SIGSTOP)
        e = probe1.verdict(False, 5, after=t0)
        ms = (e["t"] - t0) * 1000
        log(f"SIGSTOPped server, no poll_now: failing after {ms:.1f} ms")
        results["detect hung server (next interval + timeout)"] = ms
        check(TIMEOUT_MS <= ms < INTERVAL_MS + TIMEOUT_MS + 60,
              f"hung server failed after {ms:.1f} ms, expected {TIMEOUT_MS}..{INTERVAL_MS + TIMEOUT_MS} ms")
        for pid in [p1.proc.pid] + kids:
            os.kill(pid, signal.SIGCONT)
        probe1.verdict(True, 5, after=time.monotonic())

        # 4. A standby in n2 streaming from n1.
        p2 = Pg(lab, n2).basebackup(p1).start()
        probe2 = Probe(n2, p2.conninfo, peer=p1.tcp_conninfo, name="probe2")
        probe2.verdict(True, 10)
        p1.sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g")
        target = int(p1.sql("SELECT pg_current_wal_lsn() - '0/0'"))
        f = probe2.facts(lambda e: e["role"] == "standby" and e["streaming"]
                         and e["peer_role"] == "primary" and e["receive_lsn"] >= target
                         and (e["peer_current_lsn"] or 0) >= target
                         and e["receive_lag_bytes"] == 0, 10,
                         "standby streaming, caught up, peer primary")
        check(f["timeline"] == 1 and f["receiver_status"] == "streaming"
              and f["system_identifier"] == f["peer_system_identifier"]
              and f["replay_lag_seconds"] is not None and f["replay_lag_seconds"] < 1,
              f"standby facts: {f}")
        log(f"standby: receive {f['receive_lsn']} replay {f['replay_lsn']} lag "
            f"{f['receive_lag_bytes']} B / {f['replay_lag_seconds']} s; peer primary lsn "
            f"{f['peer_current_lsn']} tli {f['peer_timeline']}")
        probe1.facts(lambda e: e["peer_alive"] and e["peer_role"] == "standby", 5,
                     "n1 sees its peer n2 as a standby")

        # 5. The primary stops: the standby's facts keep the last known primary.
        time.sleep(0.5)
        before = probe2.last_facts()
        t0 = time.monotonic()
        p1.proc.kill(signal.SIGQUIT)
        e = probe2.facts(lambda e: not e["peer_alive"], 5, "peer down", after=t0)
        ms = (e["t"] - t0) * 1000
        results["peer down seen by the standby"] = ms
        log(f"peer primary stopped: standby sees peer down after {ms:.1f} ms ({e['peer_error']})")
        check(e["peer_role"] == "primary" and e["peer_primary_lsn"] >= before["peer_current_lsn"]
              and e["peer_primary_timeline"] == 1 and e["peer_primary_at"] < t0
              and abs(e["peer_alive_changed_at"] - e["t"]) < 0.01,
              f"peer facts after the primary died: {e}")
        f = probe2.facts(lambda e: not e["streaming"], 5, "WAL receiver stopped", after=t0)
        time.sleep(3 * INTERVAL_MS / 1000)
        last = probe2.last_facts()
        check(last["last_streaming_at"] == f["last_streaming_at"]
              and last["last_streaming_at"] < t0 + INTERVAL_MS / 1000
              and last["timeline"] == 1 and last["peer_primary_lsn"] == e["peer_primary_lsn"],
              f"last known state kept: {last}")
        log(f"standby after the primary died: last streaming {(t0 - last['last_streaming_at']) * 1000:.0f} "
            f"ms before the kill, peer primary lsn {last['peer_primary_lsn']} seen "
            f"{(t0 - last['peer_primary_at']) * 1000:.0f} ms before, lag {last['receive_lag_bytes']} B")

        # 6. Promotion with fast poll: role primary and timeline 2 at once.
        probe2.signal(signal.SIGUSR2)
        probe2.wait(lambda e: e["event"] == "fast_poll" and e["on"], 2, "fast poll on")
        t0 = time.monotonic()
        p2.pg(f"{PGBIN}/pg_ctl", "promote", "-D", p2.data, "-W")
        f = probe2.facts(lambda e: e["role"] == "primary", 5, "promoted", after=t0)
        ms = (f["t"] - t0) * 1000
        results["promotion seen (fast poll)"] = ms
        log(f"promoted: role primary after {ms:.1f} ms, timeline {f['timeline']} (checkpoint "
            f"timeline then {f['checkpoint_timeline']})")
        check(f["timeline"] == 2, f"timeline after promotion: {f}")
        for probe in (probe1, probe2):
            probe.proc.stop()
        p2.stop()

    log("measured: " + ", ".join(f"{k} {v:.1f} ms" for k, v in results.items()))


def p2_conninfo(n2: Host) -> str:
    return f"hostaddr={n2.ipv4.split('/')[0]} port=5432 user={MONITOR} dbname=postgres"


if __name__ == "__main__":
    run_test(main, timeout=240)
