"""Patroni + etcd + vip-manager as a Contender (bench/peer_lab.py) for
bench/compare.py: Patroni on n1 and n2 (each owning its PostgreSQL), one
etcd on a third host "et", and vip-manager on both data nodes putting the
VIP on the node that holds etcd's leader key. The configurations are
bench/peers/patroni/patroni.yml and vip-manager.yml, filled here; why each
setting has its value is written there, and what each fault does in
bench/peers/patroni/NOTES.md.

Two timings: Patroni's documented minimums (ttl 20, loop_wait 1,
retry_timeout 3), and the fastest that ran in this lab (3 / 1 / 2, below
the documented minimums; bench/patroni_sync.py says what failed below it).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess

from netlab import Host, Lab
from peer_lab import (THIRD_ADDR, VIP, VIP_PREFIX, Contender, fill_template, lab_bin_dir,
                      pglab_parameters)
from pglab import WRITES_TABLE, PgNode, _as_postgres
from processes import LabError, wait_until

SCOPE = "bench"
REST_PORT = 8008
DOCUMENTED = (20, 1, 3)   # ttl, loop_wait, retry_timeout: the documented minimums
FAST = (3, 1, 2)          # the fastest that ran here (below them)
READY_TIMEOUT = 120.0     # a clone or a rewind on a loaded machine


def patroni_version() -> str:
    try:
        cp = subprocess.run(["patroni", "--version"], capture_output=True, text=True, timeout=30)
    except OSError as e:
        return f"({e})"
    return (cp.stdout or cp.stderr).strip()


def start_etcd(lab: Lab, host: Host, addr: str) -> None:
    """One etcd member alone on `host`, v2 API on (vip-manager 1.0.2 reads
    only v2 keys); waits until it answers."""
    url = f"http://{addr}"
    host.spawn(["etcd", "--name", host.short, "--data-dir", lab.path("etcd"),
                "--listen-client-urls", f"{url}:2379", "--advertise-client-urls", f"{url}:2379",
                "--listen-peer-urls", f"{url}:2380",
                "--initial-advertise-peer-urls", f"{url}:2380",
                "--initial-cluster", f"{host.short}={url}:2380", "--enable-v2=true"], "etcd")
    wait_until(lambda: host.run(["etcdctl", f"--endpoints={url}:2379", "endpoint", "health"],
                                check=False).returncode == 0, 20, 0.2, "etcd to answer")


def same_servers(patroni_yml: str) -> None:
    """The template's PostgreSQL settings are pglab.COMMON_CONF's, so that
    Patroni's servers run as every other tool's: a change to one without
    the other is an error, not a quiet difference in the comparison."""
    import yaml     # python3-yaml, which patroni depends on
    given = yaml.safe_load(patroni_yml)["bootstrap"]["dcs"]["postgresql"]["parameters"]
    want = pglab_parameters()
    if given != want:
        differ = sorted(k for k in given.keys() | want.keys() if given.get(k) != want.get(k))
        raise LabError(f"bench/peers/patroni/patroni.yml: PostgreSQL parameters differ from "
                       f"pglab.COMMON_CONF's: {differ}")


class PatroniVip(Contender):
    has_vip = True

    def __init__(self, lab: Lab, timing: tuple[int, int, int] = DOCUMENTED,
                 synchronous: bool = False):
        super().__init__(lab)
        self.timing = timing
        self.synchronous = synchronous
        self.name = (f"Patroni {patroni_version().split()[-1]} + vip-manager, "
                     f"ttl {timing[0]}" + (", synchronous_mode" if synchronous else ""))
        self.machines = "3 (etcd)"
        self.add_third("et")
        bin_dir = lab_bin_dir(lab)
        self.config_paths: dict[str, str] = {}
        self.vip_configs: dict[str, str] = {}
        self.patroni: dict[str, object] = {}
        self.vip_manager: dict[str, object] = {}
        self.starts = 0
        for short, host in (("n1", self.n1), ("n2", self.n2)):
            pg = PgNode(host, init=False)
            self.pg[short] = pg
            addr = str(host.ipv4).split("/")[0]
            ttl, loop_wait, retry_timeout = timing
            text = fill_template("patroni/patroni.yml", {
                "SCOPE": SCOPE, "NODE_NAME": short, "NODE_ADDR": addr,
                "ETCD_ADDR": THIRD_ADDR, "RUNDIR": pg.dir, "BIN_DIR": bin_dir,
                "TTL": ttl, "LOOP_WAIT": loop_wait, "RETRY_TIMEOUT": retry_timeout,
                "SYNCHRONOUS_MODE": "true" if synchronous else "false",
                # The documentation's advice per mode (the template says why).
                "PRIMARY_START_TIMEOUT": 0 if synchronous else 300})
            same_servers(text)
            self.config_paths[short] = os.path.join(pg.dir, "patroni.yml")
            pg._write(self.config_paths[short], text)
            self.vip_configs[short] = lab.path(f"vip-manager-{short}.yml")
            with open(self.vip_configs[short], "w") as f:
                f.write(fill_template("patroni/vip-manager.yml", {
                    "NODE_NAME": short, "VIP": VIP, "VIP_PREFIX": VIP_PREFIX,
                    "IFACE": host.ifname, "ETCD_ADDR": THIRD_ADDR, "SCOPE": SCOPE}))

    # -- set-up
    def start_patroni(self, short: str) -> None:
        self.starts += 1
        pg = self.pg[short]
        self.patroni[short] = self.host(short).spawn(
            _as_postgres(["patroni", self.config_paths[short]], pg.dir),
            f"patroni-{self.starts}")

    def start_vip_manager(self, short: str) -> None:
        self.starts += 1
        # It runs `ip addr add|delete`: /usr/sbin on its PATH.
        self.vip_manager[short] = self.host(short).spawn(
            ["env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "vip-manager", "--config",
             self.vip_configs[short]], f"vip-manager-{self.starts}")

    def start(self) -> None:
        start_etcd(self.lab, self.third, THIRD_ADDR)
        # n1 alone first, so that it bootstraps and n2 clones it.
        self.start_patroni("n1")
        wait_until(lambda: self.role("n1") == "primary", 60, 0.2,
                   lambda: f"n1 to bootstrap and lead; its log:\n"
                           f"{self.patroni['n1'].log_tail(20)}")
        self.pg["n1"].psql(WRITES_TABLE)
        self.start_patroni("n2")
        wait_until(lambda: self.healthy() is None, READY_TIMEOUT, 0.2,
                   lambda: f"n2 streaming from n1: {self.healthy()}")
        for short in ("n1", "n2"):
            self.start_vip_manager(short)
        wait_until(lambda: self.n1.has_address(VIP), 10, 0.05, "vip-manager's VIP on n1")

    def config(self) -> str:
        with open(self.config_paths["n1"]) as f, open(self.vip_configs["n1"]) as g:
            return f"# patroni.yml (n1)\n{f.read()}\n# vip-manager.yml (n1)\n{g.read()}"

    # -- faults
    def kill_daemon(self, short: str) -> None:
        self.patroni[short].kill(signal.SIGKILL)
        self.patroni[short].wait(10)

    def restart_daemon(self, short: str) -> None:
        self.start_patroni(short)

    def server_back(self, short: str) -> None:
        self.boot(short)
        self.start_patroni(short)
        self.start_vip_manager(short)

    # -- state
    def rest(self, short: str, path: str = "patroni") -> dict | None:
        """GET http://NODE:8008/PATH from the client's namespace, JSON or None."""
        addr = str(self.host(short).ipv4).split("/")[0]
        cp = self.cl.run(["curl", "-s", "-m", "1", f"http://{addr}:{REST_PORT}/{path}"],
                         check=False, timeout=5)
        try:
            return json.loads(cp.stdout) if cp.stdout else None
        except ValueError:
            return None

    def role(self, short: str) -> str | None:
        st = self.rest(short)
        if not st or st.get("state") != "running":
            return None
        return "primary" if st.get("role") in ("master", "primary") else st.get("role")

    def primary(self) -> str | None:
        leaders = [s for s in ("n1", "n2") if self.role(s) == "primary"]
        return leaders[0] if len(leaders) == 1 else None

    def healthy(self) -> str | None:
        for short in ("n1", "n2"):
            if short not in self.patroni or not self.patroni[short].alive():
                return f"Patroni not running on {short}"
        leader = self.primary()
        if not leader:
            return "no single leader"
        replica = "n2" if leader == "n1" else "n1"
        st, rst = self.rest(leader), self.rest(replica)
        if not rst or rst.get("role") != "replica" or rst.get("state") != "running":
            return f"{replica} is not a running replica: {rst}"
        rep = [r for r in (st or {}).get("replication", [])
               if r.get("application_name") == replica]
        if not rep or rep[0].get("state") != "streaming":
            return f"{replica} does not stream from {leader}"
        return None

    def repair(self, short: str) -> list[str]:
        """Patroni's documented way to rebuild a member that cannot rejoin:
        patronictl reinit (a new base backup from the leader)."""
        cmd = ["patronictl", "-c", self.config_paths[short], "reinit", SCOPE, short, "--force"]
        cp = self.host(short).run(_as_postgres(cmd, self.pg[short].dir), check=False,
                                  timeout=60)
        if cp.returncode != 0:
            raise LabError(f"patronictl reinit {short}: {cp.stdout}{cp.stderr}")
        return [f"patronictl reinit {SCOPE} {short}"]

