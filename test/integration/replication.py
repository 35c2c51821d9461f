"""replication: building and changing a pair of pglab servers: a primary, its
streaming standby, promotion, lag, and the ways back (pg_rewind, else a new
pg_basebackup).

    with Lab("pg") as lab:
        p = make_primary(n1)                    # initdb, start, replicator, writes table
        s = make_standby(p, n2)                 # pg_basebackup, streaming
        p.stop("immediate"); promote(s)
        rewind_as_standby(p, s)                 # pg_rewind, else pg_basebackup

API in short:
  make_primary(host, name) ; make_standby(primary, host, name) -> PgNode
  promote(node) -> s ; wait_caught_up(primary, standby) -> s
  pause_replay(standby) ; resume_replay(standby)
  rewind_as_standby(old, new, fallback=True) -> "rewind" | "rebuild"
  rebuild_as_standby(old, new) ; writers(nodes) -> [nodes accepting writes]

Facts found by experiment (PostgreSQL 15.18, 2 vCPU, fsync=off):
- pg_basebackup 0.3-0.7 s, pg_rewind 0.3-0.8 s (including its own crash
  recovery of a SIGKILLed target); the upper ends on a loaded machine.
- pg_promote(wait => true) returns after ~120 ms because it polls every
  100 ms; the promotion itself is faster (a client's first write on the new
  primary came 40-80 ms after the old one was stopped).
- A freshly promoted server's pg_control still names the old timeline until
  its end-of-recovery checkpoint; pg_rewind against it then says "no rewind
  required" and the old primary can never follow. rewind_as_standby runs
  CHECKPOINT on the source first; the rejoin hook must do the same.
- Sequence values are not unique across a split brain: the stale primary and
  the promoted one hand out the same writes.id values; tell rows apart by
  content.
"""
from __future__ import annotations

import time
from typing import Sequence

from netlab import Host
from pglab import WRITES_TABLE, PgNode, format_lsn, pg_tool
from processes import LabError, log, wait_until


def make_primary(host: Host, name: str | None = None, **kw) -> PgNode:
    """initdb, start, create the replicator role and the writes table."""
    node = PgNode(host, name, **kw)
    node.start_seconds = node.start()
    node.psql("CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'replicator';\n"
              + WRITES_TABLE + ";")
    return node


def _basebackup(node: PgNode, source: PgNode) -> float:
    """pg_basebackup of source (over the bridge, as replicator, WAL streamed)
    into node's empty data directory, then configured as source's standby."""
    t0 = time.monotonic()
    node.run_as_postgres([pg_tool("pg_basebackup"), "-d", source.conninfo(user="replicator"),
                          "-D", node.datadir, "-X", "stream", "-c", "fast", "--no-sync"],
                         timeout=120)
    node.configure_standby(source)
    return time.monotonic() - t0


def make_standby(primary: PgNode, host: Host, name: str | None = None,
                 timeout: float = 30, **kw) -> PgNode:
    """A streaming standby of primary on host: pg_basebackup from primary's
    real IP, start, wait until pg_stat_wal_receiver shows streaming."""
    node = PgNode(host, name, init=False, **kw)
    node.basebackup_seconds = _basebackup(node, primary)
    node.start(timeout)
    node.wait_streaming(primary, timeout)
    return node


def promote(node: PgNode, timeout: int = 30) -> float:
    """SELECT pg_promote(wait => true); returns the seconds until it is a primary."""
    t0 = time.monotonic()
    out = node.psql(f"SELECT pg_promote(true, {timeout})", timeout=timeout + 5)
    if out != "t":
        raise LabError(f"pg_promote on {node} was expected to return t, got {out!r}; "
                       f"log:\n{node.log_tail(15)}")
    if node.is_in_recovery():
        raise LabError(f"{node} is still in recovery after pg_promote")
    return time.monotonic() - t0


def wait_caught_up(primary: PgNode, standby: PgNode, timeout: float = 30) -> float:
    """Wait until standby has replayed everything primary had written when
    called; returns the seconds waited."""
    t0 = time.monotonic()
    target = primary.lsn()
    wait_until(lambda: (standby.replay_lsn() or 0) >= target, timeout, step=0.02,
               what=f"{standby} to replay up to {format_lsn(target)}")
    return time.monotonic() - t0


def pause_replay(standby: PgNode, timeout: float = 10) -> None:
    """pg_wal_replay_pause(); returns once replay is actually paused."""
    standby.psql("SELECT pg_wal_replay_pause()")
    wait_until(lambda: standby.psql("SELECT pg_get_wal_replay_pause_state()") == "paused",
               timeout, step=0.02, what=f"{standby} replay to be paused")


def resume_replay(standby: PgNode) -> None:
    standby.psql("SELECT pg_wal_replay_resume()")


def writers(nodes: Sequence[PgNode]) -> list[PgNode]:
    """The nodes that accept writes (answer, and are not in recovery),
    whoever started their server: the lab, or a hook through pg_ctl."""
    return [n for n in nodes if n.psql("SELECT pg_is_in_recovery()", check=False) == "f"]


def rewind_as_standby(old: PgNode, new: PgNode, fallback: bool = True,
                      timeout: float = 60) -> str:
    """Rejoin old (a former primary) as a standby of new: stop it (fast) if
    running, CHECKPOINT on new, pg_rewind --source-server from new's real IP (pg_rewind first
    runs crash recovery itself if old was not shut down cleanly), then
    standby.signal + primary_conninfo, start, wait for streaming. If pg_rewind
    fails and fallback is set, rebuild with pg_basebackup instead. Returns
    "rewind" or "rebuild"; old.rewind_seconds (stop + pg_rewind),
    old.rejoin_seconds (until streaming) and old.rewind_output say more."""
    t0 = time.monotonic()
    old.stop("fast")
    # pg_rewind reads the source's timeline from its pg_control, which a
    # freshly promoted server only updates at the end-of-recovery checkpoint
    # (requested, not waited for, by the promotion). Without this CHECKPOINT
    # pg_rewind says "same timeline, no rewind required" and the old primary
    # can never follow (PostgreSQL 15 docs, pg_rewind Notes).
    new.psql("CHECKPOINT")
    cp = old.run_as_postgres([pg_tool("pg_rewind"), "--target-pgdata", old.datadir,
                              "--source-server", new.conninfo(), "--no-sync", "--progress"],
                             check=False, timeout=timeout)
    old.rewind_seconds = time.monotonic() - t0
    old.rewind_output = (cp.stdout + cp.stderr).strip()
    if cp.returncode != 0:
        if not fallback:
            raise LabError(f"pg_rewind of {old} from {new} failed ({cp.returncode}):\n"
                           f"{old.rewind_output}")
        log(f"pg_rewind of {old} failed ({cp.returncode}), rebuilding: "
            f"{old.rewind_output.splitlines()[-1:]}")
        rebuild_as_standby(old, new, timeout)
        old.rejoin_seconds = time.monotonic() - t0
        return "rebuild"
    old.configure_standby(new)
    old.start(timeout)
    old.wait_streaming(new, timeout)
    old.rejoin_seconds = time.monotonic() - t0
    return "rewind"


def rebuild_as_standby(old: PgNode, new: PgNode, timeout: float = 60) -> float:
    """Rejoin old as a standby of new the reliable way: throw its data
    directory away, pg_basebackup from new, start, wait for streaming."""
    t0 = time.monotonic()
    old.stop("fast")
    old.run_as_postgres(["rm", "-rf", "--", old.datadir])
    _basebackup(old, new)
    old.start(timeout)
    old.wait_streaming(new, timeout)
    return time.monotonic() - t0
