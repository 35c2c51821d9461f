"""pg_auto_failover 2.0 as a Contender (bench/peer_lab.py) for
bench/compare.py: a monitor on a third host "mon" (a PostgreSQL server
with the pgautofailover extension, which holds the state machine) and a
keeper (`pg_autoctl run`, which owns its PostgreSQL) on n1 and n2. It has
no VIP: clients list both nodes with target_session_attrs=read-write, and
the benchmark's writer is one vip_writer per node at that node's own
address (class BothNodes). The command lines, with why each option differs
from the default, are bench/peers/pg_auto_failover/commands.json, the
monitor's timers monitor.sql, the data nodes' settings postgresql-lab.conf;
what each fault does, and why, NOTES.md.
"""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal

from netlab import Host, Lab
from peer_lab import (N1_ADDR, N2_ADDR, PEERS_DIR, THIRD_ADDR, Contender, fill,
                      lab_bin_dir, ns_pids, tool_version)
from pglab import COMMON_CONF, LAB_SUBNETS, PG_USER, PORT, WRITES_TABLE, PgNode, _as_postgres, pg_tool
from sync_kills import APP_ROLE_SQL
from processes import LabError, exited, reap_orphans, wait_until
from writer import Writer

CONF_DIR = os.path.join(PEERS_DIR, "pg_auto_failover")
ADDRS = {"n1": N1_ADDR, "n2": N2_ADDR, "mon": THIRD_ADDR}
READY_TIMEOUT = 120.0   # a pg_basebackup or a rewind on a loaded machine
# The states in which a node's server takes writes (FSM: wait_primary is the
# promoted node once the old primary is known to be down; single, a node
# alone; primary, with its standby).
WRITABLE_STATES = ("single", "wait_primary", "primary")


def _commands() -> dict:
    with open(os.path.join(CONF_DIR, "commands.json")) as f:
        return json.load(f)


def _argv(items: list[dict], values: dict[str, str]) -> list[str]:
    """commands.json's items joined into one argv, @NAME@ filled."""
    return [fill(a, values, "commands.json") for item in items for a in item["args"]]


class BothNodes:
    """The client as NOTES.md "Client" says: one vip_writer per data node,
    each at that node's own address, so that the figure is the time a
    client that follows the writable node at once sees (vip_writer's connect
    deadline covers its whole host list, and a blackholed first host would
    hold every new connection). What compare.py reads of a Writer."""

    def __init__(self, client: Host, user: str, **kw):
        note = kw.pop("note", "w")
        self.writers = [Writer(client, [addr], note=f"{note}-{short}", user=user, **kw).start()
                        for short, addr in (("n1", N1_ADDR), ("n2", N2_ADDR))]

    @property
    def results(self) -> list:
        return sorted((r for w in self.writers for r in list(w.results)), key=lambda r: r.start)

    def wait_acknowledged(self, count: int, timeout: float = 10) -> None:
        want = sum(1 for r in self.results if r.ok) + count
        wait_until(lambda: sum(1 for r in self.results if r.ok) >= want, timeout, 0.02,
                   lambda: f"{count} writes acknowledged by either node "
                           f"(last: {self.results[-1:]})")

    def stop(self) -> None:
        for w in self.writers:
            w.stop()


class AutoFailover(Contender):
    has_vip = False
    machines = "3 (monitor)"
    # Its primary holds commits while it has no synchronous standby (the
    # nodes cut): peer_lab.Contender.client_user says why not a superuser.
    client_user = "app"

    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.add_third("mon")
        self.name = f"pg_auto_failover {tool_version(['pg_autoctl', '--version'])}"
        self.cmds = _commands()
        self.bin_dir = lab_bin_dir(lab, no_sync=("pg_rewind", "pg_basebackup"))
        self.run_dir = lab.path("autoctl")
        os.makedirs(self.run_dir)
        os.chmod(self.run_dir, 0o711)
        self.monitor = PgNode(self.third, init=False)
        for short, host in (("n1", self.n1), ("n2", self.n2)):
            self.pg[short] = PgNode(host, init=False)
        pw = pwd.getpwnam(PG_USER)
        for short in ("mon", "n1", "n2"):
            for sub in ("home", "config", "share", "run", "tmp"):
                d = os.path.join(self.run_dir, short, sub)
                os.makedirs(d)
            for root, dirs, _ in os.walk(os.path.join(self.run_dir, short)):
                os.chown(root, pw.pw_uid, pw.pw_gid)
                os.chmod(root, 0o700)
        self.keepers: dict[str, object] = {}
        self.starts = 0

    def hosts(self) -> dict[str, Host]:
        return {"n1": self.n1, "n2": self.n2, "mon": self.third}

    def node(self, short: str) -> PgNode:
        return self.monitor if short == "mon" else self.pg[short]

    def values(self, short: str) -> dict[str, str]:
        pg = self.node(short)
        return {"NODE_NAME": short, "NODE_ADDR": ADDRS[short], "MONITOR_ADDR": THIRD_ADDR,
                "PGDATA": pg.datadir, "PGBIN": self.bin_dir, "PGPORT": str(PORT),
                "RUNDIR": self.run_dir, "SOCKET_DIR": pg.sockdir}

    def as_keeper(self, short: str, argv: list[str]) -> list[str]:
        """argv as postgres in the node's own tree, with commands.json's
        environment (without it pg_autoctl's files land in ~postgres and
        /tmp, which every namespace shares)."""
        values = self.values(short)
        env = [f"{k}={fill(v, values, 'commands.json')}"
               for k, v in self.cmds["env"]["vars"].items()]
        home = os.path.join(self.run_dir, short, "home")
        return _as_postgres(["env", *env, *argv], home)

    def autoctl(self, short: str, argv: list[str], timeout: float = 180, check: bool = True):
        cp = self.hosts()[short].run(self.as_keeper(short, argv), check=False, timeout=timeout)
        if check and cp.returncode != 0:
            raise LabError(f"{' '.join(argv[:3])} on {short}: exit {cp.returncode}\n"
                           f"{cp.stdout[-2000:]}{cp.stderr[-2000:]}")
        return cp

    def start_keeper(self, short: str) -> None:
        """`pg_autoctl run` in the foreground: the lab tracks it by pid."""
        self.starts += 1
        section = "monitor" if short == "mon" else "node"
        argv = _argv(self.cmds[section]["run"], self.values(short))
        self.keepers[short] = self.hosts()[short].spawn(self.as_keeper(short, argv),
                                                        f"pg_autoctl-{self.starts}")

    def monitor_sql(self, sql: str, check: bool = True, timeout: float = 5) -> str:
        return self.monitor.psql(sql, dbname="pg_auto_failover", check=check, timeout=timeout)

    def states(self) -> dict[str, tuple[str, str, bool]]:
        """name -> (reported state, goal state, health check good), as the
        monitor holds them; {} if it does not answer."""
        try:
            out = self.monitor_sql("SELECT nodename, reportedstate, goalstate, health "
                                   "FROM pgautofailover.node ORDER BY nodeid")
        except LabError:
            return {}
        rows = [ln.split("|") for ln in out.splitlines() if ln.count("|") == 3]
        return {r[0]: (r[1], r[2], r[3] == "1") for r in rows}

    def _stop_if_running(self, short: str) -> None:
        """`create` may leave the server it started running outside the
        keeper (NOTES.md, open question 1): stopped, so that `run` starts
        its own."""
        pg = self.node(short)
        ctl = os.path.join(self.bin_dir, "pg_ctl")
        if self.autoctl(short, [ctl, "status", "-D", pg.datadir], check=False).returncode == 0:
            self.autoctl(short, [ctl, "stop", "-D", pg.datadir, "-m", "fast", "-w"])

    # -- set-up
    def start(self) -> None:
        mon = self.values("mon")
        self.autoctl("mon", _argv(self.cmds["monitor"]["create"], mon))
        self._stop_if_running("mon")
        self.start_keeper("mon")
        wait_until(lambda: self.monitor_sql("SELECT 1", check=False) == "1", 60, 0.2,
                   lambda: f"the monitor to answer; its log:\n{self.keepers['mon'].log_tail(20)}")
        with open(os.path.join(CONF_DIR, "monitor.sql")) as f:
            settings = f.read()
        path = self.monitor.dir + "/monitor.sql"
        self.monitor._write(path, settings)
        self.autoctl("mon", [pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                             "-h", self.monitor.sockdir, "-p", str(PORT), "-U", PG_USER,
                             "-d", "pg_auto_failover", "-f", path])
        self.create_node("n1")
        wait_until(lambda: self.states().get("n1", ("",))[0] == "single"
                   and self.pg["n1"].psql("SELECT 1", check=False) == "1", READY_TIMEOUT, 0.2,
                   lambda: f"n1 single and its server up: {self.states()}")
        self.pg["n1"].psql(WRITES_TABLE + ";\n" + APP_ROLE_SQL)
        # The application's own HBA line, as an operator adds it (pg_autoctl
        # writes only its own users' rules); n2 gets it with its base backup.
        pg = self.pg["n1"]
        pg._write(os.path.join(pg.datadir, "pg_hba.conf"),
                  f"host postgres app {LAB_SUBNETS[0]} trust\n", "a")
        pg.psql("SELECT pg_reload_conf()")
        self.create_node("n2")
        wait_until(lambda: self.healthy() is None, READY_TIMEOUT, 0.2,
                   lambda: f"the pair whole: {self.healthy()}")

    def create_node(self, short: str) -> None:
        """`pg_autoctl create postgres` (n1: initdb; n2: a base backup of
        the primary, which copies n1's settings), the keeper's timeout,
        the lab's settings on n1, then the keeper."""
        v = self.values(short)
        self.autoctl(short, _argv(self.cmds["node"]["create"], v), timeout=READY_TIMEOUT)
        for cmd in self.cmds["node"]["config_set"]:
            self.autoctl(short, _argv(cmd, v))
        self._stop_if_running(short)
        pg = self.pg[short]
        if short == "n1":
            with open(os.path.join(CONF_DIR, "postgresql-lab.conf")) as f:
                pg._write(os.path.join(pg.datadir, "postgresql.conf"),
                          COMMON_CONF + "\n" + f.read(), "a")
        self.start_keeper(short)

    def writer(self, **kw) -> BothNodes:
        return BothNodes(self.cl, self.client_user, **kw)

    def config(self) -> str:
        return self.monitor_sql("SELECT name || ' = ' || setting FROM pg_settings "
                                "WHERE name LIKE 'pgautofailover.%' ORDER BY name")

    # -- faults
    def keeper_pids(self, short: str) -> set[int]:
        """Every pg_autoctl process in the node's namespace (the supervisor
        and its services), not the servers."""
        def program(pid: int) -> str:
            # Not the command line: pg_autoctl retitles its services
            # ("pg_autoctl: start/stop postgres").
            try:
                return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            except OSError:
                return ""
        return {p for p in ns_pids(self.hosts()[short]) if program(p) == "pg_autoctl"}

    def kill_daemon(self, short: str) -> None:
        pids = self.keeper_pids(short)
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        wait_until(lambda: all(exited(p) for p in pids), 10, 0.01,
                   f"{short}'s pg_autoctl processes {sorted(pids)} to die")
        self.keepers[short].wait(10)
        reap_orphans({p.pid for p in self.lab.procs if p.alive()})

    def restart_daemon(self, short: str) -> None:
        self.start_keeper(short)

    def server_back(self, short: str) -> None:
        self.boot(short)
        self.start_keeper(short)

    # -- state
    def primary(self) -> str | None:
        writable = [n for n, (rep, goal, _) in self.states().items()
                    if n in ("n1", "n2") and rep in WRITABLE_STATES and goal in WRITABLE_STATES]
        return writable[0] if len(writable) == 1 else None

    def healthy(self) -> str | None:
        for short in ("mon", "n1", "n2"):
            if short not in self.keepers or not self.keepers[short].alive():
                return f"pg_autoctl not running on {short}"
        st = self.states()
        got = {n: (rep, goal) for n, (rep, goal, _) in st.items()}
        primaries = [n for n, s in got.items() if s == ("primary", "primary")]
        secondaries = [n for n, s in got.items() if s == ("secondary", "secondary")]
        if len(primaries) != 1 or len(secondaries) != 1:
            return f"states on the monitor: {got}"
        if not all(h for _, _, h in st.values()):
            return f"a failed health check: {st}"
        primary, standby = primaries[0], secondaries[0]
        try:
            rep = self.pg[primary].psql("SELECT state, sync_state FROM pg_stat_replication",
                                        timeout=5)
        except LabError as e:
            return f"{primary}: {e}"
        if rep not in ("streaming|sync", "streaming|quorum"):
            return f"{standby} does not stream synchronously from {primary} ({rep!r})"
        return None

    def repair(self, short: str) -> list[str]:
        """What the documentation has an operator do: start the keeper if it
        is not running; if the node still does not rejoin, the FAQ's last
        resort, `pg_autoctl drop node --force` and create it again (a new
        base backup from the primary)."""
        steps = []
        if short not in self.keepers or not self.keepers[short].alive():
            self.start_keeper(short)
            steps.append(f"pg_autoctl run on {short}")
            with contextlib.suppress(LabError):
                wait_until(lambda: self.healthy() is None, 30, 0.5, "the pair whole")
                return steps
        v = self.values(short)
        self.keepers[short].stop(timeout=30)
        self.autoctl(short, ["pg_autoctl", "drop", "node", "--pgdata", v["PGDATA"], "--force"],
                     check=False)
        steps.append(f"pg_autoctl drop node --force on {short}")
        shutil.rmtree(v["PGDATA"], ignore_errors=True)
        for sub in ("config", "share", "run"):
            d = os.path.join(self.run_dir, short, sub)
            for entry in os.listdir(d):
                shutil.rmtree(os.path.join(d, entry), ignore_errors=True)
        self.create_node(short)
        steps.append(f"pg_autoctl create postgres on {short} (a new base backup)")
        wait_until(lambda: self.healthy() is None, READY_TIMEOUT, 0.5,
                   lambda: f"the pair whole after the rebuild: {self.healthy()}")
        return steps

    def events(self) -> str:
        """The monitor's decisions with their reasons, for the log."""
        return self.monitor_sql("SELECT eventtime, nodename, reportedstate, goalstate, "
                                "description FROM pgautofailover.event ORDER BY eventid",
                                check=False, timeout=10)

