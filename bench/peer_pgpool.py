"""pgpool-II 4.3 with its watchdog as a Contender (bench/peer_lab.py) for
bench/compare.py: the PostgreSQL pair of the integration tests (n1
primary, n2 streaming standby), pgpool on n1, n2 and a third host "pp"
(the documented odd number of watchdog nodes; it runs no PostgreSQL), the
watchdog's delegate IP (the VIP) on the leader, and clients on VIP:9999,
through pgpool. pgpool promotes with failover_command (failover.sh) when
its health checks agree a backend is gone. Configuration and why:
bench/peers/pgpool/ (NOTES.md for each fault)."""
from __future__ import annotations

import os
import signal

from netlab import Lab
from peer_lab import (N1_ADDR, N2_ADDR, THIRD_ADDR, VIP, VIP_PREFIX, Contender, fill_template,
                      kill_host, ns_pids, stop_postgres, tool_version)
from pglab import PG_BIN, PORT
from processes import LabError, wait_until
from replication import make_primary, make_standby, rewind_as_standby, writers
from writer import Writer

PGPOOL_PORT = 9999
PCP_PORT = 9898
IDS = {"n1": 0, "n2": 1, "pp": 2}
ADDRS = {"n1": N1_ADDR, "n2": N2_ADDR, "pp": THIRD_ADDR}
READY_TIMEOUT = 60.0
FILES = {"pgpool.conf.in": "pgpool.conf", "pgpool_node_id.in": "pgpool_node_id",
         "pcp.conf": "pcp.conf", "pcppass": "pcppass", "failover.sh.in": "failover.sh",
         "escalation.sh.in": "escalation.sh", "on_node.sh.in": "on_node.sh"}


class Pgpool(Contender):
    has_vip = True
    machines = "3 (pgpool without PostgreSQL)"

    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.add_third("pp")
        self.name = f"pgpool-II {tool_version(['pgpool', '--version'], 2)} watchdog"
        self.pgpool: dict[str, object] = {}
        self.starts = 0

    def hosts(self):
        return {"n1": self.n1, "n2": self.n2, "pp": self.third}

    def run_dir(self, short: str) -> str:
        return self.lab.path(f"pgpool-{short}")

    def write_files(self, short: str) -> None:
        d = self.run_dir(short)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        values = {"NODE_ID": IDS[short], "NODE_ADDR": ADDRS[short], "N1_ADDR": N1_ADDR,
                  "N2_ADDR": N2_ADDR, "THIRD_ADDR": THIRD_ADDR, "VIP": VIP,
                  "VIP_PREFIX": VIP_PREFIX, "IFACE": self.n1.ifname,
                  "N1_PGDATA": self.pg["n1"].datadir, "N2_PGDATA": self.pg["n2"].datadir,
                  "PGBIN": PG_BIN, "PGPORT": PORT, "PGPOOL_PORT": PGPOOL_PORT,
                  "RUNDIR": d, "SOCKET_DIR": d, "WD_PRIORITY": 1 if short == "pp" else 2,
                  "N1_NS": self.n1.ns, "N2_NS": self.n2.ns, "THIRD_NS": self.third.ns}
        for src, dst in FILES.items():
            path = os.path.join(d, dst)
            with open(path, "w") as f:
                f.write(fill_template(f"pgpool/{src}", values))
            os.chmod(path, 0o755 if dst.endswith(".sh") else
                     0o600 if dst == "pcppass" else 0o644)

    def start_pgpool(self, short: str) -> None:
        self.starts += 1
        d = self.run_dir(short)
        self.pgpool[short] = self.hosts()[short].spawn(
            ["env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "pgpool", "-n", "-D",
             "-f", os.path.join(d, "pgpool.conf"), "-F", os.path.join(d, "pcp.conf")],
            f"pgpool-{self.starts}")

    def log_has(self, short: str, text: str) -> bool:
        p = self.pgpool.get(short)
        if not p:
            return False
        try:
            with open(p.log_path, errors="replace") as f:
                return text in f.read()
        except OSError:
            return False

    # -- set-up
    def start(self) -> None:
        self.pg["n1"] = make_primary(self.n1, listen="*")
        self.pg["n2"] = make_standby(self.pg["n1"], self.n2, listen="*")
        for short in IDS:
            self.write_files(short)
        # n1 first: the first pgpool up becomes the watchdog's leader
        # (example-cluster.html 8.2.9.2), but only once it has finished
        # declaring itself: "I am announcing my self as leader/coordinator"
        # opens a ~4 s DECLARE COORDINATOR round, and n2 and the third node
        # started inside it elect n2 among themselves (they hold the quorum,
        # n1 alone does not) and the split brain that follows is resolved in
        # favour of the node with the quorum: n2 led and held the VIP in 2
        # of 4 runs, and fault (e) then cut the VIP holder from the primary
        # (28 s of outage, NOTES.md). "I am the cluster leader node" ends
        # that round (src: watchdog.c, watchdog_state_machine_coordinator).
        self.start_pgpool("n1")
        wait_until(lambda: self.log_has("n1", "I am the cluster leader node"), 60, 0.2,
                   lambda: f"n1's pgpool to lead; its log:\n{self.pgpool['n1'].log_tail(15)}")
        for short in ("n2", "pp"):
            self.start_pgpool(short)
        wait_until(lambda: all(self.log_has(s, "lifecheck started") for s in IDS), 60, 0.2,
                   "every pgpool's watchdog lifecheck to start")
        wait_until(lambda: self.healthy() is None, READY_TIMEOUT, 0.5,
                   lambda: f"pgpool's pair healthy: {self.healthy()}")
        # NOTES.md, "Start and healthy", 3: the VIP on n1's eth0 only (the
        # leader holds it). The faults are defined on the primary's node
        # holding the VIP, as with every other tool.
        wait_until(lambda: self.vip_holders() == ["n1"], 20, 0.2,
                   lambda: f"the VIP on n1 only (held by {self.vip_holders()})")

    def vip_holders(self) -> list[str]:
        return [s for s, h in self.hosts().items() if h.has_address(VIP)]

    def writer(self, **kw) -> Writer:
        return Writer(self.cl, [VIP], port=PGPOOL_PORT, **kw).start()

    def config(self) -> str:
        with open(os.path.join(self.run_dir("n1"), "pgpool.conf")) as f:
            return f.read()

    # -- faults
    def kill_daemon(self, short: str) -> None:
        """pgpool's whole process tree on the node (its main process, the
        children, the watchdog), frozen then SIGKILLed; PostgreSQL stays."""
        main = self.pgpool[short]
        tree = {main.pid} | descendants(main.pid, ns_pids(self.hosts()[short]))
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        main.wait(10)

    def restart_daemon(self, short: str) -> None:
        self.start_pgpool(short)

    def kill_server(self, short: str) -> float:
        return kill_host(self.lab, self.host(short))

    def server_back(self, short: str) -> None:
        """The node boots: PostgreSQL starts as the OS starts it (pgpool does
        not manage it), as it was; then pgpool."""
        self.boot(short)
        self.pg[short].start()
        self.start_pgpool(short)

    # -- state
    def pool_nodes(self) -> list[dict]:
        """SHOW POOL_NODES through the VIP (the leader's pgpool)."""
        cp = self.cl.run([os.path.join(PG_BIN, "psql"), "-X", "-A", "-F", ",", "-q",
                          "-d", f"host={VIP} port={PGPOOL_PORT} user=postgres dbname=postgres "
                                "connect_timeout=2", "-c", "SHOW POOL_NODES"],
                         check=False, timeout=10)
        lines = cp.stdout.strip().splitlines()
        if cp.returncode != 0 or len(lines) < 2:
            return []
        head = lines[0].split(",")
        return [dict(zip(head, ln.split(","))) for ln in lines[1:] if ln.count(",")]

    def primary(self) -> str | None:
        """The backend pgpool routes writes to (SHOW POOL_NODES through the
        VIP: role primary, status up)."""
        by_addr = {N1_ADDR: "n1", N2_ADDR: "n2"}
        found = [by_addr.get(n.get("hostname")) for n in self.pool_nodes()
                 if n.get("role") == "primary" and n.get("status") in ("up", "waiting")]
        return found[0] if len(found) == 1 else None

    def healthy(self) -> str | None:
        for short in IDS:
            if short not in self.pgpool or not self.pgpool[short].alive():
                return f"pgpool not running on {short}"
        nodes = self.pool_nodes()
        if len(nodes) != 2:
            return f"SHOW POOL_NODES through the VIP: {nodes}"
        ups = [n for n in nodes if n.get("status") in ("up", "waiting")]
        roles = sorted(n.get("role", "") for n in ups)
        if roles != ["primary", "standby"]:
            return f"pgpool sees {[(n.get('hostname'), n.get('status'), n.get('role')) for n in nodes]}"
        live = writers([self.pg["n1"], self.pg["n2"]])
        if len(live) != 1:
            return f"{len(live)} writable servers"
        primary = "n1" if live[0] is self.pg["n1"] else "n2"
        other = "n2" if primary == "n1" else "n1"
        got = self.pg[primary].psql(
            f"SELECT state FROM pg_stat_replication WHERE application_name = '{other}'")
        if got.strip() != "streaming":
            return f"{other} does not stream from {primary}"
        return None

    def repair(self, short: str) -> list[str]:
        """NOTES.md: pgpool never re-attaches an old primary: rewind it as a
        standby of the new one, start it, pcp_attach_node."""
        other = "n2" if short == "n1" else "n1"
        steps = []
        if stop_postgres(self.pg[short]):
            steps.append(f"pg_ctl stop on {short}")
        rewind_as_standby(self.pg[short], self.pg[other])
        steps.append(f"pg_rewind {short} from {other}, standby.signal, pg_ctl start")
        d = self.run_dir("pp")
        cp = self.third.run(["env", f"PCPPASSFILE={os.path.join(d, 'pcppass')}",
                             "pcp_attach_node", "-h", d, "-p", str(PCP_PORT), "-U", "pgpool",
                             "-w", "-n", str(IDS[short])], check=False, timeout=30)
        if cp.returncode != 0:
            raise LabError(f"pcp_attach_node -n {IDS[short]}: {cp.stdout}{cp.stderr}")
        steps.append(f"pcp_attach_node -n {IDS[short]}")
        return steps


def descendants(root: int, candidates: set[int]) -> set[int]:
    """The pids among `candidates` whose parent chain reaches `root`."""
    parent = {}
    for pid in candidates:
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent[pid] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {root}
    while frontier:
        nxt = {p for p, pp in parent.items() if pp in frontier and p not in found}
        found |= nxt
        frontier = nxt
    return found
