"""FastWriter: pglab's Writer, but the writes come from test/tools/vip_writer
(a libpq client in C++) running in the client's namespace: an INSERT every
10 ms, each on a fresh connection (keep=True: one connection, reopened after
an error), several attempts in flight, with millisecond connect and
statement deadlines. Its output lines become the same WriteResult objects
(start/end in time.monotonic() terms: vip_writer prints CLOCK_MONOTONIC),
so PgPair.write_outage(), wait_acknowledged() and check_no_lost_writes()
work with either writer.

    w = FastWriter(cl, ["198.51.100.100"]).start()
    w.wait_acknowledged(5); ...; w.stop(); w.outages()
"""
from __future__ import annotations

import os
import threading
import time
from typing import Sequence

from netlab import Host
from pglab import PG_USER, PORT, PgNode, WriteResult, Writer, _target_hosts
from processes import LabError, Proc

VIP_WRITER_BIN = os.environ.get("VIP_WRITER_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "test", "vip_writer")


def parse_line(line: str, note: str = "fast") -> WriteResult | None:
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


class FastWriter(Writer):
    runs = 0

    def __init__(self, client: Host, targets: Sequence[PgNode | str],
                 interval: float = 0.01, note: str = "fast", keep: bool = False,
                 connect_timeout: float = 0.5, statement_timeout: float = 1.0):
        super().__init__(client, targets, interval, note)
        self.keep = keep
        self.connect_timeout, self.statement_timeout = connect_timeout, statement_timeout
        self.proc: Proc | None = None
        self.out = ""
        self.row_note = note.replace("'", "").replace("\\", "")

    def __repr__(self):
        return f"FastWriter({self.client.short} -> {_target_hosts(self.targets)})"

    def start(self) -> "FastWriter":
        if not os.access(VIP_WRITER_BIN, os.X_OK):
            raise LabError(f"vip_writer not built at {VIP_WRITER_BIN} (set VIP_WRITER_BIN)")
        FastWriter.runs += 1
        name = f"vip_writer-{self.client.short}-{FastWriter.runs}"
        self.out = self.client.lab.path(name + ".out")
        open(self.out, "w").close()
        # sslmode=disable: the lab has no TLS, and a refused SSLRequest costs
        # a round trip per attempt.
        dsn = (f"host={_target_hosts(self.targets)} port={PORT} user={PG_USER} "
               f"dbname=postgres sslmode=disable application_name=vip_writer"
               + (" target_session_attrs=read-write" if len(self.targets) > 1 else ""))
        argv = [os.path.abspath(VIP_WRITER_BIN), "--out", self.out,
                "--interval-ms", f"{self.interval * 1000:g}",
                "--connect-timeout-ms", f"{self.connect_timeout * 1000:g}",
                "--statement-timeout-ms", f"{self.statement_timeout * 1000:g}",
                "--note", self.row_note]
        if self.keep:
            argv.append("--keep")
        self.proc = self.client.spawn(argv + [dsn], name)
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
                    parsed = [r for r in (parse_line(l, self.row_note) for l in lines) if r]
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
