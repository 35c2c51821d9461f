"""The two-primaries probe: "never two writable primaries" (DESIGN.md),
checked from the client over the servers' real IPs.

Every ~100 ms it asks each server, all at once, whether it takes writes
(not in recovery, not read-only) and at what time by the server's own clock
(the namespaces share the machine's clock). A sample is not a snapshot: the
answers of one sample may be hundreds of ms apart on a loaded machine, and
"n1 writable, then n2 writable" is what every failover looks like. So the
probe only reports what its answers prove:

    server A writable at t1 and at t3, never seen otherwise in between,
    and server B writable at t2, t1 < t2 < t3.

A split brain that lasts two of A's answers is therefore seen; a shorter one
may not be (the write checks of the tests cover lost writes separately).
"""
from __future__ import annotations

import bisect
import dataclasses
import os
import select
import subprocess
import threading
import time

from pglab import PG_BIN, PgNode
from processes import LabError, log

QUERY = ("SELECT current_setting('transaction_read_only') = 'off' AND NOT pg_is_in_recovery(), "
         "extract(epoch FROM clock_timestamp())")


@dataclasses.dataclass
class Answer:
    writable: bool | None   # None: no answer (refused, timed out, not running)
    start: float            # wall clock: the server's time of the answer, or
    end: float              # without one, the client's window around the attempt


@dataclasses.dataclass
class WritableRun:
    """A stretch where a server answered writable each time it was asked."""
    first: float
    last: float


def writable_runs(answers: list[Answer]) -> list[WritableRun]:
    """Consecutive writable answers, split by any other answer that may fall
    between them (an unanswered attempt's whole window counts)."""
    runs: list[WritableRun] = []
    others = sorted((a for a in answers if a.writable is not True), key=lambda a: a.start)
    for a in sorted((a for a in answers if a.writable), key=lambda a: a.start):
        if runs and not any(o.start <= a.start and o.end >= runs[-1].last for o in others):
            runs[-1].last = a.start
        else:
            runs.append(WritableRun(a.start, a.start))
    return runs


def overlaps(answers: dict[str, list[Answer]]) -> list[tuple[str, WritableRun, str, float]]:
    """(a, run of a, b, time b was writable inside that run), for every pair."""
    found = []
    for a, a_answers in answers.items():
        for run in writable_runs(a_answers):
            for b, b_answers in answers.items():
                if b == a:
                    continue
                times = sorted(x.start for x in b_answers if x.writable)
                i = bisect.bisect_right(times, run.first)
                if i < len(times) and times[i] < run.last:
                    found.append((a, run, b, times[i]))
    return found


class PsqlSession:
    """One psql kept open to a server, asked one query at a time. A session
    costs the server a backend process once, not every 100 ms: on a machine
    where a process start costs ~20 ms, psql per sample was a steady load
    that slowed the failover it watched. A session that broke, or missed its
    deadline, is dropped; the next question opens a new one."""

    def __init__(self, client, node: PgNode, deadline: float = 2.0):
        self.client, self.node, self.deadline = client, node, deadline
        self.proc: subprocess.Popen | None = None

    def ask(self, query: str) -> str | None:
        """The first line of the answer, or None (no server, broken, too slow)."""
        try:
            if self.proc is None or self.proc.poll() is not None:
                self.close()
                dsn = (f"host={self.node.addr} port={self.node.port} user=postgres "
                       "dbname=postgres connect_timeout=1")
                self.proc = subprocess.Popen(
                    self.client.argv([os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", "-q",
                                      "-d", dsn, "-f", "-"]),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, bufsize=0)
            self.proc.stdin.write(query.encode() + b";\n")
            line = self._read_line(time.monotonic() + self.deadline)
        except (OSError, ValueError):
            line = None
        if line is None:
            self.close()
        return line

    def _read_line(self, until: float) -> str | None:
        out = self.proc.stdout
        buf = b""
        while not buf.endswith(b"\n"):
            left = until - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                return None
            chunk = os.read(out.fileno(), 4096)
            if not chunk:
                return None
            buf += chunk
        return buf.decode(errors="replace").splitlines()[0].strip()

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()
        self.proc = None


class TwoPrimariesProbe:
    """Runs from start to check(); check() raises on a proven overlap."""

    def __init__(self, lab, client, nodes: list[PgNode], interval: float = 0.1):
        self.client, self.nodes, self.interval = client, nodes, interval
        self.samples = 0
        self.answers: dict[str, list[Answer]] = {n.host.short: [] for n in nodes}
        self._sessions = {n.host.short: PsqlSession(client, n) for n in nodes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        lab.stoppables.append(self)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            askers = [threading.Thread(target=self._ask, args=(n,)) for n in self.nodes]
            for t in askers:
                t.start()
            for t in askers:
                t.join()
            self.samples += 1
            self._stop.wait(self.interval)

    def _ask(self, node: PgNode):
        t0 = time.time()
        answer = Answer(None, t0, t0)
        reply = self._sessions[node.host.short].ask(QUERY)
        if reply is not None:
            flag, _, at = reply.partition("|")
            try:
                answer = Answer(flag == "t", float(at), float(at))
            except ValueError:
                pass
        if answer.writable is None:
            answer.end = time.time()
        self.answers[node.host.short].append(answer)

    @property
    def violations(self) -> list[tuple[str, WritableRun, str, float]]:
        return overlaps(self.answers)

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        for session in self._sessions.values():
            session.close()

    def check(self):
        self.stop()
        found = self.violations
        if found:
            a, run, b, t = found[0]
            raise LabError(f"two servers accepted writes: {b} answered writable at {t:.3f} "
                           f"while {a} was writable from {run.first:.3f} to {run.last:.3f} "
                           f"({len(found)} such overlaps in {self.samples} samples)")
        writable = {k: sum(1 for a in v if a.writable) for k, v in self.answers.items()}
        log(f"two-primaries probe: {self.samples} samples (writable answers {writable}), "
            "never two writable servers")
