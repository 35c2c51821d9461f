"""sync_kills: the primary's whole server killed again and again under a
writer, with synchronous = off, on or strict (issue 11), counting the
acknowledged writes missing on the new primary each time. Used by
integration: pg_sync_kills and by bench/sync_loss.py (the loss table).

    r = run("on", kills=10)  # -> dict, see run()

One lab per call (a PgPair: pgvrrpd, the shipped hooks, auto_rejoin). The
writer commits through the VIP as fast as it can (back to back on at most
two kept sessions, 0.5 s to connect, 1 s for a commit) as an application
role, not a superuser. First a window without faults gives the commit
latency (median, p99). Then each kill, at a random moment (0.5-2 s after
the pair converged), takes the master's node whole (pgvrrpd SIGKILLed,
PostgreSQL killed, link down); once the other node's server acknowledges
writes through the VIP, every write acknowledged so far must be on it
(rows told apart by their note: ids repeat after a failover). The node
comes back (link up, pgvrrpd started: auto_rejoin rewinds it as a
standby) and the next kill waits for the pair to converge (one VIP holder,
the other streaming and caught up; with on and strict, the standby named
again). With strict the new primary waits for a standby until the old one
is back, so the killed node is brought back at once and the outage
includes the rejoin: strict's price.
"""
from __future__ import annotations

import random
import re
import signal
import statistics
import time

from chaos import Chaos
from netlab import Lab
from percentile import pct
from pg_pair import VIP, PgPair, Side
from processes import LabError, log, wait_until

GRACE = 2.0            # sync_grace: the lab's checks (0.1 s, 0.3 s) allow 1.2 s
LATENCY_WINDOW = 10.0  # seconds of writes without a fault
CONVERGE_TIMEOUT = 90.0
# As fast as it can: commits back to back on at most two sessions. More
# sessions, or a new one every 10 ms, turn every stall into a storm of
# connections that gave up: this machine's postmaster (a fork costs tens of
# ms) falls behind and stays behind long after the stall.
WRITER_INTERVAL = 0.002
MAX_SESSIONS = 2
SLOW_KILL = 5.0  # seconds of outage that get the logs printed
APP_ROLE_SQL = ("CREATE ROLE app LOGIN; GRANT SELECT, INSERT ON writes TO app; "
                "GRANT USAGE ON SEQUENCE writes_id_seq TO app")


def commit_latency(w, t0: float, t1: float) -> dict:
    took = [(r.end - r.start) * 1000 for r in w.results if r.ok and t0 <= r.start and r.end <= t1]
    if not took:
        raise LabError("no acknowledged write in the latency window")
    return {"commits": len(took), "median_ms": statistics.median(took),
            "p99_ms": pct(took, 99)}


def acked_notes(w) -> set[str]:
    return {r.note for r in w.results if r.ok}


def notes_on(pg) -> set[str]:
    """The writes' notes on a PgNode (unique, where ids repeat after a failover)."""
    return set(pg.psql("SELECT note FROM writes").splitlines())


def standby_names(pg) -> str:
    return pg.psql("SHOW synchronous_standby_names").strip()


def sync_steps(d) -> list[str]:
    """The forms a pgvrrpd applied, in order, from its log."""
    return re.findall(r"synchronous replication \((?:on|strict)\): (\w+)", d.log_text())


def add_app_role(pair: PgPair) -> None:
    """The role the writers connect as, as an application would: not a
    superuser, so that superuser_reserved_connections keeps room for
    pgvrrpd's checks and the rejoin hook while commits wait for a standby."""
    pair.p.psql(APP_ROLE_SQL)
    wait_until(lambda: pair.s.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'app'") == "1",
               10, 0.1, "the app role on the standby")


def named_again(pair: PgPair, master: Side) -> bool:
    return standby_names(master.pg).startswith("FIRST 1 (")


def kill_side(side: Side) -> None:
    """kill_n1_server, for either node."""
    side.daemon.kill(signal.SIGKILL)
    side.pg.kill()
    side.host.link_down()


def bring_back(side: Side) -> None:
    """The killed node's link back, rid first of the VIP its killed daemon
    left: up with it, the node would answer the client's ARP for the VIP
    and draw the writes to itself for as long as the client's cache lasts."""
    side.host.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)
    side.host.link_up()
    side.daemon.start()


def diagnosis(pair: PgPair, w) -> str:
    """What a kill that did not end in acknowledged writes left behind."""
    lines = [f"writer: {w.summary()}; last error: "
             f"{next((r.error for r in reversed(w.results) if not r.ok), '')[:200]}"]
    for side in pair.sides:
        lines.append(f"--- {side}: {side.daemon.state()}")
        try:
            lines.append(side.pg.psql("SELECT pg_is_in_recovery(), "
                                      "current_setting('synchronous_standby_names'), "
                                      "(SELECT string_agg(application_name || ' ' || state || ' ' "
                                      "|| sync_state, ', ') FROM pg_stat_replication)"))
        except LabError as e:
            lines.append(str(e).splitlines()[0])
            # A full server: what its processes say they do instead.
            titles = []
            for pid in side.pg.processes():
                try:
                    with open(f"/proc/{pid}/cmdline") as f:
                        titles.append(f.read().replace("\0", " ").strip())
                except OSError:
                    pass
            waiting = sum(1 for t in titles if " waiting for " in t)
            lines.append(f"{len(titles)} processes, {waiting} waiting for a standby; others: "
                         + "; ".join(t for t in titles if " waiting for " not in t)[:1500])
        cp = side.daemon.ctl("status", check=False)
        lines.append(cp.stdout[-1500:])
        lines.append(side.daemon.recent_log(25))
    return "\n".join(lines)


def run(mode: str, kills: int, seed: int = 1, latency_window: float = LATENCY_WINDOW) -> dict:
    """One mode's lab: the latency window, then `kills` kills. A dict:
    mode, kills_done, acked_total, lost_total, lost_per_kill, outage_s (per
    kill: the longest gap between acknowledged writes around it),
    median_ms, p99_ms, commits (in the latency window), errors."""
    rng = random.Random(seed)
    out = {"mode": mode, "kills_done": 0, "lost_total": 0, "lost_per_kill": [],
           "outage_s": [], "errors": []}
    with Lab(f"sync_loss_{mode}") as lab:
        pair = PgPair(lab)
        for d in (pair.d1, pair.d2):
            d.routers["pg"].update(synchronous=mode, sync_grace=GRACE)
        pair.start()
        chaos = Chaos(pair, None, rng)
        if mode != "off":
            wait_until(lambda: named_again(pair, pair.sides[0]), 15, 0.1, "n1 naming n2")
        # As an application connects: a role of its own, not a superuser.
        # Commits that wait for a standby hold their sessions, and the
        # writer gives up on an attempt after 1 s and opens another: the
        # server fills up. superuser_reserved_connections (3) then keeps
        # room for pgvrrpd's checks and the rejoin hook (pg_rewind), which
        # end the wait; a superuser writer would take those too.
        add_app_role(pair)
        w = pair.writer(fast=True, keep=True, interval=WRITER_INTERVAL,
                        max_inflight=MAX_SESSIONS, user="app")
        t0 = time.monotonic()
        time.sleep(latency_window)
        out.update(commit_latency(w, t0, time.monotonic()))
        log(f"{mode}: commit latency median {out['median_ms']:.2f} ms, p99 {out['p99_ms']:.2f} ms "
            f"over {out['commits']} commits")
        lost_so_far: set[str] = set()
        for k in range(kills):
            master = next(s for s in pair.sides if s.daemon.state() == "MASTER")
            other = pair.sides[1 - pair.sides.index(master)]
            time.sleep(rng.uniform(0.5, 2.0))
            t_kill = time.monotonic()
            kill_side(master)
            try:
                other.daemon.wait_state("MASTER", 10)
                if mode == "strict":
                    # The new primary's commits wait for a standby: this one.
                    bring_back(master)
                w.wait_acknowledged(3, timeout=60, server=other.host.short)
            except LabError as e:
                out["errors"].append(f"kill {k + 1}: {str(e).splitlines()[0][:200]}")
                log(f"{mode}: {out['errors'][-1]}\n{diagnosis(pair, w)}")
                break
            missing = acked_notes(w) - notes_on(other.pg)
            lost = missing - lost_so_far
            lost_so_far |= missing
            out["lost_per_kill"].append(len(lost))
            out["outage_s"].append(pair.write_outage(w, t_kill))
            out["kills_done"] += 1
            log(f"{mode}: kill {k + 1}/{kills} of {master}: {len(lost)} acknowledged writes lost, "
                f"outage {out['outage_s'][-1]:.3f} s")
            if out["outage_s"][-1] > SLOW_KILL:
                log(f"{mode}: a slow one: {diagnosis(pair, w)}")
            if mode != "strict":
                bring_back(master)
            took, why = chaos.wait_converged(CONVERGE_TIMEOUT)
            if why is None and mode != "off":
                try:
                    wait_until(lambda: named_again(pair, other), 15, 0.1,
                               f"{other} naming its standby")
                except LabError as e:
                    why = str(e).splitlines()[0]
            if why is not None:
                out["errors"].append(f"after kill {k + 1}: not converged: {why}")
                log(f"{mode}: {out['errors'][-1]}")
                break
        w.stop()
        out["acked_total"] = len(acked_notes(w))
        out["lost_total"] = sum(out["lost_per_kill"])
    return out
