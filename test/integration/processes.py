"""processes: the basics every harness module uses, and processes.

    LabError                 a harness failure; the message says what was expected
    log(msg)                 "[netlab HH:MM:SS] msg" on stderr
    wait_until(pred, timeout, step, what) -> pred's truthy value, else LabError
    timed(label)             with timed() as t: ... ; t.ms, t.seconds
    run(argv, check, timeout, input) -> CompletedProcess (LabError on timeout / exit != 0)
    Proc                     a process a lab spawned: .pid .alive() .kill(sig)
                             .stop(timeout) .wait(t) .log_text() .log_tail()
    /proc readers            pid_alive(pid), cmdline(pid), proc_state(pid) -> (state, ppid),
                             children(pid), exited(pid), processes_under(dir), tail(path)
    cleanup by pid           kill_ns_pids(ns) (whatever is left inside a namespace),
                             reap_orphans(tracked) (zombies adopted as subreaper)
                             reap_adopted(tracked) (adopted servers' zombies only)

Stdlib only (Python 3.11). Nothing here kills by name: only pids we started,
or pids found inside a namespace we created.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from typing import Callable, Sequence


class LabError(AssertionError):
    """A harness-level failure; the message says what was expected and what happened."""


def log(msg: str) -> None:
    print(f"[netlab {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_until(pred: Callable[[], object], timeout: float, step: float = 0.01,
               what: str | Callable[[], str] | None = None):
    """Poll pred() until it returns a truthy value; return that value.

    Raises LabError naming `what` (or pred's name) and pred's last value after
    `timeout` seconds; a callable `what` is asked then, so that it can
    describe the state at the timeout (a log tail, say), not at the start.
    Exceptions raised by pred propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            desc = (what() if callable(what) else what) or getattr(pred, "__name__", "condition")
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


def run(argv: Sequence[str], check: bool = True, timeout: float = 15,
        input: str | None = None) -> subprocess.CompletedProcess:
    """Run argv to its end, output captured as text."""
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


# --------------------------------------------------------------------------
# /proc

def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_state(pid: int) -> tuple[str, int] | None:
    """(state letter, ppid) from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # "pid (comm) state ppid ..."; comm may contain spaces and parentheses
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children(pid: int) -> list[int]:
    """Pids whose parent is pid."""
    return [c for c in _all_pids() if (st := proc_state(c)) and st[1] == pid]


def exited(pid: int) -> bool:
    """True once pid has exited (gone, or a zombie)."""
    st = proc_state(pid)
    return st is None or st[0] in ("Z", "X")


def processes_under(directory: str) -> list[str]:
    """"PID CMDLINE" of the processes (any namespace) whose cwd is directory
    or below it."""
    out = []
    for pid in _all_pids():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == directory or cwd.startswith(directory + "/"):
            out.append(f"{pid} {' '.join(cmdline(pid))}")
    return out


def tail(path: str, lines: int = 80) -> str:
    try:
        with open(path, errors="replace") as f:
            data = f.readlines()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "".join(data[-lines:])


# --------------------------------------------------------------------------
# processes a lab started

class Proc:
    """A process started by Host.spawn (a direct child, so its pid cannot be
    reused while we hold it). Stopped by pid at lab teardown."""

    def __init__(self, host, name: str, argv: list[str], log_path: str,
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
        return tail(self.log_path, lines)


# --------------------------------------------------------------------------
# cleanup by pid

# Processes that daemonize inside a lab (pg_ctl start in a hook, keepalived's
# children) would be re-parented to the machine's PID 1, which here may not
# reap them: make the test process their parent instead, and reap them at
# teardown, so no zombie outlives the test.
_PR_SET_CHILD_SUBREAPER = 36
try:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
except (OSError, AttributeError):
    pass


def reap_orphans(tracked: set[int]) -> None:
    """Reap exited children that nobody waits for (orphans adopted as
    subreaper); the `tracked` pids (children a Popen still waits for) are
    left to it."""
    for pid in children(os.getpid()):
        if pid not in tracked and exited(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


# A server that daemonized in a lab (pg_ctl start in a hook or a script,
# the postmaster Patroni starts) was adopted by this process when its
# parent exited; once it exits, only we can reap it, and a supervisor that
# waits for it to be gone (Patroni stopping its server before pg_rewind)
# waits on the zombie for ever. These names are only ever such servers: the
# short-lived commands this process runs itself (ip, psql, pg_ctl, nft)
# are waited for by their subprocess call and never bear them.
ADOPTED_SERVERS = ("postgres",)


def reap_adopted(tracked: set[int], names: tuple[str, ...] = ADOPTED_SERVERS) -> None:
    """Reap zombie children named `names` that no Popen of ours tracks."""
    for pid in children(os.getpid()):
        st = proc_state(pid)   # once: a pid may go between two reads
        if pid in tracked or st is None or st[0] != "Z":
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name in names:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def kill_ns_pids(ns: str) -> None:
    """SIGTERM, then SIGKILL, every process still inside namespace ns (by pid)."""
    def pids():
        out = run(["ip", "netns", "pids", ns], check=False).stdout
        return [int(x) for x in out.split() if x.isdigit() and int(x) != os.getpid()]
    left = pids()
    if not left:
        return
    log(f"cleanup: processes still in {ns}: "
        + ", ".join(f"{p} {' '.join(cmdline(p))[:60]!r}" for p in left))
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
