"""netlab: a small network-namespace lab for pgvrrpd integration tests.

Stdlib only (Python 3.11), must run as root. Everything the tests start runs
inside namespaces created here, never in the machine's own namespace:

    with Lab("harness") as lab:                  # switch ns with bridge br0
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24",
                          ipv6="2001:db8:100::11/64")
        n1.run(["ip", "addr"])                   # ip netns exec NS ...
        p = n1.spawn(["sleep", "100"], "sleep")  # Proc, killed by pid at exit
        w = AddressWatcher(n1, "198.51.100.100") # netlink, ms timestamps
        t = w.wait_present(5)                    # time.monotonic() of appearance

API in short:
  Lab(name)            .add_host(short, ipv4, ipv6, mac) -> Host, .path(file),
                       .switch (Host for the switch ns), .dump_logs(), .close()
  Host                 .ns .ifname .mac .ipv4 .ipv6 .link_local
                       .run(cmd, check, timeout) .spawn(cmd, log_name) -> Proc
                       .addresses() .has_address(a) .add_address(a) .del_address(a)
                       .link_down() .link_up() .ping(a, count, timeout_s) -> bool
                       .neigh_mac(a) .flush_neigh()
  Proc                 .pid .alive() .kill(sig) .stop(timeout) .wait(t) .log_tail()
  AddressWatcher(h, a) .wait_present(t) / .wait_absent(t) -> monotonic time,
                       .events [(time, 'present'|'absent')]
  wait_until(pred, timeout, step, what) ; timed(label) -> .ms
  run_test(fn, timeout): a test script's main; exit 0 / 1 / 77 (not root)

Packet capture (Capture, decode_check, read_fields) is in capture.py,
keepalived (Keepalived) in keepalived_lab.py.

Naming: every namespace is "nl-<test>-<pid>-<short>" ("<short>" = "sw" for the
switch), the temp dir /tmp/nl-<test>-<pid>-XXXX. A leftover lab of the same
test name whose pid is no longer alive (a crashed or SIGKILLed run: its
processes, namespaces, temp dir) is removed when a new Lab starts; labs of
other tests or of live runs are never touched.

Cleanup (processes by pid: SIGTERM, then SIGKILL; then whatever is still
inside our namespaces, by pid; then the namespaces; then the temp dir) runs on
leaving the `with`, on exceptions, on SIGINT/SIGTERM/SIGHUP (turned into
exceptions while a Lab is open) and from atexit. On failure the process logs
are dumped to stderr; set NETLAB_KEEP_TMP=1 to keep the temp dir.

Addresses: only 198.51.100.0/24 and 2001:db8:100::/64 are accepted.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Callable, Sequence

ALLOWED_NETS = (ipaddress.ip_network("198.51.100.0/24"),
                ipaddress.ip_network("2001:db8:100::/64"))
IFNAME = "eth0"
BRIDGE = "br0"

TMP_ROOT = tempfile.gettempdir()
SKIP = 77  # exit code ctest treats as "skipped" (SKIP_RETURN_CODE)


class LabError(AssertionError):
    """A harness-level failure; the message says what was expected and what happened."""


def log(msg: str) -> None:
    print(f"[netlab {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# small helpers

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


def wait_until(pred: Callable[[], object], timeout: float, step: float = 0.01,
               what: str | None = None):
    """Poll pred() until it returns a truthy value; return that value.

    Raises LabError naming `what` (or pred's name) and pred's last value after
    `timeout` seconds. Exceptions raised by pred propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            desc = what or getattr(pred, "__name__", "condition")
            raise LabError(f"timed out after {timeout:g} s waiting for {desc} "
                           f"(last value: {value!r})")
        time.sleep(step)


class timed:
    """Context manager measuring wall time with time.monotonic().

        with timed("takeover") as t: ...
        print(t.ms)
    """

    def __init__(self, label: str = ""):
        self.label = label
        self.start = self.end = 0.0

    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.end = time.monotonic()
        return False

    @property
    def seconds(self) -> float:
        return (self.end or time.monotonic()) - self.start

    @property
    def ms(self) -> float:
        return self.seconds * 1000.0


def _run(argv: Sequence[str], check: bool = True, timeout: float = 15,
         input: str | None = None) -> subprocess.CompletedProcess:
    try:
        cp = subprocess.run(list(argv), capture_output=True, text=True,
                            timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        raise LabError(f"command {' '.join(argv)!r} did not finish within {timeout:g} s "
                       f"(stdout: {e.stdout!r}, stderr: {e.stderr!r})") from None
    if check and cp.returncode != 0:
        raise LabError(f"command {' '.join(argv)!r} was expected to exit 0, "
                       f"exited {cp.returncode}; stdout: {cp.stdout.strip()!r}; "
                       f"stderr: {cp.stderr.strip()!r}")
    return cp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _tail(path: str, lines: int = 80) -> str:
    try:
        with open(path, errors="replace") as f:
            data = f.readlines()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "".join(data[-lines:])


# --------------------------------------------------------------------------
# processes

class Proc:
    """A process started by Host.spawn (a direct child, so its pid cannot be
    reused while we hold it). Stopped by pid at lab teardown."""

    def __init__(self, host: "Host", name: str, argv: list[str], log_path: str,
                 popen: subprocess.Popen):
        self.host, self.name, self.argv = host, name, argv
        self.log_path, self.popen = log_path, popen
        self.pid = popen.pid

    def __repr__(self):
        return f"Proc({self.name!r}, pid={self.pid}, ns={self.host.ns})"

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to this pid only (no-op if it already exited)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise LabError(f"{self} was expected to exit within {timeout:g} s but is "
                           f"still running") from None

    def stop(self, timeout: float = 5.0, sig: int = signal.SIGTERM) -> int:
        """`sig` (SIGTERM), wait up to `timeout`, then SIGKILL. Returns the exit status."""
        if self.popen.poll() is None:
            self.kill(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self} ignored signal {sig} for {timeout:g} s, sending SIGKILL")
                self.kill(signal.SIGKILL)
                self.popen.wait(10)
        return self.popen.returncode

    def log_text(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, lines: int = 80) -> str:
        return _tail(self.log_path, lines)


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
        return _run(self.argv(cmd), check=check, timeout=timeout, input=input)

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
        log(f"lab {self.prefix} up (tmp {self.tmpdir})")
        return self

    def _add_ns(self, ns: str) -> None:
        _run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)

    def _remove_leftovers(self) -> None:
        """Delete namespaces of earlier runs of this same test whose pid is dead."""
        pat = re.compile(rf"^nl-{re.escape(self.name)}-(\d+)(?:x\d+)?-")
        for ns in list_netns():
            m = pat.match(ns)
            if not m or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
                continue
            log(f"removing leftover namespace {ns} of dead run pid {m.group(1)}")
            _kill_ns_pids(ns)
            _run(["ip", "netns", "del", ns], check=False)
        for d in os.listdir(TMP_ROOT):
            m = pat.match(d)
            if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
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
                  f"{_tail(lp, lines)}", file=sys.stderr, flush=True)

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
                _kill_ns_pids(ns)
                cp = _run(["ip", "netns", "del", ns], check=False)
                if cp.returncode != 0:
                    log(f"cleanup: ip netns del {ns} failed: {cp.stderr.strip()}")
            self.namespaces.clear()
            _reap_orphans()
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


# Processes that daemonize inside a lab (pg_ctl start in a hook, keepalived's
# children) would be re-parented to the machine's PID 1, which here may not
# reap them: make the test process their parent instead, and reap them at
# teardown, so no zombie outlives the test.
_PR_SET_CHILD_SUBREAPER = 36
try:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
except (OSError, AttributeError):
    pass


def _reap_orphans() -> None:
    """Reap exited children that nobody waits for (orphans adopted as
    subreaper); children still tracked by a Popen are left to it."""
    tracked = {p.pid for lab in _open_labs for p in lab.procs if p.alive()}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in tracked:
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            try:
                os.waitpid(int(d), os.WNOHANG)
            except ChildProcessError:
                pass


def list_netns() -> list[str]:
    out = _run(["ip", "-j", "netns", "list"], check=False).stdout
    try:
        return [n["name"] for n in json.loads(out or "[]")]
    except ValueError:
        return []


def _kill_ns_pids(ns: str) -> None:
    """SIGTERM, then SIGKILL, every process still inside namespace ns (by pid)."""
    def pids():
        out = _run(["ip", "netns", "pids", ns], check=False).stdout
        return [int(x) for x in out.split() if x.isdigit() and int(x) != os.getpid()]
    left = pids()
    if not left:
        return
    log(f"cleanup: processes still in {ns}: "
        + ", ".join(f"{p} {' '.join(_cmdline(p))[:60]!r}" for p in left))
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = [p for p in pids() if p in left]
        if not left:
            return


# --------------------------------------------------------------------------
# address watching via rtnetlink (opened inside the host's namespace)

_CLONE_NEWNET = 0x40000000
_RTM_NEWADDR, _RTM_DELADDR = 20, 21
_RTMGRP_IPV4_IFADDR, _RTMGRP_IPV6_IFADDR = 0x10, 0x100
_IFA_ADDRESS, _IFA_LOCAL, _IFA_FLAGS = 1, 2, 8
_IFA_F_DADFAILED, _IFA_F_TENTATIVE = 0x08, 0x40
_libc = ctypes.CDLL(None, use_errno=True)


def _netlink_socket_in(ns: str) -> socket.socket:
    """An rtnetlink socket subscribed to address events, created inside ns.
    setns() only moves the calling thread, so do it in a throwaway thread."""
    result: dict = {}

    def worker():
        try:
            with open(f"/run/netns/{ns}") as f:
                if _libc.setns(f.fileno(), _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({ns}): {os.strerror(err)}")
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((0, _RTMGRP_IPV4_IFADDR | _RTMGRP_IPV6_IFADDR))
            result["sock"] = s
        except BaseException as e:
            result["error"] = e
    t = threading.Thread(target=worker, name=f"setns-{ns}")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["sock"]


class AddressWatcher:
    """Records time.monotonic() whenever `addr` appears on / disappears from a
    host (any interface). Appearing means present and not tentative/dadfailed.

    Subscribes to rtnetlink inside the host's namespace *before* reading the
    current state, so no event between start and the first wait is lost.
    `events` is a list of (monotonic time, 'present'|'absent').
    """

    def __init__(self, host: Host, addr: str):
        self.host, self.addr = host, bare(addr)
        self.events: list[tuple[float, str]] = []
        self.raw: list[tuple[float, str, str, int]] = []  # (t, new|del, addr, flags)
        self._cond = threading.Condition()
        self._stop = False
        self._sock = _netlink_socket_in(host.ns)
        self._sock.settimeout(0.2)
        self.started = time.monotonic()
        self.present = host.has_address(str(self.addr))
        self.since = self.started
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"watch-{host.short}-{self.addr}")
        self._thread.start()
        host.lab.stoppables.append(self)

    def __repr__(self):
        return f"AddressWatcher({self.host.short}, {self.addr})"

    def _loop(self):
        while not self._stop:
            try:
                data = self._sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                break
            now = time.monotonic()
            for kind, a, flags in self._parse(data):
                self.raw.append((now, kind, str(a), flags))
                if a != self.addr:
                    continue
                usable = kind == "new" and not flags & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED)
                with self._cond:
                    if usable != self.present:
                        self.present, self.since = usable, now
                        self.events.append((now, "present" if usable else "absent"))
                        self._cond.notify_all()

    @staticmethod
    def _parse(data: bytes):
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                break
            if mtype in (_RTM_NEWADDR, _RTM_DELADDR):
                family, _plen, flags, _scope, _idx = struct.unpack_from("=BBBBI", data, off + 16)
                addr = local = None
                a = off + 16 + 8
                end = off + length
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    payload = data[a + 4:a + alen]
                    if atype in (_IFA_ADDRESS, _IFA_LOCAL) and family in (socket.AF_INET,
                                                                         socket.AF_INET6):
                        ip = ipaddress.ip_address(payload)
                        if atype == _IFA_LOCAL:
                            local = ip
                        else:
                            addr = ip
                    elif atype == _IFA_FLAGS and alen >= 8:
                        flags = struct.unpack_from("=I", payload)[0]
                    a += (alen + 3) & ~3
                ip = local or addr
                if ip is not None:
                    yield ("new" if mtype == _RTM_NEWADDR else "del"), ip, flags
            off += (length + 3) & ~3

    def _wait(self, want: bool, timeout: float) -> float:
        with self._cond:
            ok = self._cond.wait_for(lambda: self.present == want, timeout)
            if ok:
                return self.since
        state = "present" if want else "absent"
        raise LabError(
            f"{self.addr} was expected to be {state} on {self.host.short} ({self.host.ns}) "
            f"within {timeout:g} s but is not; state changes seen (s since watch start): "
            f"{[(round(t - self.started, 3), k) for t, k in self.events]}; "
            f"addresses now: {[a['local'] for a in self.host.addresses()]}")

    def wait_present(self, timeout: float) -> float:
        """Wait until addr is present; return the monotonic time it appeared
        (the watcher's start time if it was already there then)."""
        return self._wait(True, timeout)

    def wait_absent(self, timeout: float) -> float:
        """Wait until addr is absent; return the monotonic time it disappeared."""
        return self._wait(False, timeout)

    def stop(self):
        self._stop = True
        self._thread.join(2)
        self._sock.close()


# --------------------------------------------------------------------------
# running a test script

def run_test(fn: Callable[[], None], timeout: float = 240) -> None:
    """Run fn() as a test script's body and exit: 0 on success, 1 on failure
    (message printed), SKIP (77) if not root. A SIGALRM after `timeout`
    seconds fails the test while cleanup can still run (ctest's own TIMEOUT
    would SIGKILL us)."""
    name = os.path.basename(sys.argv[0])
    if os.geteuid() != 0:
        print(f"SKIP {name}: needs root for network namespaces", flush=True)
        sys.exit(SKIP)

    def on_alarm(signum, frame):
        raise LabError(f"test did not finish within its {timeout:g} s budget")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(timeout))
    t0 = time.monotonic()
    try:
        fn()
    except KeyboardInterrupt as e:
        print(f"FAIL {name}: interrupted ({e})", flush=True)
        sys.exit(130)
    except SystemExit as e:
        if e.code not in (0, None):
            print(f"FAIL {name}: terminated (exit {e.code})", flush=True)
        raise
    except BaseException as e:
        traceback.print_exc()
        print(f"FAIL {name}: {e}", flush=True)
        sys.exit(1)
    finally:
        signal.alarm(0)
    print(f"PASS {name} ({time.monotonic() - t0:.1f} s)", flush=True)
    sys.exit(0)
