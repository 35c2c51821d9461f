"""pglab: real PostgreSQL 15 servers inside netlab hosts, for integration tests.

Stdlib only (Python 3.11), root. Every server runs inside a netlab namespace,
never in the machine's own one, as the `postgres` system user, in the
foreground (`postgres -D DATA` spawned with Host.spawn), so the Lab tracks the
postmaster by pid and a crashed test cannot leave it behind.

    with Lab("pg") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        p = PgNode(n1)                          # initdb (init=False: empty data dir)
        p.start(); p.psql("SELECT 1"); p.stop("immediate")

Building pairs (make_primary, make_standby, promote, rewind...) is in
replication.py, writing from a client (Writer, probe_write) in writer.py.

API in short:
  PgNode(host, name=None, init=True, listen=None)
        .datadir .sockdir .addr .cluster_name .proc .port (5432)
        .initdb() .start(timeout) .stop(mode="fast"|"smart"|"immediate") .kill()
        .running() .processes() .psql(sql, host=None, dbname="postgres", check=True)
        .is_in_recovery() .lsn() .receive_lsn() .replay_lsn() .timeline()
        .system_identifier() .wal_receiver() .conninfo(user, dbname)
        .configure_standby(primary) .wait_streaming(primary) .run_as_postgres(cmd)
        .log_text() .log_tail()
  pg_tool(name) -> path ; format_lsn(int) ; parse_lsn(str)

Layout, per node, in the lab's temp dir (made traversable for postgres):
    pg-NAME/            owned by postgres, 0700
      data/             PGDATA; postgresql.conf ends with include = '../node.conf'
      node.conf         this node's listen_addresses, socket dir, cluster_name
      *.s.PGSQL.5432    the unix socket (the filesystem is shared between
                        namespaces, so each node has its own socket dir)
The settings that differ per node live outside the data directory on purpose:
pg_basebackup and pg_rewind copy the whole data directory (postgresql.conf
and postgresql.auto.conf included) from the other node; the relative include
resolves to the receiving node's own node.conf. primary_conninfo (in
postgresql.auto.conf, the last setting wins) is rewritten by us after each
copy, since a rewound old primary would otherwise inherit the new primary's
stale primary_conninfo pointing at itself.

Authentication: `trust` for everything (local socket, loopback, and the lab
subnets 198.51.100.0/24 and 2001:db8:100::/64, replication included). This is
a throwaway lab in namespaces that only hold lab addresses; passwords would
only add a passfile to every tool. The `replicator` role (REPLICATION LOGIN,
password "replicator") exists so that replication uses a dedicated role, as
in production, and scram can be switched on in pg_hba.conf if a test needs it.

listen_addresses: by default the host's own IPv4/IPv6 addresses. Tests that
put a VIP on the host pass listen="*" (still only inside the namespace, which
holds nothing but lab addresses): PostgreSQL cannot bind an address that is
not on the host yet.

Facts found by experiment (PostgreSQL 15.18, 2 vCPU, fsync=off): initdb
0.6-1.4 s, first start ~0.1 s; the upper ends on a loaded machine.
"""
from __future__ import annotations

import ipaddress
import os
import pwd
import re
import signal
import time
from typing import Sequence

from netlab import Host
from processes import LabError, Proc, children, exited, processes_under, wait_until

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PORT = 5432
PG_USER = "postgres"
LAB_SUBNETS = ("198.51.100.0/24", "2001:db8:100::/64")
WRITES_TABLE = ("CREATE TABLE writes (id serial PRIMARY KEY, at timestamptz NOT NULL "
                "DEFAULT clock_timestamp(), note text)")

# Common to all nodes; copied along by pg_basebackup / pg_rewind.
COMMON_CONF = """
# --- pglab (common to every node of the lab) ---
wal_level = replica
hot_standby = on
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
wal_log_hints = on                 # pg_rewind needs it (or data checksums)
fsync = off                        # a throwaway lab: speed over durability
synchronous_commit = on
full_page_writes = on
shared_buffers = 16MB
max_connections = 50
wal_receiver_status_interval = 1s
hot_standby_feedback = on
log_line_prefix = '%m [%p] %q%a '
log_min_messages = info
log_connections = off
include = '../node.conf'           # per node: listen, socket dir, name
"""

HBA = """# pglab: trust everywhere (a throwaway lab inside namespaces)
local   all          all                        trust
local   replication  all                        trust
host    all          all          127.0.0.1/32  trust
host    all          all          ::1/128       trust
host    all          all          {v4}  trust
host    all          all          {v6}  trust
host    replication  all          {v4}  trust
host    replication  all          {v6}  trust
""".format(v4=LAB_SUBNETS[0], v6=LAB_SUBNETS[1])


def parse_lsn(text: str) -> int:
    """'0/3000148' -> 50331976."""
    hi, lo = text.strip().split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def pg_tool(tool: str) -> str:
    """The path of a PostgreSQL program (psql, pg_rewind...) in PG_BIN."""
    return os.path.join(PG_BIN, tool)


def _as_postgres(cmd: Sequence[str], cwd: str) -> list[str]:
    """cmd run as the postgres user (PostgreSQL refuses root), in cwd (the
    caller's cwd may not be readable by postgres). setpriv execs, so a spawned
    postmaster keeps the pid the Lab tracks (runuser would stay in between)."""
    return ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups",
            "--", "env", "-C", cwd, f"HOME={cwd}", *cmd]


class _Teardown:
    """Registered in lab.stoppables: stops the node's postmaster immediately
    (the data is thrown away) before the Lab SIGTERMs/SIGKILLs what is left."""

    def __init__(self, node: "PgNode"):
        self.node = node

    def __repr__(self):
        return f"teardown of {self.node!r}"

    def stop(self):
        if self.node.running():
            self.node.stop("immediate", timeout=10)

    def logs(self):
        return [(p.name, p.log_path) for p in self.node.procs]


class PgNode:
    """One PostgreSQL server (data directory + postmaster) on a netlab Host.

    init=True runs initdb (an empty cluster); init=False leaves the data
    directory empty for make_standby / rebuild_as_standby."""

    def __init__(self, host: Host, name: str | None = None, init: bool = True,
                 listen: str | None = None):
        self.host, self.name = host, name or host.short
        self.lab = host.lab
        self.addr = str(ipaddress.ip_interface(host.ipv4).ip) if host.ipv4 else None
        self.addr6 = str(ipaddress.ip_interface(host.ipv6).ip) if host.ipv6 else None
        if not (self.addr or self.addr6):
            raise LabError(f"{host.short} has no address for PostgreSQL to listen on")
        self.port = PORT
        self.dir = self.lab.path(f"pg-{self.name}")
        self.datadir = os.path.join(self.dir, "data")
        self.sockdir = self.dir
        self.cluster_name = f"{self.lab.prefix}-{self.name}"
        self.listen = listen or ",".join(a for a in (self.addr, self.addr6) if a)
        self.proc: Proc | None = None
        self.procs: list[Proc] = []
        self.starts = 0
        pw = pwd.getpwnam(PG_USER)
        self._uid, self._gid = pw.pw_uid, pw.pw_gid
        # The lab temp dir is root's 0700 mkdtemp: let postgres traverse it.
        os.chmod(self.lab.tmpdir, 0o711)
        os.makedirs(self.dir, exist_ok=False)
        os.chown(self.dir, self._uid, self._gid)
        # The socket directory, open to others as Debian's /run/postgresql
        # is: pgvrrpd under its systemd unit (root without
        # CAP_DAC_OVERRIDE) connects through it. The data dir stays 0700.
        os.chmod(self.dir, 0o755)
        self._write(os.path.join(self.dir, "node.conf"),
                    f"# pglab: settings of node {self.name} only\n"
                    f"listen_addresses = '{self.listen}'\n"
                    f"port = {self.port}\n"
                    f"unix_socket_directories = '{self.sockdir}'\n"
                    f"cluster_name = '{self.cluster_name}'\n")
        self.lab.stoppables.append(_Teardown(self))
        if init:
            self.initdb()

    def __repr__(self):
        return f"PgNode({self.name} on {self.host.short})"

    # -- files and commands
    def _write(self, path: str, text: str, mode: str = "w") -> None:
        with open(path, mode) as f:
            f.write(text)
        os.chown(path, self._uid, self._gid)
        os.chmod(path, 0o600)

    def run_as_postgres(self, cmd: Sequence[str], timeout: float = 60,
                        check: bool = True):
        """A PostgreSQL tool run as postgres inside this node's namespace."""
        return self.host.run(_as_postgres(cmd, self.dir), check=check, timeout=timeout)

    def initdb(self) -> float:
        """initdb (trust, C locale, UTF8, no fsync) plus the lab's config; seconds."""
        t0 = time.monotonic()
        self.run_as_postgres([pg_tool("initdb"), "-D", self.datadir, "-U", PG_USER,
                              "-A", "trust", "--locale=C", "-E", "UTF8", "--no-sync",
                              "--no-instructions"])
        self._write(os.path.join(self.datadir, "postgresql.conf"), COMMON_CONF, "a")
        self._write(os.path.join(self.datadir, "pg_hba.conf"), HBA)
        self.initdb_seconds = time.monotonic() - t0
        return self.initdb_seconds

    def conninfo(self, user: str = PG_USER, dbname: str = "postgres",
                 application_name: str = "pglab") -> str:
        """libpq conninfo reaching this node over the lab network (real IP)."""
        return (f"host={self.addr or self.addr6} port={self.port} user={user} "
                f"dbname={dbname} connect_timeout=2 application_name={application_name}")

    # -- lifecycle
    def running(self) -> bool:
        return bool(self.proc and self.proc.alive())

    def start(self, timeout: float = 30) -> float:
        """Spawn the postmaster in the foreground; wait until it accepts
        connections (a hot standby: once consistent). Returns seconds."""
        if self.running():
            raise LabError(f"{self} is already running (pid {self.proc.pid})")
        t0 = time.monotonic()
        self.starts += 1
        self.proc = self.host.spawn(_as_postgres([pg_tool("postgres"), "-D", self.datadir],
                                                 self.dir),
                                    f"pg-{self.name}-{self.starts}")
        self.procs.append(self.proc)

        def ready():
            if not self.proc.alive():
                raise LabError(f"{self} postmaster exited with {self.proc.returncode} "
                               f"during start; log:\n{self.proc.log_tail(30)}")
            cp = self.host.run([pg_tool("pg_isready"), "-q", "-h", self.sockdir, "-p",
                                str(self.port), "-U", PG_USER, "-t", "1"], check=False)
            return cp.returncode == 0
        wait_until(ready, timeout, step=0.05, what=f"{self} to accept connections")
        return time.monotonic() - t0

    STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT,
                    "immediate": signal.SIGQUIT}

    def stop(self, mode: str = "fast", timeout: float = 30) -> float:
        """Shut down with the postmaster's own signals (smart SIGTERM, fast
        SIGINT, immediate SIGQUIT); wait for the postmaster to exit (it waits
        for its children). Returns seconds."""
        sig = self.STOP_SIGNALS[mode]
        t0 = time.monotonic()
        if self.running():
            self.proc.kill(sig)
            self.proc.wait(timeout)
        return time.monotonic() - t0

    def kill(self, timeout: float = 10) -> None:
        """The server dies: SIGKILL the postmaster and all its children, no
        shutdown code runs. The postmaster is frozen first (SIGSTOP) so it can
        neither fork new children nor react to their death."""
        if not self.running():
            return
        pid = self.proc.pid
        os.kill(pid, signal.SIGSTOP)
        kids = children(pid)
        for child in kids:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill(signal.SIGKILL)
        self.proc.wait(timeout)
        # SIGKILL is delivered asynchronously: wait until the children have
        # exited (zombies awaiting init's reaping count as gone).
        wait_until(lambda: not [c for c in kids if not exited(c)], timeout,
                   what=f"children {kids} of {self}'s postmaster {pid} to die")

    def processes(self) -> list[int]:
        """Pids of every process (postmaster, children, single-user backends)
        working in this node's data directory, found by their cwd."""
        return [int(x.split()[0]) for x in processes_under(self.datadir)]

    def log_text(self) -> str:
        return "".join(p.log_text() for p in self.procs)

    def log_tail(self, lines: int = 40) -> str:
        return self.proc.log_tail(lines) if self.proc else ""

    # -- SQL
    def psql(self, sql: str, host: str | None = None, dbname: str = "postgres",
             check: bool = True, timeout: float = 15, user: str = PG_USER) -> str:
        """Run sql (one or more statements) with psql inside this node's
        namespace, through the unix socket or, with host=ADDR, over TCP.
        Unaligned, tuples only: '|' between columns, one row per line."""
        cmd = [pg_tool("psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
               "-h", host or self.sockdir, "-p", str(self.port), "-U", user,
               "-d", dbname, "-f", "-"]
        cp = self.host.run(cmd, check=False, timeout=timeout, input=sql)
        if check and cp.returncode != 0:
            raise LabError(f"{self}: psql was expected to run {sql!r}, exited "
                           f"{cp.returncode}: {cp.stderr.strip()}")
        return cp.stdout.strip()

    def is_in_recovery(self) -> bool:
        return self.psql("SELECT pg_is_in_recovery()") == "t"

    def receive_lsn(self) -> int | None:
        v = self.psql("SELECT pg_last_wal_receive_lsn()")
        return parse_lsn(v) if v else None

    def replay_lsn(self) -> int | None:
        v = self.psql("SELECT pg_last_wal_replay_lsn()")
        return parse_lsn(v) if v else None

    def lsn(self) -> int:
        """Primary: the current WAL write position; standby: the replay position."""
        return parse_lsn(self.psql(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END"))

    def timeline(self) -> int:
        """Primary: the timeline it writes on (from the current WAL file name;
        pg_control only learns it at the next checkpoint). Standby: the
        timeline its WAL receiver streams, else the replayed checkpoint's."""
        v = self.psql(
            "SELECT CASE WHEN NOT pg_is_in_recovery() "
            "THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int "
            "ELSE coalesce((SELECT received_tli FROM pg_stat_wal_receiver), "
            "(SELECT timeline_id FROM pg_control_checkpoint())) END")
        return int(v)

    def system_identifier(self) -> int:
        if self.running():
            return int(self.psql("SELECT system_identifier FROM pg_control_system()"))
        out = self.run_as_postgres([pg_tool("pg_controldata"), "-D", self.datadir]).stdout
        return int(re.search(r"Database system identifier:\s+(\d+)", out)[1])

    def wal_receiver(self) -> dict[str, str]:
        """This standby's pg_stat_wal_receiver row ({} if none)."""
        cols = ["status", "sender_host", "received_tli", "flushed_lsn"]
        out = self.psql(f"SELECT {', '.join(cols)} FROM pg_stat_wal_receiver")
        return dict(zip(cols, out.split("|"))) if out else {}

    # -- standby configuration (server stopped)
    def configure_standby(self, primary: "PgNode") -> None:
        """standby.signal plus primary_conninfo pointing at primary's real IP,
        as the replicator role, in postgresql.auto.conf (any earlier
        primary_conninfo, e.g. inherited through pg_rewind, is removed)."""
        if self.running():
            raise LabError(f"{self} must be stopped to be configured as a standby")
        auto = os.path.join(self.datadir, "postgresql.auto.conf")
        try:
            with open(auto) as f:
                lines = [ln for ln in f if not re.match(r"\s*primary_(conninfo|slot_name)\b", ln)]
        except FileNotFoundError:
            lines = []
        conninfo = primary.conninfo(user="replicator", application_name=self.name)
        lines.append(f"primary_conninfo = '{conninfo}'\n")
        self._write(auto, "".join(lines))
        self._write(os.path.join(self.datadir, "standby.signal"), "")

    def rejoin_log_tail(self, lines: int = 15) -> str:
        """The log of a server the shipped rejoin hook started (REJOIN_LOG,
        by default in the data directory: notify/hooks/rejoin), if any."""
        path = os.path.join(self.datadir, "pgvrrpd-rejoin.log")
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def wait_streaming(self, primary: "PgNode", timeout: float = 30) -> None:
        """Wait until the WAL receiver streams from primary's address."""
        last: list[object] = [None]

        def streaming():
            try:
                last[0] = r = self.wal_receiver()
            except LabError as e:  # not accepting connections yet (a hook is restarting it)
                last[0] = str(e).splitlines()[0][-200:]
                return None
            return r if r.get("status") == "streaming" and \
                r.get("sender_host") == primary.addr else None
        wait_until(streaming, timeout, step=0.05,
                   what=lambda: f"{self} to stream from {primary} ({primary.addr}); "
                                f"last pg_stat_wal_receiver: {last[0]!r}; log:\n"
                                f"{self.log_tail(8)}rejoin hook's server log:\n"
                                f"{self.rejoin_log_tail()}")
