"""A two-node PostgreSQL pair run by pgvrrpd, for the behaviour tests of
DESIGN.md: n1 primary, n2 streaming standby, a client cl, optionally a
witness gw; pgvrrpd on n1 and n2 with a postgres check, the shipped hooks
(promote, fence, rejoin, switchover) and auto_rejoin.

    with Lab("pg_dies") as lab:
        pair = PgPair(lab)
        pair.start()                       # n1 MASTER with the VIP, n2 BACKUP
        w = pair.writer()                  # writes through the VIP
        probe = pair.two_primaries_probe() # samples both real IPs
        pair.p.stop("immediate") ...
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import tempfile
import time

from netlab import Lab
from pglab import PG_BIN, PgNode
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log, wait_until
from replication import make_primary, make_standby, wait_caught_up
from systemd_unit import run_under_unit
from two_primaries import TwoPrimariesProbe
from writer import FAST, Writer

VIP = "198.51.100.100"
# As etc/n1.ini and n2.ini: both high, so the backup's Skew_Time (1.2 ms at
# 0.1 s adverts) adds next to nothing to a takeover.
N1_PRIORITY, N2_PRIORITY = 254, 253
HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notify", "hooks")


class ScriptDir:
    """Scripts (name -> text, mode 0755) in a directory under /run only root
    can write (pgvrrpd and keepalived refuse scripts in /tmp or under a
    user-writable directory), removed at teardown."""

    def __init__(self, lab: Lab, prefix: str, scripts: dict[str, str]):
        self.path = tempfile.mkdtemp(prefix=prefix, dir="/run")
        os.chmod(self.path, 0o755)
        for name, text in scripts.items():
            with open(self.script(name), "w") as f:
                f.write(text)
            os.chmod(self.script(name), 0o755)
        lab.stoppables.append(self)

    def __repr__(self):
        return f"{type(self).__name__}({self.path})"

    def script(self, name: str) -> str:
        return os.path.join(self.path, name)

    def stop(self):
        shutil.rmtree(self.path, ignore_errors=True)


class HookDir(ScriptDir):
    """The shipped hooks (notify/hooks: promote, fence, rejoin, switchover,
    request-start) in a ScriptDir."""

    def __init__(self, lab: Lab):
        hooks = {}
        for name in ("promote", "fence", "rejoin", "switchover", "request-start",
                     "as_owner.sh"):
            with open(os.path.join(HOOKS, name)) as f:
                hooks[name] = f.read()
        super().__init__(lab, "pgvrrpd-hooks-", hooks)

    hook = ScriptDir.script


@dataclasses.dataclass(frozen=True, repr=False)
class Side:
    """One node of the pair: its host, its PostgreSQL server, its pgvrrpd."""
    host: object
    pg: PgNode
    daemon: PgvrrpdNode

    def __repr__(self):
        return self.host.short


class PgPair:
    def __init__(self, lab: Lab, advert_interval: float = 0.1, pg_interval: float = 0.1,
                 max_lag: str | None = None, witness: bool = False,
                 n1_hook_env: tuple[str, ...] = (), pgvrrpd_bin: str | None = None,
                 peer_keys: bool = True, under_unit: bool = False):
        """n1_hook_env: more hook_env lines for n1, or replacements (a test's
        own start command or PGBIN, say); pgvrrpd_bin, peer_keys: see PgvrrpdNode (the benchmark's
        --baseline runs an older build). under_unit: the daemons run as the
        systemd unit runs them (in its sandbox, as postgres with only its
        two capabilities: systemd_unit.run_under_unit, the lab's temp dir
        standing for /var/lib/postgresql and /run/postgresql), and the
        hooks as pgvrrpd's own user, as in the example configs."""
        self.lab = lab
        self.n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        self.n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        self.cl = lab.add_host("cl", ipv4="198.51.100.20/24")
        self.gw = lab.add_host("gw", ipv4="198.51.100.254/24") if witness else None
        self.hooks = HookDir(lab)
        self.p = make_primary(self.n1, listen="*")
        self.s = make_standby(self.p, self.n2, listen="*")
        self.nodes = {}
        for host, node, peer, prio in ((self.n1, self.p, self.s, N1_PRIORITY),
                                       (self.n2, self.s, self.p, N2_PRIORITY)):
            d = PgvrrpdNode(host, priority=prio, advert_interval=advert_interval,
                            virtual_ip=[VIP + "/24"], vip_lease=3,
                            binary=pgvrrpd_bin, peer_keys=peer_keys,
                            **({"peer": peer.addr} if peer_keys else {}),
                            track="pg, witness" if witness else "pg",
                            on_master=self.hooks.hook("promote"),
                            fence=self.hooks.hook("fence"), rejoin=self.hooks.hook("rejoin"),
                            switchover=self.hooks.hook("switchover"),
                            auto_rejoin=True,
                            # Under the unit: pgvrrpd's own user, postgres.
                            **({} if under_unit else {"hook_user": "postgres"}),
                            hook_timeout=60,
                            hook_env=self.hook_env(node, n1_hook_env if host is self.n1
                                                   else ()))
            check = dict(type="postgres",
                         conninfo=f"host={node.sockdir} port={node.port} user=postgres "
                                  "dbname=postgres",
                         peer_conninfo=f"host={peer.addr} port={peer.port} user=postgres "
                                       "dbname=postgres connect_timeout=1",
                         interval=pg_interval, timeout=0.3)
            if max_lag:
                check["max_lag"] = max_lag
            if under_unit:
                run_under_unit(d)
            d.add_check("pg", **check)
            if witness:
                d.add_check("witness", type="ping", target="198.51.100.254",
                            interval=0.05, timeout=0.05, fall=2)
            self.nodes[host.short] = d
        self.d1, self.d2 = self.nodes["n1"], self.nodes["n2"]
        self.sides = [Side(self.n1, self.p, self.d1), Side(self.n2, self.s, self.d2)]

    @staticmethod
    def hook_env(node: PgNode, extra: tuple[str, ...]) -> list[str]:
        """The hooks' environment for `node`; `extra` adds variables or
        replaces ones of the same name (each NAME once in pgvrrpd.ini)."""
        env = {"PGDATA": node.datadir, "PGBIN": PG_BIN, "PGHOST": node.sockdir,
               "PGPORT": str(node.port), "PGUSER": "postgres",
               "REPLICATION_USER": "postgres",
               # The servers run with fsync off; pg_rewind fsyncs ~1000
               # files, which at a 10-20 ms flush is past the tests' waits.
               "REWIND_OPTIONS": "--no-sync", "BASEBACKUP_OPTIONS": "--no-sync"}
        env.update(line.split("=", 1) for line in extra)
        return [f"{name}={value}" for name, value in env.items()]

    def start(self):
        """n1's pgvrrpd first (it becomes master: its server is the primary),
        then n2's, which stays backup."""
        self.d1.start()
        self.d1.wait_state("MASTER", 5)
        wait_until(lambda: self.n1.has_address(VIP), 5, 0.02, "the VIP on n1")
        self.d2.start()
        self.d2.wait_state("BACKUP", 5)
        time.sleep(1)
        if self.d2.state() != "BACKUP":
            raise LabError(f"n2 left BACKUP beside a healthy master: {self.d2.transitions()}")
        assert_single_holder([self.n1, self.n2], VIP, self.n1)

    def under_load(self, fast: bool = False, **kw) -> tuple[Writer, "TwoPrimariesProbe"]:
        """The steady state before a fault: a client writing through the VIP,
        the two-primaries probe running, the standby caught up."""
        w = self.writer(fast=fast, **kw)
        probe = self.two_primaries_probe()
        time.sleep(0.5)
        wait_caught_up(self.p, self.s)
        return w, probe

    def kill_n1_server(self) -> None:
        """The "server dies" fault: n1's pgvrrpd and PostgreSQL killed, its
        link down."""
        self.d1.kill(signal.SIGKILL)
        self.p.kill()
        self.n1.link_down()

    def n2_takes_over(self, w: Writer) -> None:
        """The whole n1 dies (kill_n1_server); n2 becomes master, holds the
        VIP and acknowledges writes from `w`."""
        self.kill_n1_server()
        self.d2.wait_state("MASTER", 5)
        wait_until(lambda: self.n2.has_address(VIP), 5, 0.01, "the VIP on n2")
        w.wait_acknowledged(3, timeout=10, server="n2")

    def n1_link_back(self) -> None:
        """n1 comes back on the link, rid of the VIP its killed daemon left."""
        self.n1.link_up()
        self.n1.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)

    def switchover(self, side: Side, wait: float = 90, check: bool = True):
        """`pgvrrpctl switchover --to PEER` on `side` (the master's node),
        followed to its end (the old primary streams from the new one);
        the CompletedProcess. check: exit 0 and "done:" printed, or
        LabError with its output."""
        peer = self.s if side.pg is self.p else self.p
        cp = side.daemon.ctl("switchover", "--to", peer.addr, "--wait", str(wait),
                             check=False, timeout=wait + 10)
        if check and (cp.returncode != 0 or "done:" not in cp.stdout):
            raise LabError(f"switchover on {side}: exit {cp.returncode}\n{cp.stdout}{cp.stderr}"
                           f"\nits last log lines:\n{side.daemon.recent_log(15)}")
        return cp

    def kill_n1_daemon(self) -> None:
        """The "daemon dies" fault: n1's pgvrrpd SIGKILLed, PostgreSQL left running."""
        self.d1.kill(signal.SIGKILL)

    def restart_n1_daemon(self) -> None:
        """What systemd's Restart= does after the daemon died."""
        self.d1.start()

    def config(self, short: str) -> str:
        return self.nodes[short].ini_text()

    def writer(self, fast: bool = False, **kw) -> Writer:
        """Writes through the VIP from cl (writer.Writer: vip_writer), an
        attempt every 50 ms with a psql client's deadlines, or with
        fast=True every 10 ms with millisecond ones (writer.FAST); kw:
        interval, keep, connect_timeout, statement_timeout."""
        kw = {"note": "fast", **FAST, **kw} if fast else kw
        w = Writer(self.cl, [VIP], **kw).start()
        w.wait_acknowledged(5, timeout=10)
        return w

    @staticmethod
    def write_outage(w: Writer, t_fault: float) -> float:
        """Seconds from the last write acknowledged before the fault to the
        first one acknowledged after the outage: the longest gap between
        consecutive acknowledgements from the last one before t_fault on
        (resolution: the writer's interval, 50 ms, or 10 ms with fast=True).
        Not simply "the first acknowledged after t_fault": a
        fault takes some ms to apply (SIGSTOP, SIGKILL of every backend),
        and a write on a kept connection can still be acknowledged by the
        dying server in between."""
        acks = sorted(r.end for r in w.results if r.ok)
        before = [t for t in acks if t < t_fault]
        if not before or acks[-1] < t_fault:
            raise LabError(f"no acknowledged write on both sides of the fault: {w.summary()}")
        acks = acks[len(before) - 1:]
        return max(b - a for a, b in zip(acks, acks[1:]))

    @staticmethod
    def check_writes_kept(w: Writer, t_fault: float, node: PgNode) -> int:
        """Every write acknowledged before t_fault is on `node` (call it where
        replication had caught up just before the fault). Returns how many."""
        before = {r.id for r in w.results if r.ok and r.end < t_fault}
        have = {int(x) for x in node.psql("SELECT id FROM writes").split()}
        missing = sorted(before - have)
        if missing:
            raise LabError(f"acknowledged writes missing on {node.host.short}: {missing[:20]}")
        log(f"{len(before)} writes acknowledged before the fault, all on {node.host.short}")
        return len(before)

    def two_primaries_probe(self) -> TwoPrimariesProbe:
        return TwoPrimariesProbe(self.lab, self.cl, [self.p, self.s])

    def hook_lines(self, daemon: PgvrrpdNode) -> list[str]:
        """The hook start/end log lines of a node, in order."""
        words = (" started for transition", " exited with", " killed by", " timed out")
        return [l.split(": ", 2)[-1] for l in daemon.log_text().splitlines()
                if any(w in l for w in words)]

    def wait_rejoined(self, timeout: float = 60) -> None:
        """n1's rejoin hook succeeded, n1 is BACKUP again and its server
        streams from n2. (Waiting for BACKUP alone is not enough: a daemon
        just started is BACKUP for a moment before its check fails.)"""
        def rejoined():
            return any("rejoin exited with status 0" in h for h in self.hook_lines(self.d1))
        wait_until(rejoined, timeout, 0.05,
                   lambda: f"n1's rejoin hook to succeed; its hooks: {self.hook_lines(self.d1)}; "
                           f"its last log lines:\n{self.d1.recent_log(12)}")
        self.d1.wait_state("BACKUP", 10)
        self.p.wait_streaming(self.s, 10)
