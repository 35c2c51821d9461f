"""repmgr 5.3 + repmgrd as a Contender (bench/peer_lab.py) for
bench/compare.py: n1 and n2 a PostgreSQL pair registered with repmgr,
repmgrd on both, and a witness server (its own PostgreSQL and repmgrd) on
a third host "wt", which repmgr's manual asks for with one primary and
one standby. repmgr has no VIP: its promote_command (promote.sh) promotes
and moves the VIP, and the old primary lets go of it through an event
hook and child_nodes_disconnect_command. Configuration, scripts and why:
bench/peers/repmgr/ (NOTES.md for each fault)."""
from __future__ import annotations

import os
import signal

from netlab import Lab
from peer_lab import (N1_ADDR, N2_ADDR, THIRD_ADDR, VIP, VIP_PREFIX, Contender, fill_template,
                      lab_bin_dir, stop_postgres, tool_version)
from pglab import PG_BIN, PG_USER, PORT, WRITES_TABLE, PgNode, _as_postgres
from processes import LabError, wait_until
from replication import make_standby

SCRIPTS = ("promote.sh", "vip.sh", "event.sh", "fence.sh")
NODE_IDS = {"n1": 1, "n2": 2, "wt": 3}
ADDRS = {"n1": N1_ADDR, "n2": N2_ADDR, "wt": THIRD_ADDR}
READY_TIMEOUT = 60.0


def _peers_file(name: str) -> str:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "repmgr",
                           name)) as f:
        return f.read()


class Repmgr(Contender):
    has_vip = True
    machines = "3 (witness)"

    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.add_third("wt")
        self.name = f"repmgr {tool_version([os.path.join(PG_BIN, 'repmgr'), '--version'])}"
        self.bin_dir = lab_bin_dir(lab)
        self.run_dir = lab.path("repmgr")
        os.makedirs(self.run_dir)
        os.chmod(self.run_dir, 0o755)
        self.repmgrd: dict[str, object] = {}
        self.starts = 0

    def hosts(self):
        return {"n1": self.n1, "n2": self.n2, "wt": self.third}

    def node_dir(self, short: str) -> str:
        return os.path.join(self.run_dir, short)

    def conf(self, short: str) -> str:
        return os.path.join(self.node_dir(short), "repmgr.conf")

    def write_node_files(self, short: str, pg: PgNode) -> None:
        """repmgr.conf and the scripts for `short`, owned by postgres."""
        d = self.node_dir(short)
        os.makedirs(d)
        peer = {"n1": "n2", "n2": "n1", "wt": "n1"}[short]
        values = {"NODE_ID": NODE_IDS[short], "NODE_NAME": short, "NODE_ADDR": ADDRS[short],
                  "PEER_ADDR": ADDRS[peer], "VIP": VIP, "VIP_PREFIX": VIP_PREFIX,
                  "IFACE": self.n1.ifname, "PGDATA": pg.datadir, "PGBIN": self.bin_dir,
                  "PGPORT": PORT, "RUNDIR": self.run_dir, "SOCKET_DIR": pg.sockdir}
        with open(self.conf(short), "w") as f:
            f.write(fill_template("repmgr/repmgr.conf.in", values))
        for script in SCRIPTS:
            path = os.path.join(d, script)
            with open(path, "w") as f:
                f.write(fill_template(f"repmgr/{script}.in", values))
            os.chmod(path, 0o755)
        import pwd
        pw = pwd.getpwnam(PG_USER)
        for name in [d, *(os.path.join(d, n) for n in os.listdir(d))]:
            os.chown(name, pw.pw_uid, pw.pw_gid)

    def repmgr(self, short: str, *args: str, timeout: float = 90):
        """`repmgr -f CONF ARGS` as postgres in `short`'s namespace."""
        host = self.hosts()[short]
        cmd = [os.path.join(self.bin_dir, "repmgr"), "-f", self.conf(short), *args]
        return host.run(_as_postgres(cmd, self.node_dir(short)), check=False, timeout=timeout)

    def must(self, short: str, *args: str, timeout: float = 90) -> str:
        cp = self.repmgr(short, *args, timeout=timeout)
        if cp.returncode != 0:
            raise LabError(f"repmgr {' '.join(args)} on {short}: exit {cp.returncode}\n"
                           f"{cp.stdout}{cp.stderr}")
        return cp.stdout

    def start_repmgrd(self, short: str) -> None:
        """repmgrd in the foreground as postgres, with the capabilities its
        VIP scripts need handed down as ambient ones (no sudo here; NOTES.md)."""
        self.starts += 1
        d = self.node_dir(short)
        cmd = ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups",
               "--inh-caps=+net_admin,+net_raw", "--ambient-caps=+net_admin,+net_raw", "--",
               "env", "-C", d, f"HOME={d}", os.path.join(self.bin_dir, "repmgrd"),
               "-f", self.conf(short), "--daemonize=false"]
        self.repmgrd[short] = self.hosts()[short].spawn(cmd, f"repmgrd-{self.starts}")

    def _with_repmgr(self, pg: PgNode) -> None:
        pg._write(os.path.join(pg.datadir, "postgresql.conf"),
                  "\n" + _peers_file("postgresql.repmgr.conf"), "a")

    # -- set-up
    def start(self) -> None:
        p = PgNode(self.n1, listen="*")
        self._with_repmgr(p)
        p.start()
        p.psql("CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'replicator';\n"
               + WRITES_TABLE + ";\n" + _peers_file("setup.sql"))
        self.pg["n1"] = p
        self.write_node_files("n1", p)
        self.n1.add_address(f"{VIP}/{VIP_PREFIX}")
        self.must("n1", "primary", "register")
        s = make_standby(p, self.n2, listen="*")
        self.pg["n2"] = s
        self.write_node_files("n2", s)
        self.must("n2", "standby", "register", "--wait-sync=30")
        w = PgNode(self.third)
        self._with_repmgr(w)
        w.start()
        w.psql(_peers_file("setup.sql"))
        self.witness = w
        self.write_node_files("wt", w)
        self.must("wt", "witness", "register", "-h", N1_ADDR)
        for short in ("n1", "n2", "wt"):
            self.start_repmgrd(short)
        wait_until(lambda: self.healthy() is None, READY_TIMEOUT, 0.5,
                   lambda: f"repmgr's pair healthy: {self.healthy()}")

    def config(self) -> str:
        with open(self.conf("n1")) as f:
            return f.read()

    # -- faults
    def kill_daemon(self, short: str) -> None:
        self.repmgrd[short].kill(signal.SIGKILL)
        self.repmgrd[short].wait(10)

    def restart_daemon(self, short: str) -> None:
        self.start_repmgrd(short)

    def server_back(self, short: str) -> None:
        """The node boots: PostgreSQL starts as the OS starts it (repmgr does
        not manage it), as it was, then repmgrd."""
        self.boot(short)
        self.pg[short].start()
        self.start_repmgrd(short)

    # -- state
    def primary(self) -> str | None:
        rows = self.cluster_rows()
        prim = [r[1] for r in rows if r[0] in ("1", "2") and r[2] == "0" and r[3] == "0"
                and len(r) > 1]
        holders = [s for s in ("n1", "n2") if self.host(s).has_address(VIP)]
        return holders[0] if len(holders) == 1 else (prim[0] if len(prim) == 1 else None)

    def cluster_rows(self) -> list[list[str]]:
        """`repmgr cluster show --csv` from whichever node answers: rows of
        node id, name (added here), connection (0 reachable), recovery (0/1)."""
        names = {"1": "n1", "2": "n2", "3": "wt"}
        for short in ("wt", "n1", "n2"):
            cp = self.repmgr(short, "cluster", "show", "--csv", timeout=20)
            rows = [ln.split(",") for ln in cp.stdout.splitlines() if ln.count(",") >= 2]
            if rows:
                return [[r[0], names.get(r[0], "?"), r[1], r[2]] for r in rows]
        return []

    def healthy(self) -> str | None:
        for short in ("n1", "n2", "wt"):
            if short not in self.repmgrd or not self.repmgrd[short].alive():
                return f"repmgrd not running on {short}"
        rows = {r[1]: r for r in self.cluster_rows()}
        if set(rows) < {"n1", "n2"}:
            return f"cluster show: {rows}"
        primaries = [n for n in ("n1", "n2") if rows[n][2] == "0" and rows[n][3] == "0"]
        if len(primaries) != 1:
            return f"primaries per cluster show: {primaries}"
        primary = primaries[0]
        other = "n2" if primary == "n1" else "n1"
        if rows[other][2] != "0" or rows[other][3] != "1":
            return f"{other} is not a reachable standby: {rows[other]}"
        got = self.pg[primary].psql(
            f"SELECT state FROM pg_stat_replication WHERE application_name = '{other}'")
        if got.strip() != "streaming":
            return f"{other} does not stream from {primary} ({got.strip()!r})"
        holders = [s for s in ("n1", "n2") if self.host(s).has_address(VIP)]
        if holders != [primary]:
            return f"the VIP is on {holders}, the primary is {primary}"
        return None

    def repair(self, short: str) -> list[str]:
        """NOTES.md (f): the documented way back for a failed primary:
        CHECKPOINT on the new primary, the old one's server stopped, then
        `repmgr node rejoin --force-rewind` (which starts it as a standby)."""
        other = "n2" if short == "n1" else "n1"
        steps = []
        self.pg[other].psql("CHECKPOINT")
        steps.append(f"CHECKPOINT on {other}")
        if stop_postgres(self.pg[short]):
            steps.append(f"pg_ctl stop on {short}")
        if self.host(short).has_address(VIP):
            self.host(short).del_address(f"{VIP}/{VIP_PREFIX}")
            steps.append(f"ip addr del VIP on {short}")
        source = (f"host={ADDRS[other]} port={PORT} user=repmgr dbname=repmgr "
                  "connect_timeout=2")
        self.must(short, "node", "rejoin", "-d", source, "--force-rewind", timeout=120)
        steps.append("repmgr node rejoin --force-rewind")
        if short not in self.repmgrd or not self.repmgrd[short].alive():
            self.start_repmgrd(short)
            steps.append("repmgrd start")
        return steps
