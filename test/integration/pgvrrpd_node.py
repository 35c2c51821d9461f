"""Runs pgvrrpd on a netlab Host: writes its ini file, starts it with
--log stderr, and reads its transition lines back.

    node = PgvrrpdNode(n1, priority=150, advert_interval=0.1,
                       virtual_ip=["198.51.100.100/24"]).start()
    node.wait_state("MASTER", 2)
    node.kill()                      # SIGKILL; node.stop() is SIGTERM
"""
from __future__ import annotations

import os
import re
import signal
import time

from netlab import Host
from processes import LabError, Proc, wait_until

PGVRRPD_BIN = os.environ.get("PGVRRPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "pgvrrpd")

PGVRRPCTL_BIN = os.environ.get("PGVRRPD_CTL_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(PGVRRPD_BIN)), "pgvrrpctl")

TRANSITION = re.compile(r'transition router=(\S+) vrid=(\d+) from=(\S+) to=(\S+) '
                        r'reason="([^"]*)"')
DROPPED = re.compile(r"dropped advert on \S+ from \S+: (\w+)")


class PgvrrpdNode:
    """One pgvrrpd process with one [router NAME] section."""
    runs = 0

    def __init__(self, host: Host, name: str = "pg", vrid: int = 51, *,
                 binary: str | None = None, peer_keys: bool = True, **keys):
        """binary: the pgvrrpd to run (default PGVRRPD_BIN); peer_keys=False
        for a build older than the `peer` and `control_socket` keys (the
        benchmark's --baseline)."""
        self.host, self.name = host, name
        self.binary = binary or PGVRRPD_BIN
        self.peer_keys = peer_keys
        self.env: dict | None = None  # added to the daemon's environment
        # Put before the daemon's command (systemd_unit.run_under_unit: the
        # unit's sandbox, user and capabilities).
        self.prefix: list[str] = []
        self.socket_path: str | None = None  # default: one per host and router name
        self.global_keys: dict = {}  # more [global] keys (metrics_file...)
        self.routers = {name: {"interface": host.ifname, "vrid": vrid, **keys}}
        self.checks: dict[str, dict] = {}
        self.proc: Proc | None = None
        self.starts = 0

    @classmethod
    def from_file(cls, host: Host, path: str, **overrides) -> "PgvrrpdNode":
        """A node running a shipped config (etc/n1.ini...), with the values
        of some keys replaced (e.g. advert_interval for a faster demo)."""
        node = cls(host)
        with open(path) as f:
            text = f.read()
        for key, value in overrides.items():
            text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
            if n != 1:
                raise LabError(f"{path}: expected one '{key} =' line to override, found {n}")
        node.fixed_text = text
        return node

    fixed_text: str | None = None

    def ini_text(self) -> str:
        if self.fixed_text is not None:
            return self.fixed_text
        lines = ["[global]", f"node = {self.host.short}"]
        if self.peer_keys:
            # One socket per daemon: the namespaces share the file system.
            lines.append(f"control_socket = {self.control_socket}")
        lines += [f"{k} = {v}" for k, v in self.global_keys.items()]
        for name, keys in self.routers.items():
            lines += ["", f"[router {name}]"]
            if self.peer_keys and not any(
                    k in keys for k in ("peer", "unicast_peer", "accept_any_source")):
                peers = self.default_peers(keys)
                keys = {**keys, **({"peer": peers} if peers else {"accept_any_source": True})}
            for key, value in keys.items():
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, bool):
                        v = "true" if v else "false"
                    lines.append(f"{key} = {v}")
        for name, keys in self.checks.items():
            lines += ["", f"[check {name}]"]
            lines += [f"{k} = {v}" for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def default_peers(self, keys: dict) -> list[str]:
        """pgvrrpd obeys adverts only from its peers: unless a test names
        them (or says accept_any_source), every other host of the lab, by
        the address its adverts come from (IPv6: the link-local one)."""
        vips = keys.get("virtual_ip") or []
        ipv6 = ":" in str(vips[0] if isinstance(vips, list) and vips else vips)
        peers = []
        for host in self.host.lab.hosts.values():
            if host is self.host:
                continue
            address = host.link_local if ipv6 else (host.ipv4 or "").split("/")[0]
            if address:
                peers.append(address)
        return peers

    def add_check(self, name: str, **keys) -> "PgvrrpdNode":
        self.checks[name] = keys
        return self

    def add_router(self, name: str, vrid: int, **keys) -> "PgvrrpdNode":
        self.routers[name] = {"interface": self.host.ifname, "vrid": vrid, **keys}
        return self

    @property
    def control_socket(self) -> str:
        return self.socket_path or self.host.lab.path(f"{self.host.short}-{self.name}.sock")

    def ctl(self, *args: str, check: bool = True, timeout: float = 15):
        """pgvrrpctl --socket (this daemon's) ARGS, run in the host's
        namespace; the CompletedProcess."""
        return self.host.run([PGVRRPCTL_BIN, "--socket", self.control_socket, *args],
                             check=check, timeout=timeout)

    @property
    def ini_path(self) -> str:
        return self.host.lab.path(f"{self.host.short}-{self.name}.ini")

    def start(self) -> "PgvrrpdNode":
        with open(self.ini_path, "w") as f:
            f.write(self.ini_text())
        self.starts += 1
        # One log file per run, so transitions() sees this run only.
        PgvrrpdNode.runs += 1
        self.proc = self.host.spawn([*self.prefix, self.binary, "-f", self.ini_path,
                                     "--log", "stderr"],
                                    f"{self.name}-pgvrrpd-{PgvrrpdNode.runs}", env=self.env)
        return self

    def ignored_signals(self) -> set[int]:
        """The signals the running daemon ignores (SigIgn in /proc)."""
        assert self.proc
        with open(f"/proc/{self.proc.pid}/status") as f:
            mask = int(next(l for l in f if l.startswith("SigIgn:")).split()[1], 16)
        return {n for n in range(1, 65) if mask >> (n - 1) & 1}

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc
        self.proc.kill(sig)

    def stop(self, timeout: float = 5) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc
        return self.proc.stop(timeout)

    def log_text(self) -> str:
        return self.proc.log_text() if self.proc else ""

    def transitions(self, router: str | None = None) -> list[tuple[str, str, str]]:
        """(from, to, reason) of every transition line of the current run, of
        `router` (default: the first router)."""
        router = router or self.name
        return [(m[3], m[4], m[5]) for m in TRANSITION.finditer(self.log_text())
                if m[1] == router]

    def state(self, router: str | None = None) -> str:
        t = self.transitions(router)
        return t[-1][1] if t else "INIT"

    def wait_state(self, state: str, timeout: float, router: str | None = None) -> float:
        """Waits until the last transition is to `state`; returns monotonic time."""
        wait_until(lambda: self.state(router) == state, timeout, 0.01,
                   lambda: f"{self.host.short} pgvrrpd router {router or self.name} to reach "
                           f"{state}; its last log lines:\n{self.recent_log(12)}")
        return time.monotonic()

    def recent_log(self, lines: int) -> str:
        """The last lines of this daemon's log, each cut to 200 characters:
        enough to say why a wait failed without burying the error."""
        return "\n".join(l[:200] for l in self.log_text().splitlines()[-lines:])

    def drops(self) -> list[str]:
        return DROPPED.findall(self.log_text())

    def statistics(self) -> str:
        """Asks for the counters (SIGUSR1) and returns the statistics line."""
        assert self.proc
        before = self.log_text().count("statistics:")
        self.proc.kill(signal.SIGUSR1)
        wait_until(lambda: self.log_text().count("statistics:") > before, 2, 0.01,
                   "pgvrrpd to log statistics after SIGUSR1")
        return [l for l in self.log_text().splitlines() if "statistics:" in l][-1]


def assert_single_holder(hosts: list[Host], vip: str, expected: Host) -> None:
    holders = [h.short for h in hosts if h.has_address(vip)]
    if holders != [expected.short]:
        raise LabError(f"expected only {expected.short} to hold {vip}, holders: {holders}")


def master_down_interval(priority: int, interval: float) -> float:
    """RFC 5798 6.1, in seconds."""
    return 3 * interval + skew_time(priority, interval)


def skew_time(priority: int, interval: float) -> float:
    return (256 - priority) * interval / 256
