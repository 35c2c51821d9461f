"""netlab: a small network-namespace lab for pgvrrpd integration tests.

Stdlib only (Python 3.11), must run as root. Everything the tests start runs
inside namespaces created here, never in the machine's own namespace:

    with Lab("harness") as lab:                  # switch ns with bridge br0
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24",
                          ipv6="2001:db8:100::11/64")
        n1.run(["ip", "addr"])                   # ip netns exec NS ...
        p = n1.spawn(["sleep", "100"], "sleep")  # Proc, killed by pid at exit

API in short:
  Lab(name)            .add_host(short, ipv4, ipv6, mac) -> Host, .path(file),
                       .switch (Host for the switch ns), .cut(a, b), .heal(),
                       .dump_logs(), .close()
  Host                 .ns .ifname .mac .ipv4 .ipv6 .link_local
                       .run(cmd, check, timeout) .spawn(cmd, log_name) -> Proc
                       .addresses() .has_address(a) .add_address(a) .del_address(a)
                       .link_down() .link_up() .ping(a, count, timeout_s) -> bool
                       .neigh_mac(a) .flush_neigh()
  check_address(a), bare(a), list_netns()

The rest of the harness (README.md): processes.py (LabError, log,
wait_until, timed, Proc, cleanup by pid), addrwatch.py (AddressWatcher),
runner.py (run_test), capture.py (Capture), keepalived_lab.py (Keepalived).

Naming: every namespace is "nl-<test>-<pid>-<short>" ("<short>" = "sw" for the
switch), the temp dir /tmp/nl-<test>-<pid>-XXXX. A leftover lab of the same
test name whose pid is no longer alive (a crashed or SIGKILLed run: its
processes, namespaces, temp dir) is removed when a new Lab starts; labs of
other tests or of live runs are never touched.

Cleanup (objects in lab.stoppables; processes by pid: SIGTERM, then
SIGKILL; then whatever is still inside our namespaces, by pid; then the
namespaces; then the temp dir) runs on leaving the `with`, on exceptions, on
SIGINT/SIGTERM/SIGHUP (turned into exceptions while a Lab is open) and from
atexit. On failure the process logs are dumped to stderr; set
NETLAB_KEEP_TMP=1 to keep the temp dir.

Addresses: only 198.51.100.0/24 and 2001:db8:100::/64 are accepted.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Sequence

from processes import (LabError, Proc, kill_ns_pids, log, pid_alive, reap_adopted, reap_orphans,
                       run, tail, wait_until)

ALLOWED_NETS = (ipaddress.ip_network("198.51.100.0/24"),
                ipaddress.ip_network("2001:db8:100::/64"))
IFNAME = "eth0"
BRIDGE = "br0"

TMP_ROOT = tempfile.gettempdir()


# --------------------------------------------------------------------------
# addresses

def check_address(addr: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse 'a.b.c.d[/len]' or 'v6[/len]' and refuse anything outside the lab ranges."""
    iface = ipaddress.ip_interface(addr)
    if not any(iface.ip in net for net in ALLOWED_NETS):
        raise LabError(f"address {addr} is outside the lab ranges "
                       f"{', '.join(map(str, ALLOWED_NETS))}")
    return iface


def bare(addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """'198.51.100.1/24' -> IPv4Address('198.51.100.1')."""
    return ipaddress.ip_interface(addr).ip


# --------------------------------------------------------------------------
# hosts

class Host:
    """One network namespace with eth0 plugged into the lab bridge."""

    def __init__(self, lab: "Lab", short: str, ns: str, swport: str):
        self.lab, self.short, self.ns, self.swport = lab, short, ns, swport
        self.ifname = IFNAME
        self.mac = ""
        self.ipv4: str | None = None      # with prefix length, e.g. 198.51.100.11/24
        self.ipv6: str | None = None      # with prefix length
        self.link_local: str | None = None  # fe80::... without prefix length

    def __repr__(self):
        return f"Host({self.short!r}, ns={self.ns})"

    # -- commands
    def argv(self, cmd: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *cmd]

    def run(self, cmd: Sequence[str] | str, check: bool = True, timeout: float = 15,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run cmd (list, or a string split on whitespace) inside this namespace."""
        if isinstance(cmd, str):
            cmd = cmd.split()
        return run(self.argv(cmd), check=check, timeout=timeout, input=input)

    def spawn(self, cmd: Sequence[str], log_name: str | None = None,
              env: dict | None = None) -> Proc:
        """Start cmd in the background in this namespace, stdout+stderr to a log
        file in the lab's temp dir (or to `log_name` if it is an absolute path).
        The process is tracked by the lab and stopped by pid at teardown."""
        return self.lab._spawn(self, list(cmd), log_name, env)

    # -- addresses
    def addresses(self, dev: str | None = None) -> list[dict]:
        """[{'family','local','prefixlen','scope','flags':[...]}...] of `dev` (eth0)."""
        out = self.run(["ip", "-j", "addr", "show", "dev", dev or self.ifname]).stdout
        result = []
        for link in json.loads(out or "[]"):
            for a in link.get("addr_info", []):
                flags = [k for k in ("tentative", "dadfailed", "deprecated",
                                     "secondary", "nodad") if a.get(k)]
                result.append({"family": a.get("family"), "local": a.get("local"),
                               "prefixlen": a.get("prefixlen"), "scope": a.get("scope"),
                               "flags": flags})
        return result

    def has_address(self, addr: str, usable: bool = True) -> bool:
        """True if addr (prefix length ignored) is on eth0 (and, if usable, not
        tentative/dadfailed)."""
        want = bare(addr)
        for a in self.addresses():
            if a["local"] and ipaddress.ip_address(a["local"]) == want:
                return not (usable and ({"tentative", "dadfailed"} & set(a["flags"])))
        return False

    def add_address(self, addr: str) -> None:
        iface = check_address(addr)
        cmd = ["ip", "addr", "add", str(iface), "dev", self.ifname]
        if iface.version == 6:
            cmd.append("nodad")
        self.run(cmd)

    def del_address(self, addr: str) -> None:
        self.run(["ip", "addr", "del", str(ipaddress.ip_interface(addr)), "dev", self.ifname])

    # -- link
    def link_down(self) -> None:
        """Simulate a dead server: eth0 down in the host and its port down in the switch."""
        self.run(["ip", "link", "set", self.ifname, "down"])
        self.lab.switch.run(["ip", "link", "set", self.swport, "down"])

    def link_up(self, timeout: float = 5) -> None:
        self.lab.switch.run(["ip", "link", "set", self.swport, "up"])
        self.run(["ip", "link", "set", self.ifname, "up"])
        self._wait_addresses(timeout)

    def _wait_addresses(self, timeout: float) -> None:
        want = [a for a in (self.ipv4, self.ipv6, self.link_local) if a]
        wait_until(lambda: all(self.has_address(a) for a in want), timeout,
                   what=f"{self.short}: addresses {want} present and not tentative "
                        f"(have {self.addresses()})")

    # -- reachability
    def ping(self, addr: str, count: int = 1, timeout_s: float = 1) -> bool:
        """ping from this host; True if at least one reply came back."""
        a = str(bare(addr))
        cmd = ["ping", "-n", "-q", "-c", str(count), "-W", f"{timeout_s:g}", "-i", "0.2"]
        if ipaddress.ip_address(a).is_link_local:
            a += f"%{self.ifname}"
        cp = self.run(cmd + [a], check=False, timeout=count * (timeout_s + 1) + 5)
        return cp.returncode == 0

    def neigh_mac(self, addr: str) -> str | None:
        """Link-layer address of this host's neighbour entry for addr (or None)."""
        a = str(bare(addr))
        out = self.run(["ip", "-j", "neigh", "show", "to", a, "dev", self.ifname]).stdout
        for n in json.loads(out or "[]"):
            if n.get("lladdr") and "FAILED" not in n.get("state", []):
                return n["lladdr"].lower()
        return None

    def flush_neigh(self) -> None:
        self.run(["ip", "neigh", "flush", "dev", self.ifname])


# --------------------------------------------------------------------------
# the lab

_open_labs: list["Lab"] = []
_signals_installed: dict[int, object] = {}


def _signal_to_exception(signum, frame):
    name = signal.Signals(signum).name
    if signum == signal.SIGINT:
        raise KeyboardInterrupt(f"got {name}")
    raise SystemExit(128 + signum)


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if s not in _signals_installed:
            _signals_installed[s] = signal.signal(s, _signal_to_exception)


def _restore_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for s, old in list(_signals_installed.items()):
        signal.signal(s, old)
        del _signals_installed[s]


@atexit.register
def _atexit_cleanup():
    for lab in list(_open_labs):
        lab.close()


class Lab:
    """A switch namespace with bridge br0 plus hosts; context manager."""

    def __init__(self, name: str):
        if os.geteuid() != 0:
            raise LabError("netlab needs root (network namespaces); running as uid "
                           f"{os.geteuid()}")
        self.name = re.sub(r"[^A-Za-z0-9_]", "_", name)[:24]
        # A second Lab of the same name in one process gets "<pid>x<n>".
        n = sum(1 for lab in _open_labs if lab.name == self.name)
        self.prefix = f"nl-{self.name}-{os.getpid()}" + (f"x{n}" if n else "")
        self.tmpdir = ""
        self.namespaces: list[str] = []
        self.hosts: dict[str, Host] = {}
        self.procs: list[Proc] = []
        self.stoppables: list = []      # objects with .stop() (Keepalived, Capture, ...)
        self.closed = True
        self.failed = False
        self.switch: Host | None = None

    # -- lifecycle
    def __enter__(self):
        self.open()
        return self

    def __exit__(self, etype, exc, tb):
        if etype is not None:
            self.failed = True
            log(f"lab {self.prefix} failing: {etype.__name__}: {exc}")
        self.close()
        return False

    def open(self) -> "Lab":
        _install_signal_handlers()
        _open_labs.append(self)
        self.closed = False
        try:
            self._remove_leftovers()
            self.tmpdir = tempfile.mkdtemp(prefix=f"{self.prefix}-", dir=TMP_ROOT)
            sw = f"{self.prefix}-sw"
            self._add_ns(sw)
            self.switch = Host(self, "sw", sw, "")
            self.switch.ifname = BRIDGE
            s = self.switch.run
            s(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1"])
            s(["ip", "link", "set", "lo", "up"])
            s(["ip", "link", "add", BRIDGE, "type", "bridge", "stp_state", "0"])
            s(["ip", "link", "set", BRIDGE, "type", "bridge", "mcast_snooping", "0"])
            s(["ip", "link", "set", BRIDGE, "up"])
        except BaseException:
            self.failed = True
            self.close()
            raise
        threading.Thread(target=self._reap_adopted_servers, daemon=True,
                         name=f"{self.prefix}-reaper").start()
        log(f"lab {self.prefix} up (tmp {self.tmpdir})")
        return self

    def _reap_adopted_servers(self) -> None:
        """While the lab is open: servers that daemonized and exited do not
        stay zombies (processes.reap_adopted says why that matters)."""
        while not self.closed:
            try:
                reap_adopted({p.pid for lab in list(_open_labs) for p in list(lab.procs)})
            except Exception as e:   # a thread that died would leave zombies again
                log(f"reaper of {self.prefix}: {e!r}")
            time.sleep(0.5)

    def _add_ns(self, ns: str) -> None:
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)

    def _remove_leftovers(self) -> None:
        """Delete namespaces of earlier runs of this same test whose pid is dead."""
        pat = re.compile(rf"^nl-{re.escape(self.name)}-(\d+)(?:x\d+)?-")
        for ns in list_netns():
            m = pat.match(ns)
            if not m or int(m.group(1)) == os.getpid() or pid_alive(int(m.group(1))):
                continue
            log(f"removing leftover namespace {ns} of dead run pid {m.group(1)}")
            kill_ns_pids(ns)
            run(["ip", "netns", "del", ns], check=False)
        for d in os.listdir(TMP_ROOT):
            m = pat.match(d)
            if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
                log(f"removing leftover temp dir {TMP_ROOT}/{d} of dead run pid {m.group(1)}")
                shutil.rmtree(os.path.join(TMP_ROOT, d), ignore_errors=True)

    def add_host(self, short: str, ipv4: str | None = None, ipv6: str | None = None,
                 mac: str | None = None, timeout: float = 5) -> Host:
        """New namespace with eth0 on the bridge, lo up, addresses configured and
        usable (global IPv6 added nodad; DAD off on eth0 so the link-local is
        immediately usable; keep_addr_on_down so link_down/up keeps IPv6)."""
        if short in self.hosts or not re.fullmatch(r"[a-z][a-z0-9]{0,9}", short):
            raise LabError(f"host name {short!r} must be unique and match [a-z][a-z0-9]{{0,9}}")
        ns = f"{self.prefix}-{short}"
        swport = f"v-{short}"
        for a in (ipv4, ipv6):
            if a:
                check_address(a)
        self._add_ns(ns)
        h = Host(self, short, ns, swport)
        h.ipv4, h.ipv6 = ipv4, ipv6
        self.switch.run(["ip", "link", "add", swport, "type", "veth", "peer", "name",
                         IFNAME, "netns", ns])
        self.switch.run(["ip", "link", "set", swport, "master", BRIDGE])
        self.switch.run(["ip", "link", "set", swport, "up"])
        h.run(["ip", "link", "set", "lo", "up"])
        h.run(["sysctl", "-q", "-w",
               "net.ipv6.conf.all.accept_dad=0",
               f"net.ipv6.conf.{IFNAME}.disable_ipv6=0",
               f"net.ipv6.conf.{IFNAME}.accept_dad=0",
               f"net.ipv6.conf.{IFNAME}.keep_addr_on_down=1",
               f"net.ipv6.conf.{IFNAME}.accept_ra=0"])
        if mac:
            h.run(["ip", "link", "set", IFNAME, "address", mac])
        if ipv4:
            h.add_address(ipv4)
        if ipv6:
            h.add_address(ipv6)
        h.run(["ip", "link", "set", IFNAME, "up"])
        link = json.loads(h.run(["ip", "-j", "link", "show", "dev", IFNAME]).stdout)[0]
        h.mac = link["address"].lower()

        def link_local():
            for a in h.addresses():
                if a["family"] == "inet6" and a["scope"] == "link" and not a["flags"]:
                    return a["local"]
            return None
        h.link_local = wait_until(link_local, timeout,
                                  what=f"{short}: usable IPv6 link-local on {IFNAME}")
        h._wait_addresses(timeout)
        self.hosts[short] = h
        log(f"host {short}: ns {ns} mac {h.mac} {ipv4 or ''} {ipv6 or ''} "
            f"ll {h.link_local}")
        return h

    def path(self, name: str) -> str:
        """A file path in the lab's temp dir."""
        return os.path.join(self.tmpdir, name)

    def cut(self, a: Host, b: Host) -> None:
        """Frames between hosts a and b dropped at the bridge, both ways;
        each still reaches every other host. One cut at a time: heal()."""
        sw = self.switch
        sw.run(["nft", "add table bridge cut"])
        sw.run(["nft", "add chain bridge cut between { type filter hook forward priority 0 ; }"])
        for x, y in ((a, b), (b, a)):
            sw.run(["nft", f"add rule bridge cut between iifname {x.swport} oifname {y.swport} "
                           "drop"])

    def heal(self) -> None:
        """The cut made by cut() is gone."""
        self.switch.run(["nft", "delete table bridge cut"])

    def _spawn(self, host: Host, cmd: list[str], log_name: str | None,
               env: dict | None) -> Proc:
        if self.closed:
            raise LabError("spawn on a closed lab")
        name = log_name or os.path.basename(cmd[0])
        log_path = name if os.path.isabs(name) else self.path(f"{host.short}-{name}.log")
        argv = host.argv(cmd)
        with open(log_path, "ab") as logf:
            # Own session: a terminal ^C reaches only us; we stop children by pid.
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env=None if env is None else {**os.environ, **env})
        p = Proc(host, f"{host.short}/{name}", argv, log_path, popen)
        self.procs.append(p)
        return p

    def dump_logs(self, lines: int = 60) -> None:
        """Print the tail of every process log of this lab to stderr."""
        seen = set()
        paths = [(p.name, p.log_path) for p in self.procs]
        for obj in self.stoppables:
            paths += [(n, lp) for n, lp in getattr(obj, "logs", lambda: [])()]
        for name, lp in paths:
            if lp in seen:
                continue
            seen.add(lp)
            print(f"----- log of {name} ({lp}), last {lines} lines -----\n"
                  f"{tail(lp, lines)}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Tear everything down; idempotent, never raises, ignores ^C while running."""
        if self.closed:
            return
        self.closed = True
        main = threading.current_thread() is threading.main_thread()
        old = {}
        if main:
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
                old[s] = signal.signal(s, signal.SIG_IGN)
        try:
            if self.failed:
                self.dump_logs()
            for obj in reversed(self.stoppables):
                try:
                    obj.stop()
                except Exception as e:  # keep cleaning
                    log(f"cleanup: stopping {obj!r} failed: {e}")
            for p in reversed(self.procs):
                try:
                    p.stop(timeout=3)
                except Exception as e:
                    log(f"cleanup: stopping {p!r} failed: {e}")
            for ns in reversed(self.namespaces):
                kill_ns_pids(ns)
                cp = run(["ip", "netns", "del", ns], check=False)
                if cp.returncode != 0:
                    log(f"cleanup: ip netns del {ns} failed: {cp.stderr.strip()}")
            self.namespaces.clear()
            reap_orphans({p.pid for lab in _open_labs for p in lab.procs if p.alive()})
            if self.tmpdir:
                if os.environ.get("NETLAB_KEEP_TMP"):
                    log(f"keeping {self.tmpdir} (NETLAB_KEEP_TMP)")
                else:
                    shutil.rmtree(self.tmpdir, ignore_errors=True)
        except BaseException:
            traceback.print_exc()
        finally:
            if self in _open_labs:
                _open_labs.remove(self)
            if main:
                for s, h in old.items():
                    signal.signal(s, h)
                if not _open_labs:
                    _restore_signal_handlers()
            log(f"lab {self.prefix} cleaned up")


def list_netns() -> list[str]:
    out = run(["ip", "-j", "netns", "list"], check=False).stdout
    try:
        return [n["name"] for n in json.loads(out or "[]")]
    except ValueError:
        return []

