"""writer: the one way the harness writes to PostgreSQL from a client, for
the tests, the demo and the benchmark: test/tools/vip_writer (a libpq client
in C++) run in the client's namespace, its output lines read back as
WriteResult objects (start/end in time.monotonic() terms: vip_writer prints
CLOCK_MONOTONIC).

    w = Writer(cl, ["198.51.100.100"]).start()   # an INSERT every 50 ms
    w.wait_acknowledged(5); ...; w.stop()
    w.results ; w.acknowledged_ids() ; w.outages() ; w.summary()
    Writer(cl, [VIP], **FAST)                    # every 10 ms, ms deadlines
    r = probe_write(cl, [p, s], "note")          # one INSERT -> WriteResult
    check_no_lost_writes(w, node)

Every attempt INSERTs a row into pglab's `writes` table (note "NOTE SEQ") on
a fresh connection (keep=True: on the session the last attempt left healthy,
a new one when none is idle; a session that broke or timed out is closed),
up to max_inflight attempts at once, so that one stuck in a TCP SYN
retransmit (sent to a MAC that no longer holds the VIP) cannot hide when the
VIP works again. Targets are PgNodes or numeric addresses; more than one means libpq's
`host=A,B target_session_attrs=read-write`.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Sequence

from netlab import Host
from pglab import PG_USER, PORT, PgNode
from processes import LabError, Proc, wait_until

VIP_WRITER_BIN = os.environ.get("VIP_WRITER_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "test", "vip_writer")

# The benchmark's pace: an attempt every 10 ms, with millisecond deadlines.
# Writer's own defaults are a psql client's (connect_timeout=1, which libpq
# makes 2 s, and a 3 s statement_timeout) at an attempt every 50 ms.
FAST = {"interval": 0.01, "connect_timeout": 0.5, "statement_timeout": 1.0}


@dataclasses.dataclass
class WriteResult:
    start: float                 # time.monotonic() before the attempt
    end: float                   # and after it
    ok: bool                     # the INSERT's commit was acknowledged
    id: int | None = None        # writes.id of the acknowledged row
    server_addr: str | None = None  # inet_server_addr() (the address we reached)
    server: str | None = None    # the node's name (cluster_name minus the lab prefix)
    error: str = ""
    note: str | None = None      # writes.note of the row: unique across a split brain


def target_hosts(targets: Sequence[PgNode | str]) -> str:
    return ",".join(t.addr if isinstance(t, PgNode) else str(t) for t in targets)


def parse_line(line: str, note: str) -> WriteResult | None:
    """One vip_writer output line -> WriteResult (None if it is not one).
    vip_writer's rows say "NOTE SEQ" in writes.note."""
    f = line.rstrip("\n").split("\t")
    if len(f) < 7 or not f[0].isdigit():
        return None
    start, end = int(f[1]) / 1e9, int(f[2]) / 1e9
    if f[3] == "ok":
        return WriteResult(start, end, True, int(f[4]), f[5], f[6].split("-")[-1],
                           note=f"{note} {f[0]}")
    return WriteResult(start, end, False, error=f[7] if len(f) > 7 else "")


def _row_note(note: str) -> str:
    return note.replace("'", "").replace("\\", "")


def _command(targets: Sequence[PgNode | str], note: str, interval: float,
             connect_timeout: float, statement_timeout: float,
             options: Sequence[str] = (), user: str = PG_USER,
             port: int = PORT) -> list[str]:
    """vip_writer's command line; `options` go before the conninfo."""
    if not os.access(VIP_WRITER_BIN, os.X_OK):
        raise LabError(f"vip_writer not built at {VIP_WRITER_BIN} (set VIP_WRITER_BIN)")
    # sslmode=disable: the lab has no TLS, and a refused SSLRequest costs
    # a round trip per attempt.
    dsn = (f"host={target_hosts(targets)} port={port} user={user} "
           f"dbname=postgres sslmode=disable application_name=vip_writer"
           + (" target_session_attrs=read-write" if len(targets) > 1 else ""))
    argv = [os.path.abspath(VIP_WRITER_BIN),
            "--interval-ms", f"{interval * 1000:g}",
            "--connect-timeout-ms", f"{connect_timeout * 1000:g}",
            "--statement-timeout-ms", f"{statement_timeout * 1000:g}",
            "--note", note, *options]
    return argv + [dsn]


def probe_write(client: Host, targets: Sequence[PgNode | str], note: str = "",
                connect_timeout: float = 2.0, statement_timeout: float = 3.0) -> WriteResult:
    """One INSERT into writes from client (vip_writer --count 1, run to its
    end); the deadlines keep a hung server from blocking."""
    note = _row_note(note)
    argv = _command(targets, note, 1.0, connect_timeout, statement_timeout, ["--count", "1"])
    t0 = time.monotonic()
    try:
        cp = client.run(argv, check=False, timeout=connect_timeout + statement_timeout + 5)
    except LabError as e:
        return WriteResult(t0, time.monotonic(), False, error=str(e)[:200])
    results = [r for r in (parse_line(ln, note) for ln in cp.stdout.splitlines()) if r]
    if len(results) != 1:
        return WriteResult(t0, time.monotonic(), False,
                           error=f"vip_writer exited {cp.returncode} with {cp.stdout!r}: "
                                 f"{cp.stderr.strip()[:200]}")
    return results[0]


class Writer:
    """vip_writer in the background, its lines tailed into .results.
    Registered with the lab, stopped before the servers at teardown."""

    runs = 0

    def __init__(self, client: Host, targets: Sequence[PgNode | str],
                 interval: float = 0.05, note: str = "writer", keep: bool = False,
                 connect_timeout: float = 2.0, statement_timeout: float = 3.0,
                 max_inflight: int = 64, user: str = PG_USER, port: int = PORT):
        """user: the role it connects as (the lab's superuser by default;
        an application's role leaves superuser_reserved_connections free);
        port: the targets' (a proxy's, say pgpool's, rather than PostgreSQL's)."""
        self.client, self.targets, self.interval = client, list(targets), interval
        self.user, self.port = user, port
        self.note = _row_note(note)
        self.keep, self.max_inflight = keep, max_inflight
        self.connect_timeout, self.statement_timeout = connect_timeout, statement_timeout
        self.proc: Proc | None = None
        self.out = ""
        self.results: list[WriteResult] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        client.lab.stoppables.append(self)

    def __repr__(self):
        return f"Writer({self.client.short} -> {target_hosts(self.targets)})"

    def start(self) -> "Writer":
        Writer.runs += 1
        name = f"vip_writer-{self.client.short}-{Writer.runs}"
        self.out = self.client.lab.path(name + ".out")
        open(self.out, "w").close()
        options = ["--max-inflight", str(self.max_inflight), "--out", self.out]
        if self.keep:
            options.append("--keep")
        self.proc = self.client.spawn(
            _command(self.targets, self.note, self.interval, self.connect_timeout,
                     self.statement_timeout, options, self.user, self.port), name)
        self._thread = threading.Thread(target=self._loop, daemon=True, name=repr(self))
        self._thread.start()
        return self

    def _loop(self):
        """Tail the output file into self.results until stop() and the writer exited."""
        with open(self.out) as f:
            partial = ""
            while True:
                done = self._stop.is_set() and not self.proc.alive()
                chunk = f.read()
                if chunk:
                    lines = (partial + chunk).split("\n")
                    partial = lines.pop()
                    parsed = [r for r in (parse_line(ln, self.note) for ln in lines) if r]
                    with self._lock:
                        self.results.extend(parsed)
                elif done:
                    return
                else:
                    time.sleep(0.005)

    def stop(self) -> None:
        """SIGTERM: no new attempts; the ones in flight finish or hit their
        deadline, then vip_writer exits and the last lines are read."""
        if self.proc and self.proc.alive():
            self.proc.stop(timeout=self.connect_timeout + self.statement_timeout + 5)
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        with self._lock:
            self.results.sort(key=lambda r: r.start)

    def acknowledged_ids(self) -> list[int]:
        return [r.id for r in self.results if r.ok]

    def wait_acknowledged(self, count: int, timeout: float = 10, server: str | None = None):
        """Wait for `count` more acknowledged writes (served by `server` if given)."""
        def acked():
            return sum(1 for r in self.results if r.ok and server in (None, r.server))
        want = acked() + count
        wait_until(lambda: acked() >= want, timeout, step=0.02,
                   what=f"{count} acknowledged writes from {self} "
                        f"{'to ' + server if server else ''} "
                        f"(last: {self.results[-1:]})")

    def outages(self) -> list[tuple[float, float]]:
        """(start, length in s) of every run of failed writes: from the end of the
        last acknowledged write before it to the end of the first one after, in
        the order they ended. (In the order they started, an attempt whose SYN
        was lost while the VIP moved and that succeeded on TCP's retransmission
        a second later stood for the end of the outage, though writes started
        after it had long been acknowledged: the demo reported 1.3 s for a
        0.4 s outage.)"""
        out, last_ok, failing = [], None, False
        for r in sorted(self.results, key=lambda r: r.end):
            if r.ok:
                if failing and last_ok is not None:
                    out.append((last_ok, r.end - last_ok))
                last_ok, failing = r.end, False
            else:
                failing = True
        return out

    def summary(self) -> str:
        ok = sum(r.ok for r in self.results)
        by = {}
        for r in self.results:
            if r.ok:
                by[r.server] = by.get(r.server, 0) + 1
        gaps = [round(g, 3) for _, g in self.outages()]
        return (f"{len(self.results)} writes, {ok} acknowledged {by}, "
                f"outages (s) {gaps}")


def check_no_lost_writes(writer: Writer, node: PgNode) -> int:
    """Every id the writer saw acknowledged must be in node's writes table.
    Returns the number of acknowledged ids checked."""
    acked = set(writer.acknowledged_ids())
    have = {int(x) for x in node.psql("SELECT id FROM writes").split()}
    lost = sorted(acked - have)
    if lost:
        raise LabError(f"{len(lost)} acknowledged writes missing on {node}: "
                       f"{lost[:20]}{' ...' if len(lost) > 20 else ''}")
    return len(acked)
