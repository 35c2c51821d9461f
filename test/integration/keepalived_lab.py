"""keepalived (the Debian package) run in a netlab host's namespace, VRRP
only, as the peer of the interop tests and the daemon pgvrrpd is measured
against.

    k = Keepalived(n1, vips=["198.51.100.100/24"], priority=200,
                   advert_int=0.1).start()   # k.kill(SIGKILL), k.stop()
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from typing import Iterable

from netlab import Host, bare, check_address
from processes import LabError, Proc, cmdline, log, wait_until

KEEPALIVED = shutil.which("keepalived") or "/usr/sbin/keepalived"


def keepalived_version() -> str:
    """The first line of `keepalived --version` (it prints to stderr), e.g.
    "Keepalived v2.2.7 (01/16,2022)"."""
    try:
        cp = subprocess.run([KEEPALIVED, "--version"], capture_output=True, text=True, timeout=10)
    except OSError as e:
        return f"keepalived ({e})"
    return ((cp.stderr or cp.stdout).strip().splitlines() or ["keepalived ?"])[0]

class Keepalived:
    """keepalived (VRRP only) for one vrrp_instance on a host's eth0, or
    several: more_instances lists further instances, each a dict of the
    instance keywords below (vips and virtual_router_id at least; the others
    default to this instance's values, the name to VI_2, VI_3...).

    Runs `keepalived -n -l -D -G -P -f CONF -p PID -r VRRPPID -i SHORT`: the
    spawned pid is the parent, which forks a VRRP child (pid in VRRPPID).
    kill(SIGKILL) kills both (parent first so it cannot respawn the child);
    stop() SIGTERMs the parent, which makes the child resign (priority 0) and
    remove its VIPs.
    """

    def __init__(self, host: Host, *, vips: Iterable[str], virtual_router_id: int = 51,
                 priority: int = 100, advert_int: float = 1.0, version: int = 3,
                 state: str = "BACKUP", nopreempt: bool = False,
                 unicast_peers: Iterable[str] = (), unicast_src_ip: str | None = None,
                 instance: str = "VI_1", extra_instance: str = "", extra_global: str = "",
                 more_instances: Iterable[dict] = ()):
        self.host = host
        first = dict(vips=list(vips), virtual_router_id=virtual_router_id, priority=priority,
                     advert_int=advert_int, version=version, state=state,
                     nopreempt=nopreempt, unicast_peers=list(unicast_peers),
                     unicast_src_ip=unicast_src_ip, instance=instance,
                     extra_instance=extra_instance)
        instances = [first] + [{**first, "instance": f"VI_{i + 2}", **more}
                               for i, more in enumerate(more_instances)]
        self.vips = [str(check_address(v)) for v in first["vips"]]
        self.unicast_peers = [str(check_address(p).ip) for p in first["unicast_peers"]]
        lab = host.lab
        base = lab.path(f"{host.short}-keepalived")
        self.conf, self.pidfile, self.vrrp_pidfile = base + ".conf", base + ".pid", base + ".vrrp.pid"
        lines = [
            "global_defs {",
            f"    router_id {host.short}",
            "    enable_script_security",
            "    script_user root",
            "    vrrp_garp_master_repeat 1",
            "    vrrp_garp_master_delay 0",
            *(f"    {ln}" for ln in extra_global.splitlines() if ln.strip()),
            "}",
        ]
        for inst in instances:
            lines += self._instance_lines(**inst)
        self.config_text = "\n".join(lines) + "\n"
        self.proc: Proc | None = None

    def _instance_lines(self, *, vips, virtual_router_id, priority, advert_int, version, state,
                        nopreempt, unicast_peers, unicast_src_ip, instance,
                        extra_instance) -> list[str]:
        vips = [str(check_address(v)) for v in vips]
        peers = [str(check_address(p).ip) for p in unicast_peers]
        if unicast_src_ip:
            check_address(unicast_src_ip)
        if version not in (2, 3):
            raise LabError(f"VRRP version must be 2 or 3, got {version}")
        ifname = self.host.ifname
        lines = [
            f"vrrp_instance {instance} {{",
            f"    state {state}",
            f"    interface {ifname}",
            f"    version {version}",
            f"    virtual_router_id {virtual_router_id}",
            f"    priority {priority}",
            f"    advert_int {advert_int:g}",
        ]
        if nopreempt:
            lines.append("    nopreempt")
        if unicast_src_ip:
            lines.append(f"    unicast_src_ip {bare(unicast_src_ip)}")
        if peers:
            lines += ["    unicast_peer {", *(f"        {p}" for p in peers), "    }"]
        lines += ["    virtual_ipaddress {",
                  *(f"        {v} dev {ifname}" for v in vips), "    }"]
        lines += [f"    {ln}" for ln in extra_instance.splitlines() if ln.strip()]
        lines.append("}")
        return lines

    def __repr__(self):
        return f"Keepalived({self.host.short})"

    def logs(self):
        return [(self.proc.name, self.proc.log_path)] if self.proc else []

    def config_test(self) -> None:
        """Write the config and have keepalived -t check it; raises on errors."""
        with open(self.conf, "w") as f:
            f.write(self.config_text)
        cp = self.host.run([KEEPALIVED, "-t", "-f", self.conf], check=False)
        if cp.returncode != 0:
            raise LabError(f"keepalived -t was expected to accept {self.conf}, exited "
                           f"{cp.returncode}: {cp.stderr.strip()}\nconfig:\n{self.config_text}")

    def start(self, timeout: float = 10) -> "Keepalived":
        self.config_test()
        for p in (self.pidfile, self.vrrp_pidfile):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        self.proc = self.host.spawn(
            [KEEPALIVED, "-n", "-l", "-D", "-G", "-P", "-f", self.conf,
             "-p", self.pidfile, "-r", self.vrrp_pidfile, "-i", self.host.short],
            "keepalived")
        self.host.lab.stoppables.append(self)

        def child_up():
            if not self.proc.alive():
                raise LabError(f"keepalived on {self.host.short} exited with "
                               f"{self.proc.returncode} during start; log:\n"
                               f"{self.proc.log_tail()}")
            return self.child_pid()
        wait_until(child_up, timeout, step=0.02,
                   what=f"keepalived VRRP child on {self.host.short} (pid file {self.vrrp_pidfile})")
        return self

    def child_pid(self) -> int | None:
        """The VRRP child's pid, verified to be a live keepalived using our config."""
        try:
            with open(self.vrrp_pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        cmd = cmdline(pid)
        return pid if cmd and "keepalived" in cmd[0] and self.conf in cmd else None

    def pids(self) -> list[int]:
        """Live pids: parent (if alive) and VRRP child (if alive)."""
        out = []
        if self.proc and self.proc.alive():
            out.append(self.proc.pid)
        c = self.child_pid()
        if c:
            out.append(c)
        return out

    def alive(self) -> bool:
        return bool(self.pids())

    def kill(self, sig: int = signal.SIGKILL, wait: float = 5) -> None:
        """Send sig to all keepalived processes (parent first). With SIGKILL, wait
        until they are all gone.

        SIGKILL is a real crash: the VRRP child has PR_SET_PDEATHSIG, so killing
        the parent first lets the child catch SIGTERM and resign (priority 0)
        before our SIGKILL reaches it; killing the child first lets the parent
        respawn it. So both are frozen with SIGSTOP first, then SIGKILLed, and
        no keepalived code runs after the first SIGSTOP."""
        child = self.child_pid()
        targets = ([self.proc.pid] if self.proc and self.proc.alive() else []) \
            + ([child] if child else [])
        if sig == signal.SIGKILL:
            for pid in targets:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            targets.reverse()
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        if sig == signal.SIGKILL:
            wait_until(lambda: not self.pids(), wait,
                       what=f"all keepalived processes on {self.host.short} to die "
                            f"(left: {self.pids()})")

    def stop(self, timeout: float = 5) -> None:
        """Clean SIGTERM shutdown, SIGKILL for whatever is left after timeout."""
        if not self.proc:
            return
        child = self.child_pid()
        self.proc.stop(timeout=timeout)
        if child:
            try:
                wait_until(lambda: self.child_pid() is None, timeout,
                           what=f"keepalived VRRP child {child} to exit")
            except LabError:
                log(f"keepalived child {child} on {self.host.short} survived, SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
